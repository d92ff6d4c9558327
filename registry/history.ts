// How each benchmark's leaderboard changed, from the registry's Git history: main's first-parent
// commits (each one a merged pull request on the forge, at its merge time) are replayed in order,
// and after every commit that touches a benchmark's results or associations its leaderboard is
// computed again, under today's benchmark record, so the history publishes no more than today's
// results policy allows (publication() decides what a history point may hold).
import { createHash } from 'node:crypto';
import { computeLeaderboard, type HistoryPoint, type Leaderboard, type LeaderboardInput } from './leaderboard.ts';
import { git } from './forge/git.ts';
import { parseRecordPath } from './layout.ts';
import { loadRecord } from './load.ts';
import { publication } from './publication.ts';
import type { ResultRecord } from './records.ts';
import { MAX_RECORD_BYTES } from './yaml.ts';

/** Points kept per benchmark: the latest ones (a chart of more would not be read). */
export const MAX_HISTORY_POINTS = 200;

/** One history point from a leaderboard computed at a commit, holding what the policy publishes. */
export function historyPoint(
  board: Leaderboard,
  at: string,
  commit: string,
  changed: Array<{ model: string; dataset: string; version: number }>,
): HistoryPoint {
  const ranked = board.rows.filter((r) => r.rank !== null && r.primary !== null);
  const point: HistoryPoint = { at, commit, counts: { ...board.counts }, ranked: ranked.length };
  if (publication(board.publish).history === 'rankings') {
    point.rows = ranked.map((r) => ({ model: r.model, rank: r.rank!, primary: r.primary! }));
    point.results = [...changed].sort((a, b) => (a.model < b.model ? -1 : a.model > b.model ? 1 : a.dataset < b.dataset ? -1 : a.dataset > b.dataset ? 1 : 0));
  }
  return point;
}

/** Whether a point shows anything the previous one did not. */
function differs(a: HistoryPoint | undefined, b: HistoryPoint): boolean {
  if (!a) return true;
  const strip = (p: HistoryPoint) => JSON.stringify([p.counts, p.ranked, p.rows, p.results?.length ? p.results : undefined]);
  return strip(a) !== strip(b);
}

interface Change {
  path: string;
  blob: string | null;
  /** Where the path is in the layout, and the result it wrote when it is one of `known`: read once. */
  where?: ReturnType<typeof parseRecordPath>;
  seen?: ResultRecord;
}

interface Commit {
  sha: string;
  at: string;
  changes: Change[];
}

/** main's first-parent commits touching `benchmarks/`, oldest first, with the blobs they wrote. */
async function commitsOf(repoDir: string, rev: string, prefix: string): Promise<Commit[]> {
  const out = await git(
    ['log', '--first-parent', '--diff-merges=first-parent', '--reverse', '--no-renames', '--raw', '--no-abbrev', '-z', '--format=%x01%H %cI', rev, '--', `:(top)${prefix}benchmarks/`],
    { cwd: repoDir },
  );
  const tokens = out.stdout.toString('utf8').split('\0');
  const commits: Commit[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!.replace(/^\n/, '');
    if (token.startsWith('\x01')) {
      const [sha, date] = token.slice(1).split(' ');
      commits.push({ sha: sha!, at: new Date(date!).toISOString(), changes: [] });
    } else if (token.startsWith(':')) {
      const meta = token.split(' ');
      const path = tokens[++i] ?? '';
      const status = meta[4] ?? '';
      const blob = status.startsWith('D') ? null : (meta[3] ?? null);
      if (path.startsWith(prefix)) commits.at(-1)?.changes.push({ path: path.slice(prefix.length), blob });
    }
  }
  return commits;
}

/** The contents of blobs, read in one `git cat-file --batch`; blobs over the record limit are left out. */
async function readBlobs(repoDir: string, blobs: string[]): Promise<Map<string, Buffer>> {
  const found = new Map<string, Buffer>();
  if (blobs.length === 0) return found;
  const out = (await git(['cat-file', '--batch'], { cwd: repoDir, input: blobs.join('\n') + '\n' })).stdout;
  let at = 0;
  while (at < out.length) {
    const eol = out.indexOf(0x0a, at);
    if (eol < 0) break;
    const [sha, type, size] = out.subarray(at, eol).toString('utf8').split(' ');
    if (type === 'missing' || size === undefined) {
      at = eol + 1;
      continue;
    }
    const length = Number(size);
    if (type === 'blob' && length <= MAX_RECORD_BYTES) found.set(sha!, out.subarray(eol + 1, eol + 1 + length));
    at = eol + 1 + length + 1;
  }
  return found;
}

/** The hash function of a repository's object ids: sha1, or sha256 in a SHA-256 repository. */
export async function objectFormat(repoDir: string): Promise<'sha1' | 'sha256'> {
  const out = (await git(['rev-parse', '--show-object-format'], { cwd: repoDir })).stdout.toString('utf8').trim();
  return out === 'sha256' ? 'sha256' : 'sha1';
}

