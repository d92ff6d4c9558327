// What the model owner's and the benchmark committee's commands share: reading records off main
// (approved) and open PRs (pending), the checks that refuse early with a clear error and nothing
// submitted (not the owner, not on the committee, benchmark not approved, cube not registered), the
// compatibility test of registered cubes on a benchmark's demo data, and its summary as the record
// and the PR body carry it.
import {
  type AssociationEntry,
  type AssociationFilter,
  associationStates,
  type AssociationTarget,
  latestPull,
  pullToReview,
  requireCommittee,
} from '../registry/associations.ts';
import { MedperfError, NotFoundError, NotOwnerError } from '../registry/errors.ts';
import { type Forge, type PullRequest } from '../registry/forge/forge.ts';
import { benchmarkPaths, paths, sameLogin } from '../registry/layout.ts';
import { includesLogin } from '../registry/rules/ownership.ts';
import { createView } from '../registry/load.ts';
import { cleanMetrics, metricRows } from '../registry/metrics.ts';
import type { BenchmarkRecord, CompatibilityTest, CubeRecord, Metrics } from '../registry/records.ts';
import type { LoadedRecord, RegistryView } from '../registry/view.ts';
import { runCompatibilityTest } from './compatibility.ts';
import { materializeCube } from './cube/materialize.ts';
import type { ModelKeyring } from './private-models.ts';
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

export class CubeChangedUpstreamError extends MedperfError {
  constructor(message: string) {
    super('cube-changed-upstream', message);
  }
}

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
  return latestPull(await forge.listPulls({ state: 'all', paths: [path] }));
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
  if (!sameLogin(owner, login) && !includesLogin(record.owners ?? [], login)) {
    throw new NotOwnerError(`${login} does not own the cube ${id} (its owner is ${owner}); only its owner can do this; nothing was submitted`);
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
  /** The keys of private models (cli/private-models.ts modelKeyring). */
  keyring?: ModelKeyring;
}

/**
 * MedPerf's compatibility test with registered cubes: each cube fetched and verified against its
 * record, run on the demo dataset; the summary holds the metrics and every hash that produced them.
 */
export async function testOnDemoData(options: DemoTestOptions): Promise<{ summary: CompatibilityTest; metrics: Metrics; statistics: Metrics; generatedUid: string }> {
  const status = options.onStatus ?? (() => {});
  const load = async (ref: RegisteredCubeRef) => {
    status(`${ref.id}: fetching`);
    // The runner loads a cube shipped as an image tarball when the test checks its image.
    return materializeCube(ref.id, ref.record, { stateDir: options.stateDir, keyring: options.keyring });
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
  const metrics = cleanMetrics(result.metrics);
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
  return { summary, metrics, statistics: cleanMetrics(result.statistics), generatedUid: result.hashes.generated_uid };
}

/** The compatibility test as a PR body shows it: a Markdown table of metrics and the hashes. */
export function summaryMarkdown(summary: CompatibilityTest, what: string): string {
  const lines = [
    `### Compatibility test: ${what}`,
    '',
    '| metric | value |',
    '|---|---|',
    ...metricRows(summary.metrics).map(([k, v]) => `| ${k} | ${v} |`),
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

/** Every association in one of MedPerf's three states (see registry/associations.ts). */
export async function listAssociations(forge: Forge, filter: AssociationFilter = {}): Promise<AssociationEntry[]> {
  const prefix = filter.benchmark ? `benchmarks/${filter.benchmark}/` : 'benchmarks/';
  const view = await mainView(forge, [prefix]);
  return associationStates(view, await forge.listPulls({ state: 'all', paths: [prefix] }), filter);
}

/**
 * The open pull request asking for an association; otherwise an error saying where the
 * association stands (already approved, rejected, never asked for).
 */
export async function openAssociationPull(forge: Forge, view: RegistryView, target: AssociationTarget, benchmark: string): Promise<PullRequest> {
  const pulls = await forge.listPulls({ state: 'all', paths: [target.path] });
  return pullToReview(target, benchmark, pulls, await view.tree.has(target.path));
}
