// What the state directory holds, and what of it may go. Removable is only what no record needs and
// no unfinished run can resume from:
// - downloads in the cache that no record (on main or in an open pull request) pins by sha256;
// - cube folders laid out for a record that no longer pins them (an older version, a cube gone);
// - predictions of an execution whose result the registry holds already (the result stays);
// - prepared datasets whose record is neither registered nor in an open pull request;
// - what interrupted tasks of processes no longer running left behind (partial, staging folders);
// - finished compatibility tests, and task logs older than a number of days.
// Kept always: local results, unfinished executions (predictions without a result), a rerun in
// progress, cluster jobs, the local registry and its clones, the profile.
import { lstat, readdir, rm, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Forge } from '../registry/forge/forge.ts';
import { parseRecordPath } from '../registry/layout.ts';
import { createView } from '../registry/load.ts';
import { closeTree } from '../registry/trees.ts';
import { cubeFolder } from './cube/materialize.ts';
import { outgoingResults } from './main-branch.ts';
import { listLocalResults } from './results.ts';
import { processAlive, statePaths } from './state.ts';

export const AREAS = [
  ['cache', 'downloads (content addressed, checked on every use)'],
  ['cubes', 'cube folders laid out from their records'],
  ['datasets', 'prepared datasets'],
  ['predictions', 'predictions of model executions'],
  ['results', 'local results'],
  ['tests', 'compatibility tests'],
  ['logs', 'task logs'],
  ['jobs', 'cluster jobs'],
  ['forge', 'the local registry'],
  ['clones', 'registry clones'],
] as const;

export type Area = (typeof AREAS)[number][0];

export interface AreaUsage {
  area: Area;
  what: string;
  path: string;
  bytes: number;
  files: number;
}

/** Bytes and files under a path (symbolic links count as themselves, never followed). */
export async function sizeOf(path: string): Promise<{ bytes: number; files: number }> {
  const s = await lstat(path).catch(() => undefined);
  if (!s) return { bytes: 0, files: 0 };
  if (!s.isDirectory()) return { bytes: s.size, files: 1 };
  let bytes = 0;
  let files = 0;
  for (const entry of await readdir(path).catch(() => [] as string[])) {
    const sub = await sizeOf(join(path, entry));
    bytes += sub.bytes;
    files += sub.files;
  }
  return { bytes, files };
}

export async function storageUsage(stateDir: string): Promise<AreaUsage[]> {
  const root = statePaths(stateDir).root;
  const out: AreaUsage[] = [];
  for (const [area, what] of AREAS) {
    const path = join(root, area);
    out.push({ area, what, path, ...(await sizeOf(path)) });
  }
  return out;
}

/** What the registry's records need kept, gathered by the caller from main and the open pull requests. */
export interface Needs {
  /** Every sha256 a record pins (cube assets, image tarballs, demo datasets). */
  sha256: Set<string>;
  /** Cube folders of the records as they are now (materialize.ts's cubeFolder). */
  cubeFolders: Set<string>;
  /** Datasets registered or in an open pull request. */
  datasets: Set<string>;
  /** Execution keys whose result the registry holds. */
  registeredExecutions: Set<string>;
}

/** What the records on main and in every open pull request need kept. */
export async function gatherNeeds(forge: Forge, stateDir: string): Promise<Needs> {
  const needs: Needs = { sha256: new Set(), cubeFolders: new Set(), datasets: new Set(), registeredExecutions: new Set() };
  const open = await forge.listPulls({ state: 'open' });
  const trees = [await forge.main(), ...(await Promise.all(open.map((pull) => forge.pullTree(pull.number))))];
  try {
    for (const [i, tree] of trees.entries()) {
      const view = createView(tree);
      for (const path of await tree.list('')) {
        const where = parseRecordPath(path);
        if (where?.kind === 'cube') {
          const record = (await view.cube(where.id))?.data;
          if (!record) continue;
          for (const asset of [record.mlcube, record.container_config, record.parameters, record.additional_files, record.image.tarball]) if (asset) needs.sha256.add(asset.sha256);
          // A private model's files decrypted here: kept, so a rerun does not decrypt them again.
          if (record.private) needs.sha256.add(record.private.additional_files_sha256);
          needs.cubeFolders.add(cubeFolder(stateDir, where.id, record));
        } else if (where?.kind === 'benchmark') {
          const record = (await view.benchmark(where.benchmark))?.data;
          if (record) needs.sha256.add(record.demo_dataset.sha256);
        } else if (where?.kind === 'dataset') needs.datasets.add(where.id);
      }
      // Results count once merged: main is the first tree.
      if (i === 0) for (const result of (await outgoingResults(view, await listLocalResults(stateDir), undefined)).alreadyRegistered) needs.registeredExecutions.add(result.key);
    }
  } finally {
    for (const tree of trees) await closeTree(tree);
  }
  return needs;
}

export interface Removable {
  area: Area;
  path: string;
  bytes: number;
  reason: string;
}

export interface CleanupOptions {
  /** Logs older than this many days go; default 30. */
  logsDays?: number;
  now?: number;
  /** Whether a process is running (leftovers of running ones are kept). */
  alive?: (pid: number) => boolean;
}

