// What the model owner's and the benchmark committee's commands share: reading records off main
// (approved) and open PRs (pending), the checks that refuse early with a clear error and nothing
// submitted (not the owner, not on the committee, benchmark not approved, cube not registered), the
// compatibility test of registered cubes on a benchmark's demo data, and its summary as the record
// and the PR body carry it.
import { MedperfError, NotFoundError, NotOwnerError } from '../registry/errors.ts';
import { type Forge, type PullRequest } from '../registry/forge/forge.ts';
import { benchmarkPaths, parseRecordPath, paths } from '../registry/layout.ts';
import { createView } from '../registry/load.ts';
import type { BenchmarkRecord, CompatibilityTest, CubeRecord, Metrics } from '../registry/records.ts';
import type { LoadedRecord, RegistryView } from '../registry/view.ts';
import { runCompatibilityTest } from './compatibility.ts';
import { materializeCube } from './cube/materialize.ts';
import { cubeHash } from './execution.ts';
import type { Runner } from './runners/runner.ts';
import { VERSION } from './version.ts';

export class BenchmarkNotApprovedError extends MedperfError {
  constructor(message: string) {
    super('benchmark-not-approved', message);
  }
}

export class CubeNotRegisteredError extends MedperfError {
  constructor(message: string) {
    super('cube-not-registered', message);
  }
}

export class NotCommitteeError extends MedperfError {
  constructor(message: string) {
    super('not-committee', message);
  }
}

export class CubeChangedUpstreamError extends MedperfError {
  constructor(message: string) {
    super('cube-changed-upstream', message);
  }
}

export class AssociationNotFoundError extends NotFoundError {}

/** Refuses to write anonymously: the local forge needs a login to act as. */
export function requireLogin(forge: Forge): string {
  if (!forge.login) {
    throw new MedperfError('no-login', 'who are you? pass --as LOGIN, set $MEDPERF_GIT_LOGIN, or run `medperf-git registry use --as LOGIN`');
  }
  return forge.login;
}

/** main as a record view (approved records). */
export async function mainView(forge: Forge, prefixes?: string[]): Promise<RegistryView> {
  return createView(await forge.main(prefixes ? { paths: prefixes } : undefined));
}

/** The latest PR (open first, then most recent) that touches a path, if any. */
export async function latestPullFor(forge: Forge, path: string): Promise<PullRequest | undefined> {
  const pulls = await forge.listPulls({ state: 'all', paths: [path] });
  const open = pulls.filter((p) => p.state === 'open');
  const pick = open.length ? open : pulls;
  return pick.sort((a, b) => b.number - a.number)[0];
}

/** The benchmark as approved on main; otherwise an error saying where it stands. */
export async function approvedBenchmark(forge: Forge, view: RegistryView, name: string): Promise<LoadedRecord<'benchmark'>> {
  const record = await view.benchmark(name);
  if (record) return record;
  const path = paths.benchmark(name);
  if (await view.tree.has(path)) {
    throw new MedperfError('invalid-record', `${path} on main does not validate; run \`medperf-git validate\` on the registry`);
  }
  const pull = await latestPullFor(forge, path);
  if (pull?.state === 'open') {
    throw new BenchmarkNotApprovedError(
      `the benchmark ${name} is not approved yet: its pull request #${pull.number} is pending an admin's review; nothing was submitted`,
    );
  }
  if (pull?.state === 'closed') {
    throw new BenchmarkNotApprovedError(`the benchmark ${name} was rejected (pull request #${pull.number} was closed); nothing was submitted`);
  }
  throw new NotFoundError(`no benchmark ${name} in the registry; see \`medperf-git benchmark ls\``);
}

/** A registered cube (on main); otherwise an error saying how to register it. */
export async function registeredCube(forge: Forge, view: RegistryView, id: string): Promise<LoadedRecord<'cube'>> {
  if (!/^[^/]+\/[^/]+$/.test(id)) throw new MedperfError('bad-id', `${id}: a cube id is <owner>/<name>, as \`medperf-git mlcube ls\` shows it`);
  const record = await view.cube(id);
  if (record) return record;
  const path = paths.cube(id);
  if (await view.tree.has(path)) throw new MedperfError('invalid-record', `${path} on main does not validate; run \`medperf-git validate\` on the registry`);
  const pull = await latestPullFor(forge, path);
  if (pull?.state === 'open') {
    throw new CubeNotRegisteredError(
      `the cube ${id} is not registered yet: its pull request #${pull.number} is still open; once it is merged (\`medperf-git pr merge ${pull.number}\` on a local registry), try again`,
    );
  }
  throw new CubeNotRegisteredError(`no cube ${id} in the registry; register it with \`medperf-git mlcube submit\` first`);
}

