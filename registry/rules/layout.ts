// layout: nothing outside the registry layout (registry/layout.ts) except the repository's own
// documentation and automation; no binary or oversized file anywhere; a result's benchmark, model
// and dataset fields say what its path says.
import type { Finding } from '../findings.ts';
import { isAuxiliaryPath } from '../layout.ts';
import { loadThrough } from '../load.ts';
import { readLimited } from '../trees.ts';
import type { Rule } from '../view.ts';
import { decodeText, MAX_RECORD_BYTES } from '../yaml.ts';

const UNREADABLE = 'file cannot be read as a regular file: symbolic links and special files are not allowed in a registry';

async function auxiliaryFindings(tree: import('../view.ts').FileTree, path: string): Promise<Finding[]> {
  const read = await readLimited(tree, path, MAX_RECORD_BYTES);
  if (!read) return (await tree.has(path)) ? [{ path, line: 1, column: 1, rule: 'layout', message: UNREADABLE }] : [];
  if (!read.bytes) {
    return [{ path, line: 1, column: 1, rule: 'layout', message: `file is ${read.size} bytes; registry files may be at most ${MAX_RECORD_BYTES} bytes (1 MiB)` }];
  }
  if (read.bytes.indexOf(0) >= 0) {
    const [f] = decodeText(path, read.bytes).findings;
    return [{ ...f!, rule: 'layout' }];
  }
  return [];
}

export const rule: Rule = {
  id: 'layout',
  async check(ctx) {
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      if (isAuxiliaryPath(path)) {
        out.push(...(await auxiliaryFindings(ctx.head.tree, path)));
        continue;
      }
      // Outside-layout and result-path findings come from loading the file; a deleted file loads
      // with no finding, and is the other rules' business.
      const { record, findings } = await loadThrough(ctx.head, path);
      for (const f of findings) if (f.rule === 'layout') out.push(f);
      // Listed but not readable: a symbolic link (never followed) or a special file.
      if (!record && findings.length === 0 && (await ctx.head.tree.has(path))) {
        out.push({ path, line: 1, column: 1, rule: 'layout', message: UNREADABLE });
      }
    }
    return out;
  },
};