/** The process an interrupted task's folder belongs to, from its name; undefined for other folders. */
export function leftoverOf(name: string): number | undefined {
  const m = /\.partial-(\d+)-\d+$|\.old-(\d+)(?:-\d+)?$|\.(\d+)\.(?:staging|damaged|extracting)$|^\.import-(\d+)-\d+$|^\..+\.partial-(\d+)$|^\.download\.(\d+)\.\d+\.[0-9a-z]*\.partial$/.exec(name);
  const pid = m?.slice(1).find(Boolean);
  return pid ? Number(pid) : undefined;
}

async function children(path: string): Promise<string[]> {
  return (await readdir(path, { withFileTypes: true }).catch(() => [])).filter((e) => e.isDirectory()).map((e) => e.name).sort();
}

/** Folders `depth` levels under `root`, as paths. */
async function foldersAt(root: string, depth: number): Promise<string[]> {
  let level = [root];
  for (let i = 0; i < depth; i++) {
    const next: string[] = [];
    for (const dir of level) for (const name of await children(dir)) next.push(join(dir, name));
    level = next;
  }
  return level;
}

/** Leftovers of interrupted tasks anywhere under `root` (folders only, a few levels deep). */
async function leftovers(root: string, alive: (pid: number) => boolean, maxDepth = 8): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    for (const name of await children(dir)) {
      const pid = leftoverOf(name);
      if (pid !== undefined) {
        if (!alive(pid)) out.push(join(dir, name));
      } else if (depth < maxDepth) await walk(join(dir, name), depth + 1);
    }
  };
  await walk(root, 0);
  return out;
}

/** Everything that may be removed, with its size and why; nothing is removed here. */
export async function removable(stateDir: string, needs: Needs, options: CleanupOptions = {}): Promise<Removable[]> {
  const p = statePaths(stateDir);
  const alive = options.alive ?? processAlive;
  const now = options.now ?? Date.now();
  const out: Removable[] = [];
  const add = async (area: Area, path: string, reason: string) => out.push({ area, path, reason, bytes: (await sizeOf(path)).bytes });

  const cached = join(p.cache, 'sha256');
  for (const entry of (await readdir(cached).catch(() => [] as string[])).sort()) {
    if (/^[0-9a-f]{64}$/.test(entry) && !needs.sha256.has(entry)) await add('cache', join(cached, entry), 'no record pins this sha256');
    else if (leftoverOf(entry) !== undefined && !alive(leftoverOf(entry)!)) await add('cache', join(cached, entry), 'an interrupted download');
  }
  for (const folder of await foldersAt(p.cubes, 3)) {
    if (leftoverOf(folder.split('/').pop()!) !== undefined) continue;
    if (!needs.cubeFolders.has(folder)) await add('cubes', folder, 'no record pins this version of the cube');
  }
  for (const folder of await foldersAt(p.datasets, 2)) {
    const id = relative(p.datasets, folder);
    if (leftoverOf(folder.split('/').pop()!) !== undefined || id.split('/').some((part) => part.startsWith('.'))) continue;
    if (!needs.datasets.has(id)) await add('datasets', folder, 'neither registered nor in an open pull request');
  }
  // predictions/<benchmark>/<data owner>/<dataset>/<model owner>/<model>/<execution key>
  for (const folder of await foldersAt(p.predictions, 6)) {
    const key = folder.split('/').pop()!;
    if (needs.registeredExecutions.has(key)) await add('predictions', folder, 'its result is in the registry');
  }
  // A compatibility test is finished once its evaluation is; an unfinished one can resume.
  for (const folder of await foldersAt(join(p.root, 'tests'), 1)) {
    if (folder.endsWith('run-test') || (await stat(join(folder, 'results')).catch(() => undefined))) await add('tests', folder, folder.endsWith('run-test') ? 'bookkeeping of mlcube run-test' : 'a finished compatibility test');
  }
  for (const area of ['cubes', 'datasets', 'predictions', 'tests'] as const) {
    for (const folder of await leftovers(join(p.root, area), alive)) await add(area, folder, 'left by an interrupted task');
  }
  const days = options.logsDays ?? 30;
  for (const entry of (await readdir(p.logs).catch(() => [] as string[])).sort()) {
    const s = await stat(join(p.logs, entry)).catch(() => undefined);
    if (s?.isFile() && now - s.mtimeMs > days * 86_400_000) await add('logs', join(p.logs, entry), `older than ${days} days`);
  }
  // A folder inside one already listed goes with it.
  const sorted = out.sort((a, b) => a.path.localeCompare(b.path));
  return sorted.filter((r, i) => !sorted.slice(0, i).some((o) => r.path.startsWith(o.path + '/')));
}

/** Removes what `removable` listed; returns the bytes freed. */
export async function removeAll(items: Removable[]): Promise<number> {
  let freed = 0;
  for (const item of items) {
    await rm(item.path, { recursive: true, force: true });
    freed += item.bytes;
  }
  return freed;
}