export function requireCubeKind(id: string, record: CubeRecord, kind: CubeRecord['kind'], role: string): void {
  if (record.kind !== kind) throw new MedperfError('wrong-cube-kind', `${id} is a ${record.kind} cube; the ${role} must be a ${kind} cube`);
}

/** As MedPerf's server: only operational cubes join benchmarks (a development cube may still change). */
export function requireOperationalCube(id: string, record: CubeRecord, what: string): void {
  if (record.state !== 'operational') {
    throw new MedperfError(
      'cube-in-development',
      `the cube ${id} is still in development, and ${what}; mark it operational by submitting it again with --operational (its hashes then never change); nothing was submitted`,
    );
  }
}

/** The acting login must own the cube: the owner in its path, or one listed in its owners. */
export function requireCubeOwner(login: string, id: string, record: CubeRecord): void {
  const owner = id.split('/')[0]!;
  if (owner !== login && !(record.owners ?? []).includes(login)) {
    throw new NotOwnerError(`${login} does not own the cube ${id} (its owner is ${owner}); only its owner can do this; nothing was submitted`);
  }
}

/** The acting login must sit on the benchmark's committee. */
export function requireCommittee(login: string, name: string, benchmark: BenchmarkRecord, what: string): void {
  if (!benchmark.committee.includes(login)) {
    throw new NotCommitteeError(
      `${login} is not on the committee of the benchmark ${name} (${benchmark.committee.join(', ')}); only the committee can ${what}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The compatibility test of registered cubes

/** Numbers only, at most three levels: what the registry's privacy rule lets a record carry. */
/** The signed-in member of an approved benchmark's committee, with main's view of that benchmark; refused otherwise. */
export async function asCommitteeMember(forge: Forge, name: string, what: string): Promise<{ login: string; view: RegistryView; benchmark: BenchmarkRecord }> {
  const login = requireLogin(forge);
  const view = await mainView(forge, benchmarkPaths(name));
  const benchmark = (await approvedBenchmark(forge, view, name)).data;
  requireCommittee(login, name, benchmark, what);
  return { login, view, benchmark };
}

/**
 * Merges a pull request unless told not to; the registry's refusal (checks pending, branch
 * protection) is a reason to say, not a failure.
 */
export async function mergeUnlessHeld(forge: Forge, pull: number, noMerge: boolean): Promise<{ merged: boolean; notMerged?: string }> {
  if (noMerge) return { merged: false };
  try {
    await forge.merge(pull);
    return { merged: true };
  } catch (error) {
    if (!(error instanceof MedperfError)) throw error;
    return { merged: false, notMerged: error.message };
  }
}

/** What a committee member reads when the merge waits for the registry. */
export function notMergedLine(reason: string): string {
  return `Not merged yet: ${reason.replace(/\.$/, '')}. The registry's maintainers or its automation merge it once its checks pass.`;
}

export function metricsOnly(value: unknown, depth = 0): Metrics {
  const out: Record<string, unknown> = {};
  if (!value || typeof value !== 'object' || Array.isArray(value) || depth > 2) return out as Metrics;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!/^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,63}$/.test(k)) continue;
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
    else if (v && typeof v === 'object' && depth < 2) {
      const nested = metricsOnly(v, depth + 1);
      if (Object.keys(nested).length) out[k] = nested;
    }
  }
  return out as Metrics;
}

export interface RegisteredCubeRef {
  id: string;
  record: CubeRecord;
}

export interface DemoTestOptions {
  stateDir: string;
  runner: Runner;
  dataPreparator: RegisteredCubeRef;
  model: RegisteredCubeRef;
  evaluator: RegisteredCubeRef;
  demoDataset: { url: string; sha256: string };
  onStatus?: (line: string) => void;
  now?: () => Date;
}

/**
 * MedPerf's compatibility test with registered cubes: each cube fetched and verified against its
 * record, run on the demo dataset; the summary holds the metrics and every hash that produced them.
 */
