// Builds the leaderboard site of a registry folder into an output folder: the composition the
// `site build` command and the Action's site mode share. computeLeaderboard decides what is
// published and buildSite renders it; this reads the records and writes the files.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { NotFoundError, MedperfError } from '../errors.ts';
import { gitBlobId, gitPrefix, leaderboardHistory, objectFormat } from '../history.ts';
import { computeLeaderboard, leaderboardInputs, type Leaderboard, type LeaderboardInput } from '../leaderboard.ts';
import { readByCommittee } from '../envelope.ts';
import { paths } from '../layout.ts';
import { createView } from '../load.ts';
import { readResult } from '../sealed-check.ts';
import { buildSite, type SiteFiles } from './index.ts';
import { closeTree, directoryTree } from '../trees.ts';
import type { FileTree, RegistryView } from '../view.ts';
import type { ResultRecord } from '../records.ts';

/** Marks a folder as a site medperf-git built, so a rebuild may replace it. */
export const SITE_MARKER = '.medperf-git-site';

export interface BuildSiteOptions {
  /** The registry folder. */
  dir: string;
  /** Where the site goes; replaced when it holds a previous build. */
  out: string;
  /** The registry on GitHub ("https://github.com/org/registry"): record links point there. */
  repoUrl?: string;
  /** The branch or commit record links name (with repoUrl). */
  ref?: string;
  generatedAt?: string;
  /**
   * Where the registry's history is read: a repository (or checkout) and the branch the site
   * publishes, with the registry's folder inside it. Default: `dir` when it is a Git checkout;
   * false: no history.
   */
  history?: { repoDir: string; rev: string; prefix?: string } | false;
  /**
   * Who reads committee-only results: the site key (the Action's site mode) or a committee
   * member's identity. Results none of them opens are left out of the site.
   */
  identities?: string[];
  /**
   * Every benchmark whose results are read by its committee only is shown per dataset: the
   * committee's own view, built on their machine and never deployed.
   */
  privateView?: boolean;
}

/** What the site could not open, to say so. */
export interface LeftOut {
  benchmark: string;
  path: string;
  why: string;
}

export interface BuiltSite {
  out: string;
  files: SiteFiles;
  boards: Leaderboard[];
  /** Committee-only results left out: no identity opens them, or they were refused. */
  leftOut: LeftOut[];
}

/**
 * A benchmark's leaderboard input as its readers may see it: committee-only results opened with
 * `identities` (the rest left out), and, for the committee's private view, published per dataset.
 * What the public site publishes of them is then decided by the policy, as for clear results.
 */
async function readableInput(view: RegistryView, input: LeaderboardInput, opts: Pick<BuildSiteOptions, 'identities' | 'privateView'>, leftOut: LeftOut[]): Promise<LeaderboardInput> {
  if (!readByCommittee(input.record)) return input;
  const results: LeaderboardInput['results'] = [];
  for (const r of input.results) {
    const path = paths.result(input.benchmark, r.dataset, r.model);
    if (!r.record.encrypted_metrics) {
      leftOut.push({ benchmark: input.benchmark, path, why: 'its metrics are in clear under a committee-only policy' });
      continue;
    }
    try {
      const reading = await readResult(view, path, r.record, opts.identities ?? []);
      if (reading.metrics) {
        const { encrypted_metrics: _sealed, ...rest } = r.record;
        results.push({ ...r, record: { ...rest, metrics: reading.metrics, ...(reading.signature ? { signature: reading.signature } : {}) } });
      } else leftOut.push({ benchmark: input.benchmark, path, why: reading.closed === 'no-identity' ? 'no key to open it' : 'not encrypted to this key' });
    } catch (error) {
      if (!(error instanceof MedperfError)) throw error;
      leftOut.push({ benchmark: input.benchmark, path, why: error.message });
    }
  }
  const record = opts.privateView ? { ...input.record, results_policy: { ...input.record.results_policy, publish: 'per-dataset' as const } } : input.record;
  return { ...input, record, results };
}

/** Where record links point: the repository on GitHub, else the registry folder relative to the site. */
export function recordBase(opts: Pick<BuildSiteOptions, 'dir' | 'out' | 'repoUrl' | 'ref'>): string {
  if (opts.repoUrl === '') return '';
  if (opts.repoUrl !== undefined) {
    const url = new URL(opts.repoUrl.replace(/\/+$/, '').replace(/\.git$/, ''));
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new MedperfError('bad-repo-url', `--repo-url must be an http(s) URL, not ${opts.repoUrl}`);
    }
    return `${url.href.replace(/\/+$/, '')}/blob/${encodeURIComponent(opts.ref ?? 'main')}/`;
  }
  const rel = relative(resolve(opts.out), resolve(opts.dir)).split(sep).join('/');
  return rel ? `${rel}/` : '';
}

