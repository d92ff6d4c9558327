// layout: nothing outside the registry layout (registry/layout.ts) except the repository's own
// documentation and automation; no binary or oversized file anywhere; a result's benchmark, model
// and dataset fields say what its path says.
import type { Finding } from '../findings.ts';
import { caseKey, isAuxiliaryPath } from '../layout.ts';
import { loadThrough } from '../load.ts';
import { entryKind, folderNames, readLimited, type EntryKind } from '../trees.ts';
import type { FileTree, Rule } from '../view.ts';
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

/**
 * The names of each folder of a tree that share a case-folded form with another name in the same
 * folder (folded name -> its spellings), read once per folder and tree. Nearly every folder has
 * none, so a path is checked with one map lookup per folder it sits in.
 */
const clashesByTree = new WeakMap<FileTree, Map<string, Map<string, string[]> | Promise<Map<string, string[]>>>>();

function folderClashes(tree: FileTree, folder: string): Map<string, string[]> | Promise<Map<string, string[]>> {
  let byFolder = clashesByTree.get(tree);
  if (!byFolder) clashesByTree.set(tree, (byFolder = new Map()));
  let clashes = byFolder.get(folder);
  if (!clashes) {
    const pending = folderNames(tree, folder).then((names) => {
      const spellings = new Map<string, string[]>();
      for (const name of names) {
        const key = caseKey(name);
        const same = spellings.get(key);
        if (same) same.push(name);
        else spellings.set(key, [name]);
      }
      const out = new Map([...spellings].filter(([, same]) => same.length > 1));
      byFolder.set(folder, out);
      return out;
    });
    byFolder.set(folder, pending);
    clashes = pending;
  }
  return clashes;
}

/**
 * Two names that differ only by case, anywhere along a path: `mlcubes/Model-Owner/x.yaml` beside
 * `mlcubes/model-owner/y.yaml`. Logins and names are case-insensitive, and where file names are
 * (macOS, Windows) the two are one folder: one spelling is kept, the first clash along the path is
 * reported.
 */
export async function caseClash(tree: FileTree, path: string): Promise<Finding | undefined> {
  let start = 0;
  for (;;) {
    const slash = path.indexOf('/', start);
    const folder = start ? path.slice(0, start - 1) : '';
    let clashes = folderClashes(tree, folder);
    if (clashes instanceof Promise) clashes = await clashes;
    if (clashes.size) {
      const name = slash < 0 ? path.slice(start) : path.slice(start, slash);
      const others = clashes.get(caseKey(name))?.filter((n) => n !== name);
      if (others?.length) {
        const at = (n: string) => (folder ? `${folder}/${n}` : n);
        return {
          path,
          line: 1,
          column: 1,
          rule: 'layout',
          message:
            `${at(name)} differs only by case from ${others.map(at).join(' and ')}: logins and names are case-insensitive, so both name one ` +
            `${slash < 0 ? 'file' : 'folder'} (and are one on macOS and Windows); keep one spelling and move or remove the other`,
        };
      }
    }
    if (slash < 0) return undefined;
    start = slash + 1;
  }
}

export const rule: Rule = {
  id: 'layout',
  async check(ctx) {
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      const kind = await entryKind(ctx.head.tree, path);
      if (kind) {
        const clash = await caseClash(ctx.head.tree, path);
        if (clash) out.push(clash);
      }
      // A path that is there but is not a regular file is never read.
      if (kind && kind !== 'file') {
        out.push({ path, line: 1, column: 1, rule: 'layout', message: NOT_A_FILE[kind] });
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