/** The id Git gives a blob of these bytes (`git hash-object`). */
export function gitBlobId(bytes: Buffer, format: 'sha1' | 'sha256'): string {
  return createHash(format).update(`blob ${bytes.length}\0`).update(bytes).digest('hex');
}

/** Whether a folder is a Git checkout or repository; its path prefix inside the repository when it is. */
export async function gitPrefix(dir: string): Promise<string | undefined> {
  try {
    const out = await git(['rev-parse', '--show-prefix'], { cwd: dir });
    return out.stdout.toString('utf8').trim();
  } catch {
    return undefined;
  }
}

interface Replay {
  results: Map<string, LeaderboardInput['results'][number]>;
  models: Set<string>;
  datasets: Set<string>;
  points: HistoryPoint[];
}

/**
 * Each benchmark's history, for the benchmarks of `current` (today's inputs, whose benchmark
 * records and names every point is computed with). `repoDir` is a repository or checkout, `rev`
 * the branch published; a registry in a subfolder of the repository has its prefix given.
 * `known`: results already read and validated (today's), by `<blob id> <path>`: a commit that wrote
 * those bytes at that path is replayed with them instead of reading and parsing the blob again.
 * `today`: today's leaderboards, computed from all of `known`: a commit after which a benchmark
 * holds exactly today's results and associations has today's leaderboard, not computed again.
 */
export async function leaderboardHistory(
  repoDir: string,
  rev: string,
  current: LeaderboardInput[],
  prefix = '',
  known: ReadonlyMap<string, ResultRecord> = new Map(),
  today: ReadonlyMap<string, { board: Leaderboard; results: number }> = new Map(),
): Promise<Map<string, HistoryPoint[]>> {
  const knownRecords = new Set(known.values());
  const sameSet = (a: Set<string>, b: string[]) => a.size === new Set(b).size && b.every((x) => a.has(x));
  const inputs = new Map(current.map((i) => [i.benchmark, i]));
  const commits = await commitsOf(repoDir, rev, prefix);
  const wanted = new Set<string>();
  for (const c of commits) {
    for (const change of c.changes) {
      const where = (change.where = parseRecordPath(change.path));
      if (!change.blob || where?.kind !== 'result' || !inputs.has(where.benchmark)) continue;
      change.seen = known.get(`${change.blob} ${change.path}`);
      if (!change.seen) wanted.add(change.blob);
    }
  }
  const blobs = await readBlobs(repoDir, [...wanted]);
  const replays = new Map<string, Replay>();
  for (const benchmark of inputs.keys()) replays.set(benchmark, { results: new Map(), models: new Set(), datasets: new Set(), points: [] });

  for (const commit of commits) {
    const touched = new Map<string, Array<{ model: string; dataset: string; version: number }>>();
    for (const change of commit.changes) {
      const where = change.where;
      if (!where || !('benchmark' in where)) continue;
      const replay = replays.get(where.benchmark);
      if (!replay) continue;
      let changed = touched.get(where.benchmark);
      if (!changed) touched.set(where.benchmark, (changed = []));
      if (where.kind === 'model-association') {
        if (change.blob) replay.models.add(where.model);
        else replay.models.delete(where.model);
      } else if (where.kind === 'dataset-association') {
        if (change.blob) replay.datasets.add(where.dataset);
        else replay.datasets.delete(where.dataset);
      } else if (where.kind === 'result') {
        const seen = change.seen;
        const bytes = change.blob && !seen ? blobs.get(change.blob) : undefined;
        const loaded = bytes ? loadRecord(change.path, bytes).record : undefined;
        const record = seen ?? (loaded?.where.kind === 'result' ? (loaded.data as ResultRecord) : undefined);
        if (record) {
          replay.results.set(change.path, { model: where.model, dataset: where.dataset, record });
          changed.push({ model: where.model, dataset: where.dataset, version: record.version });
        } else {
          replay.results.delete(change.path);
        }
      }
    }
    for (const [benchmark, changed] of touched) {
      const input = inputs.get(benchmark)!;
      const replay = replays.get(benchmark)!;
      const results = [...replay.results.values()];
      const current = today.get(benchmark);
      const isToday =
        current !== undefined && results.length === current.results && results.every((r) => knownRecords.has(r.record)) && input.models !== undefined && input.datasets !== undefined && sameSet(replay.models, input.models) && sameSet(replay.datasets, input.datasets);
      const board = isToday ? current.board : computeLeaderboard({ ...input, results, models: [...replay.models], datasets: [...replay.datasets] });
      const point = historyPoint(board, commit.at, commit.sha, changed);
      if (differs(replay.points.at(-1), point)) replay.points.push(point);
    }
  }
  const out = new Map<string, HistoryPoint[]>();
  for (const [benchmark, replay] of replays) out.set(benchmark, replay.points.slice(-MAX_HISTORY_POINTS));
  return out;
}