type History = BuildSiteOptions['history'];

/** The leaderboards of a registry tree, with its title, and their history when a repository is named. */
export async function leaderboardsOfTree(
  tree: FileTree,
  where: string,
  history?: History,
  readers: Pick<BuildSiteOptions, 'identities' | 'privateView'> = {},
): Promise<{ boards: Leaderboard[]; title: string; description?: string; leftOut: LeftOut[] }> {
  const view = createView(tree);
  const config = await view.registryConfig();
  if (!config) throw new NotFoundError(`${where} has no valid registry.yaml: run \`medperf-git validate\``);
  // One benchmark's results in memory at a time; history needs only the benchmark records.
  const boards: Leaderboard[] = [];
  const records: LeaderboardInput[] = [];
  // Today's results, by the Git blob their bytes are: the history replays them without parsing them again.
  const known = new Map<string, ResultRecord>();
  const format = history ? await objectFormat(history.repoDir) : undefined;
  const keep = format ? (path: string, bytes: Buffer, record: ResultRecord) => void known.set(`${gitBlobId(bytes, format)} ${path}`, record) : undefined;
  const today = new Map<string, { board: Leaderboard; results: number }>();
  const leftOut: LeftOut[] = [];
  for await (const read of leaderboardInputs(view, undefined, keep)) {
    const input = await readableInput(view, read, readers, leftOut);
    const board = computeLeaderboard(input);
    boards.push(board);
    today.set(input.benchmark, { board, results: input.results.length });
    records.push({ ...input, results: [] });
  }
  if (history) {
    const points = await leaderboardHistory(history.repoDir, history.rev, records, history.prefix, known, today);
    for (const board of boards) board.history = points.get(board.benchmark) ?? [];
  }
  return { boards, title: config.title, ...(config.description ? { description: config.description } : {}), leftOut };
}

export async function leaderboardsOf(
  dir: string,
  history?: History,
  readers: Pick<BuildSiteOptions, 'identities' | 'privateView'> = {},
): Promise<{ boards: Leaderboard[]; title: string; description?: string; leftOut: LeftOut[] }> {
  if (!existsSync(join(dir, 'registry.yaml'))) {
    throw new NotFoundError(`${dir} holds no registry.yaml: run in a registry folder or name one (medperf-git site build DIR)`);
  }
  const tree = directoryTree(dir);
  try {
    if (history === undefined) {
      const prefix = await gitPrefix(dir);
      if (prefix !== undefined) history = { repoDir: dir, rev: 'HEAD', prefix };
    }
    return await leaderboardsOfTree(tree, dir, history, readers);
  } finally {
    await closeTree(tree);
  }
}

/** Writes the files into a fresh folder beside `out`, then swaps it in, so `out` is never half-built. */
export async function writeSiteFolder(files: SiteFiles, out: string): Promise<void> {
  const target = resolve(out);
  if (existsSync(target) && readdirSync(target).length > 0 && !existsSync(join(target, SITE_MARKER))) {
    throw new MedperfError('not-a-site', `${out} exists and is not a site medperf-git built; choose another --out or empty it`);
  }
  await mkdir(dirname(target), { recursive: true });
  const staging = await mkdtemp(join(dirname(target), `.${basename(target)}-`));
  try {
    // Plain writes into the staging folder: the rename below is what makes the site appear whole.
    const made = new Set<string>();
    for (const [path, content] of files) {
      const file = join(staging, path);
      const parent = dirname(file);
      if (!made.has(parent)) {
        mkdirSync(parent, { recursive: true });
        made.add(parent);
      }
      writeFileSync(file, content);
    }
    await writeFileAtomic(join(staging, SITE_MARKER), 'Built by medperf-git site build; rebuilt in place.\n');
    const old = existsSync(target) ? `${staging}.old` : undefined;
    if (old) await rename(target, old);
    await rename(staging, target);
    if (old) await rm(old, { recursive: true, force: true });
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}

export async function buildSiteFolder(opts: BuildSiteOptions & { tree?: FileTree }): Promise<BuiltSite> {
  const readers = { ...(opts.identities ? { identities: opts.identities } : {}), ...(opts.privateView ? { privateView: true } : {}) };
  const { boards, title, description, leftOut } = opts.tree
    ? await leaderboardsOfTree(opts.tree, opts.tree.label, opts.history, readers)
    : await leaderboardsOf(opts.dir, opts.history, readers);
  const files = buildSite(boards, {
    title,
    ...(description ? { description } : {}),
    recordBase: recordBase(opts),
    ...(opts.generatedAt ? { generatedAt: opts.generatedAt } : {}),
  });
  await writeSiteFolder(files, opts.out);
  return { out: opts.out, files, boards, leftOut };
}
