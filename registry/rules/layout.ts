// layout: nothing outside the registry layout (registry/layout.ts) except the repository's own
// documentation and automation; no binary or oversized file anywhere; a result's benchmark, model
// and dataset fields say what its path says.
import type { Finding } from '../findings.ts';
import { caseKey, isAuxiliaryPath } from '../layout.ts';
import { loadThrough } from '../load.ts';
import { entryKind, folderNames, readLimited, type EntryKind, type RegistryTree } from '../trees.ts';
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
const NO_CAPITALS = /^[\x20-\x40\x5b-\x7e]*$/;
const NONE: Map<string, string[]> = new Map();

const clashesByTree = new WeakMap<FileTree, Map<string, FolderClashes>>();

function folderClashes(
  tree: FileTree,
  byFolder: Map<string, FolderClashes>,
  folder: string,
): FolderClashes {
  let clashes = byFolder.get(folder);
  if (!clashes) {
    const pending = folderNames(tree, folder).then((names) => {
      const spellings = new Map<string, string[]>();
      // Names of ASCII without capitals (nearly every folder) are their own folded form: distinct already.
      if (names.every((n) => NO_CAPITALS.test(n))) {
        byFolder.set(folder, NONE);
        return NONE;
      }
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

/** A name along a path that another spelling shares, as a message says it. */
interface Clash {
  /** The clashing name's own path (a folder or the file). */
  at: string;
  others: string[];
  folder: boolean;
}

/** The first clash among the names of a folder's own path (its ancestors and itself), or null. */
async function folderPathClash(tree: FileTree, byFolder: Map<string, FolderClashes>, folder: string): Promise<Clash | null> {
  if (!folder) return null;
  const slash = folder.lastIndexOf('/');
  const parent = slash < 0 ? '' : folder.slice(0, slash);
  const above = await chainClash(tree, byFolder, parent);
  if (above) return above;
  return nameClash(await folderClashes(tree, byFolder, parent), parent, folder.slice(slash + 1), true);
}

type FolderClashes = Map<string, string[]> | Promise<Map<string, string[]>>;

function nameClash(clashes: Map<string, string[]>, folder: string, name: string, isFolder: boolean): Clash | null {
  if (!clashes.size) return null;
  const others = clashes.get(caseKey(name))?.filter((n) => n !== name);
  if (!others?.length) return null;
  const at = (n: string) => (folder ? `${folder}/${n}` : n);
  return { at: at(name), others: others.map(at), folder: isFolder };
}

/** Per tree: each folder's path clash, computed once; the last folder asked is kept at hand (paths come sorted). */
interface CaseState {
  /** The whole tree is listed and no folder of it holds two spellings of a name: nothing to look up. */
  clashFree?: boolean;
  byFolder: Map<string, FolderClashes>;
  chains: Map<string, Promise<Clash | null>>;
  last?: { folder: string; chain: Clash | null; clashes: Map<string, string[]> };
}
const states = new WeakMap<FileTree, CaseState>();

function chainClash(tree: FileTree, byFolder: Map<string, FolderClashes>, folder: string): Promise<Clash | null> {
  const state = stateOf(tree);
  let clash = state.chains.get(folder);
  if (!clash) state.chains.set(folder, (clash = folderPathClash(tree, byFolder, folder)));
  return clash;
}

function stateOf(tree: FileTree): CaseState {
  let state = states.get(tree);
  if (!state) {
    let byFolder = clashesByTree.get(tree);
    if (!byFolder) clashesByTree.set(tree, (byFolder = new Map()));
    states.set(tree, (state = { byFolder, chains: new Map() }));
  }
  if (state.clashFree === undefined) {
    const all = (tree as Partial<RegistryTree>).allNames?.();
    if (all) state.clashFree = [...all.values()].every((names) => names.every((n) => NO_CAPITALS.test(n)) || new Set(names.map(caseKey)).size === names.length);
  }
  return state;
}

function clashFinding(path: string, clash: Clash | null): Finding | undefined {
  if (!clash) return undefined;
  return {
    path,
    line: 1,
    column: 1,
    rule: 'layout',
    message:
      `${clash.at} differs only by case from ${clash.others.join(' and ')}: logins and names are case-insensitive, so both name one ` +
      `${clash.folder ? 'folder' : 'file'} (and are one on macOS and Windows); keep one spelling and move or remove the other`,
  };
}

/**
 * Two names that differ only by case, anywhere along a path: `mlcubes/Model-Owner/x.yaml` beside
 * `mlcubes/model-owner/y.yaml`. Logins and names are case-insensitive, and where file names are
 * (macOS, Windows) the two are one folder: one spelling is kept, the first clash along the path is
 * reported. Answers at once when the path's folder was the last one asked about.
 */
export function caseClash(tree: FileTree, path: string): Finding | undefined | Promise<Finding | undefined> {
  const state = stateOf(tree);
  if (state.clashFree) return undefined;
  const slash = path.lastIndexOf('/');
  const folder = slash < 0 ? '' : path.slice(0, slash);
  const name = path.slice(slash + 1);
  const last = state.last;
  if (last && last.folder === folder) return clashFinding(path, last.chain ?? nameClash(last.clashes, folder, name, false));
  return (async () => {
    const chain = await chainClash(tree, state.byFolder, folder);
    const clashes = await (state.byFolder.get(folder) ?? folderClashes(tree, state.byFolder, folder));
    state.last = { folder, chain, clashes };
    return clashFinding(path, chain ?? nameClash(clashes, folder, name, false));
  })();
}

export const rule: Rule = {
  id: 'layout',
  async check(ctx) {
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      const kind = await entryKind(ctx.head.tree, path);
      if (kind) {
        let clash = caseClash(ctx.head.tree, path);
        if (clash instanceof Promise) clash = await clash;
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