export async function testOnDemoData(options: DemoTestOptions): Promise<{ summary: CompatibilityTest; metrics: Metrics; generatedUid: string }> {
  const status = options.onStatus ?? (() => {});
  const load = async (ref: RegisteredCubeRef) => {
    status(`${ref.id}: fetching`);
    // The runner loads a cube shipped as an image tarball when the test checks its image.
    return materializeCube(ref.id, ref.record, { stateDir: options.stateDir });
  };
  const prep = await load(options.dataPreparator);
  const model = await load(options.model);
  const evaluator = await load(options.evaluator);
  const result = await runCompatibilityTest({
    stateDir: options.stateDir,
    runner: options.runner,
    dataPreparator: prep,
    model,
    evaluator,
    demoDataset: options.demoDataset,
    onStatus: status,
  });
  const metrics = metricsOnly(result.metrics);
  const summary: CompatibilityTest = {
    metrics,
    dataset_generated_uid: result.hashes.generated_uid,
    cubes: {
      data_preparation_mlcube: cubeHash(prep),
      model: cubeHash(model),
      data_evaluator_mlcube: cubeHash(evaluator),
    },
    medperf_git_version: VERSION,
    executed_at: (options.now ?? (() => new Date()))().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  return { summary, metrics, generatedUid: result.hashes.generated_uid };
}

/** Flattens nested metrics to `AUC.mean: 0.83` pairs, for tables and PR bodies. */
export function flattenMetrics(metrics: Metrics, prefix = ''): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const [k, v] of Object.entries(metrics)) {
    if (typeof v === 'number') out.push([prefix + k, v]);
    else if (v && typeof v === 'object') out.push(...flattenMetrics(v as Metrics, `${prefix}${k}.`));
  }
  return out;
}

