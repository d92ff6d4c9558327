// layout: nothing outside the registry layout (registry/layout.ts) except the repository's own
// documentation and automation; no binary or oversized file anywhere; a result's benchmark, model
// and dataset fields say what its path says.
import type { Finding } from '../findings.ts';
import { isAuxiliaryPath } from '../layout.ts';
import { loadThrough } from '../load.ts';
import { entryKind, readLimited, type EntryKind } from '../trees.ts';
import type { Rule } from '../view.ts';
import { decodeText, MAX_RECORD_BYTES } from '../yaml.ts';

const UNREADABLE = 'file cannot be read as a regular file: symbolic links and special files are not allowed in a registry';

/** What to say of a tree entry that is not a regular file; every such entry is refused. */
const NOT_A_FILE: Record<Exclude<EntryKind, 'file'>, string> = {
  symlink: 'a symbolic link: registry files are regular files, never links (a link is not followed); commit the file itself or remove the link',
  submodule: 'a submodule (gitlink): a registry holds no other repositories; remove it with `git rm --cached` and its entry in .gitmodules',
  folder: 'a folder (a submodule or another repository) where git tracks a single entry: a registry holds no other repositories; remove it with `git rm --cached`',
  special: 'file cannot be read as a regular file: symbolic links and special files are not allowed in a registry',
  undecodable:
    'file name is not valid UTF-8 (its bytes are shown as \\xNN): no rule can read a file by such a name, and registry names are lower-case ASCII; rename or remove it',
};

/** A finding for a changed path that is there but is not a regular file. */
async function entryFinding(tree: import('../view.ts').FileTree, path: string): Promise<Finding | undefined> {
  const kind = await entryKind(tree, path);
  if (!kind || kind === 'file') return undefined;
  return { path, line: 1, column: 1, rule: 'layout', message: NOT_A_FILE[kind] };
}

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
      const notAFile = await entryFinding(ctx.head.tree, path);
      if (notAFile) {
        out.push(notAFile);
        continue;
      }
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