/** The value of a dotted metric path (`AUC.mean`), when it is a number. */
export function metricAt(metrics: Metrics, path: string): number | undefined {
  let v: unknown = metrics;
  for (const part of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[part] : undefined;
  return typeof v === 'number' ? v : undefined;
}

/** The compatibility test as a PR body shows it: a Markdown table of metrics and the hashes. */
export function summaryMarkdown(summary: CompatibilityTest, what: string): string {
  const lines = [
    `### Compatibility test: ${what}`,
    '',
    '| metric | value |',
    '|---|---|',
    ...flattenMetrics(summary.metrics).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    `Demo dataset generated_uid: \`${summary.dataset_generated_uid}\``,
    '',
    '| role | cube | config sha256 | image |',
    '|---|---|---|---|',
  ];
  for (const [role, c] of Object.entries(summary.cubes ?? {})) {
    if (c) lines.push(`| ${role} | ${c.id} | \`${c.config_sha256.slice(0, 12)}\` | \`${c.image.slice(0, 19)}\` |`);
  }
  lines.push('', `medperf-git ${summary.medperf_git_version}, ${summary.executed_at ?? ''}`.trim());
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------
// Associations: approved on main, pending in open PRs, rejected in closed ones

export type AssociationStatus = 'approved' | 'pending' | 'rejected';

export interface AssociationEntry {
  benchmark: string;
  /** 'model' or 'dataset'. */
  kind: 'model' | 'dataset';
  /** The model cube or dataset id. */
  entity: string;
  status: AssociationStatus;
  path: string;
  initiatedBy?: string;
  priority?: number;
  /** The PR behind a pending or rejected association (and an approved one's pending change). */
  pull?: { number: number; url: string; author: string };
  metrics?: Metrics;
}

export interface AssociationFilter {
  benchmark?: string;
  model?: string;
  dataset?: string;
}

function matches(filter: AssociationFilter, benchmark: string, kind: 'model' | 'dataset', entity: string): boolean {
  if (filter.benchmark && filter.benchmark !== benchmark) return false;
  if (filter.model && (kind !== 'model' || filter.model !== entity)) return false;
  if (filter.dataset && (kind !== 'dataset' || filter.dataset !== entity)) return false;
  return true;
}

/**
 * Every association in one of MedPerf's three states: approved (on main), pending (an open PR adds
 * it), rejected (a closed PR added it and it is neither on main nor pending again).
 */
export async function listAssociations(forge: Forge, filter: AssociationFilter = {}): Promise<AssociationEntry[]> {
  const prefix = filter.benchmark ? `benchmarks/${filter.benchmark}/` : 'benchmarks/';
  const view = await mainView(forge, [prefix]);
  const entries = new Map<string, AssociationEntry>();
  for (const path of await view.tree.list(prefix)) {
    const where = parseRecordPath(path);
    if (!where || (where.kind !== 'model-association' && where.kind !== 'dataset-association')) continue;
    const kind = where.kind === 'model-association' ? 'model' : 'dataset';
    const entity = where.kind === 'model-association' ? where.model : where.dataset;
    if (!matches(filter, where.benchmark, kind, entity)) continue;
    const record = await view.record(path);
    const data = record?.data as { initiated_by?: string; priority?: number; compatibility_test?: { metrics?: Metrics } } | undefined;
    entries.set(path, {
      benchmark: where.benchmark,
      kind,
      entity,
      status: 'approved',
      path,
      initiatedBy: data?.initiated_by,
      priority: data?.priority,
      metrics: data?.compatibility_test?.metrics,
    });
  }
  const pulls = (await forge.listPulls({ state: 'all', paths: [prefix] })).sort((a, b) => a.number - b.number);
  for (const pull of pulls) {
    if (pull.state === 'merged') continue;
    for (const path of pull.paths) {
      const where = parseRecordPath(path);
      if (!where || (where.kind !== 'model-association' && where.kind !== 'dataset-association')) continue;
      const kind = where.kind === 'model-association' ? 'model' : 'dataset';
      const entity = where.kind === 'model-association' ? where.model : where.dataset;
      if (!matches(filter, where.benchmark, kind, entity)) continue;
      const existing = entries.get(path);
      if (existing?.status === 'approved') continue;
      // An open PR wins over a closed one; among the same state, the later PR.
      if (existing?.status === 'pending' && pull.state === 'closed') continue;
      entries.set(path, {
        benchmark: where.benchmark,
        kind,
        entity,
        status: pull.state === 'open' ? 'pending' : 'rejected',
        path,
        initiatedBy: pull.author,
        pull: { number: pull.number, url: pull.url, author: pull.author },
      });
    }
  }
  return [...entries.values()].sort(
    (a, b) => a.benchmark.localeCompare(b.benchmark) || a.kind.localeCompare(b.kind) || a.entity.localeCompare(b.entity),
  );
}

/** The association path a command names with -b and -m or -d. */
export function associationPath(benchmark: string, model?: string, dataset?: string): { path: string; kind: 'model' | 'dataset'; entity: string } {
  if (!!model === !!dataset) throw new MedperfError('bad-arguments', 'name either a model (-m OWNER/CUBE) or a dataset (-d OWNER/NAME)');
  for (const id of [model, dataset]) {
    if (id && !/^[^/]+\/[^/]+$/.test(id)) throw new MedperfError('bad-id', `${id}: an id is <owner>/<name>`);
  }
  return model
    ? { path: paths.modelAssociation(benchmark, model), kind: 'model', entity: model }
    : { path: paths.datasetAssociation(benchmark, dataset!), kind: 'dataset', entity: dataset! };
}

/**
 * The open pull request asking for an association; otherwise an error saying where the
 * association stands (already approved, rejected, never asked for).
 */
export async function openAssociationPull(
  forge: Forge,
  view: RegistryView,
  target: { path: string; kind: 'model' | 'dataset'; entity: string },
  benchmark: string,
): Promise<PullRequest> {
  const open = (await forge.listPulls({ state: 'open', paths: [target.path] })).sort((a, b) => b.number - a.number)[0];
  if (open) return open;
  if (await view.tree.has(target.path)) {
    throw new MedperfError('already-approved', `the ${target.kind} ${target.entity} is already approved for ${benchmark}; nothing to review`);
  }
  const closed = await latestPullFor(forge, target.path);
  if (closed?.state === 'closed') {
    throw new MedperfError('already-rejected', `the association of the ${target.kind} ${target.entity} with ${benchmark} was rejected (pull request #${closed.number} is closed); the owner may ask again`);
  }
  throw new AssociationNotFoundError(`no pending association of the ${target.kind} ${target.entity} with ${benchmark}; see \`medperf-git association ls -b ${benchmark}\``);
}
