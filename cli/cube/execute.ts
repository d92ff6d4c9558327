// The one way a cube task runs, for every command (dataset prepare, the compatibility test, a
// model's execution in `run` and `dataset associate`): the runner prepares and checks the cube's
// image, the task writes into a private partial folder, and the folder is renamed into place only
// when the task succeeds. A finished folder is reused, so an interrupted command resumes, and
// half-written output is never read.
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../../registry/errors.ts';
import type { CubeRecord } from '../../registry/records.ts';
import { readYamlFile } from '../datasets.ts';
import { cleanMetrics } from '../../registry/metrics.ts';
import { cubeHash } from '../execution.ts';
import { type Execution, executionKey, type LocalResult, predictionsDir, readCachedResult, writeLocalResult } from '../results.ts';
import { declaredBuild } from '../runners/docker-build.ts';
import type { CubeImage, Limits, Runner } from '../runners/runner.ts';
import { VERSION } from '../version.ts';
import { cubeImage, type CubeUnderTest, type LoadedCube } from './cube.ts';
import { planTask } from './plan.ts';

/** A cube ready to run: its folder loaded, and, for a registered cube, its record (image tarball). */
export interface RunnableCube extends CubeUnderTest {
  cube: LoadedCube;
  record?: CubeRecord;
}

/** The cube's image as its record pins it, for Runner.prepareImage. */
export function imageOf(cube: RunnableCube): CubeImage {
  const image = cubeImage(cube.cube);
  const tarball = cube.record?.image.tarball;
  const reference = cube.record?.image.reference;
  // Only a cube folder being tested builds its own image; a registered one runs what its record pins.
  const build = !cube.record && !cube.imageDigest && image ? declaredBuild(cube.cube.dir, cube.cube.configPath, cube.cube.mlcube?.docker) : undefined;
  return {
    label: cube.label,
    ...(image ? { image } : {}),
    ...(cube.imageDigest ? { digest: cube.imageDigest } : {}),
    ...(tarball ? { tarball } : {}),
    ...(reference ? { reference } : {}),
    ...(build ? { build } : {}),
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export interface TaskOptions {
  runner: Runner;
  cube: RunnableCube;
  task: string;
  /** The finished task's folder: reused when it exists. */
  done: string;
  /** Parameter bindings, given the partial folder outputs go to. */
  bindings: (out: string) => Record<string, string>;
  limits?: Limits;
  onStatus?: (line: string) => void;
  /** Where the outputs of a failed task are kept (for MedPerf's partial results); default dropped. */
  failedTo?: string;
  /** Environment variables over the cube's own (a cube author's `mlcube run-test --env`). */
  environment?: Record<string, string>;
}

export interface TaskOutcome {
  /** False when the folder was finished already and reused. */
  ran: boolean;
  done: string;
  logFile?: string;
}

/**
 * Runs one task unless its folder exists already. Outputs go to a partial folder renamed to `done`
 * only when the task succeeds; partial folders of an interrupted run are removed, never read.
 */
export async function runTask(options: TaskOptions): Promise<TaskOutcome> {
  const { runner, cube, task, done } = options;
  const status = options.onStatus ?? (() => {});
  if (await exists(done)) {
    status(`${task}: done earlier, reused`);
    return { ran: false, done };
  }
  const parent = dirname(done);
  await mkdir(parent, { recursive: true });
  const prefix = `${basename(done)}.partial-`;
  // A cluster job of an earlier command may still be writing (or have written) this task: its folder stays.
  const attached = await runner.attachable?.(done);
  for (const entry of await readdir(parent)) if (entry.startsWith(prefix) && join(parent, entry) !== attached) await rm(join(parent, entry), { recursive: true, force: true });
  const partial = attached ?? `${done}.partial-${process.pid}-${Date.now()}`;
  await mkdir(partial, { recursive: true });
  let logFile: string;
  try {
    const planned = planTask(cube.cube, task, { bindings: options.bindings(partial) });
    const plan = options.environment ? { ...planned, environment: { ...planned.environment, ...options.environment } } : planned;
    for (const note of plan.ignored) status(`${cube.label}: ${note}`);
    // The runner makes the image ready and checked; the plan runs it by id, so a re-tag cannot swap it.
    const image = await runner.prepareImage(imageOf(cube), { onStatus: status });
    const result = await runner.run({ plan: image ? { ...plan, image } : plan, label: cube.label, imageDigest: cube.imageDigest, limits: options.limits, onStatus: status, done });
    logFile = result.logFile;
    await writeFileAtomic(join(partial, '.task'), `${task} ${cube.label} ${new Date().toISOString()}\n`);
    await rename(partial, done);
  } catch (error) {
    if (options.failedTo) {
      await rm(options.failedTo, { recursive: true, force: true });
      await rename(partial, options.failedTo);
    } else await rm(partial, { recursive: true, force: true });
    throw error;
  }
  status(`${task}: done`);
  return { ran: true, done, logFile };
}

/**
 * Work that replaces a finished folder only once it finishes: `work` runs in `<target>.rerun`
 * (resuming the finished tasks of an interrupted rerun), and the earlier folder is swapped out only
 * after it returns. A rerun that fails or is interrupted leaves the earlier folder as it was.
 */
export async function replaceWhenDone<T>(target: string, work: (dir: string) => Promise<T>, after?: (value: T) => Promise<void>): Promise<T> {
  const rerun = `${target}.rerun`;
  await mkdir(rerun, { recursive: true });
  const value = await work(rerun);
  const old = `${target}.old-${process.pid}-${Date.now()}`;
  if (await exists(target)) await rename(target, old);
  await rename(rerun, target);
  await after?.(value);
  await rm(old, { recursive: true, force: true });
  return value;
}

export interface ExecuteOptions {
  stateDir: string;
  runner: Runner;
  /** Run again even when this execution finished before; the earlier one stays until the rerun finishes. */
  noCache?: boolean;
  /** MedPerf's --ignore-model-errors: a failed inference still goes to evaluation, as a partial result. */
  ignoreModelErrors?: boolean;
  limits?: Limits;
  /** Per-task limits (MedPerf's per-task timeouts), over `limits`. */
  taskLimits?: Record<string, Limits>;
  onStatus?: (line: string) => void;
}

export interface ExecutionOutcome {
  result: LocalResult;
  cached: boolean;
}

/**
 * MedPerf's benchmark execution for one model: infer on the prepared data, then the evaluator on
 * the predictions and labels. A finished execution (same key) is returned from the cache; an
 * interrupted one resumes at the task that did not finish. With `noCache` it runs again beside the
 * finished one, which it replaces only when it finishes.
 */
export async function executeModel(e: Execution, options: ExecuteOptions): Promise<ExecutionOutcome> {
  const key = executionKey(e);
  const { stateDir } = options;
  const work = predictionsDir(stateDir, e.benchmark, e.dataset, e.model.id, key);
  const cached = await readCachedResult(stateDir, e.benchmark, e.dataset, e.model.id, key);
  if (cached && !options.noCache) return { result: cached, cached: true };
  const status = (line: string) => options.onStatus?.(`${e.model.id} ${line}`);
  /** One task of the execution, with its limits and this model's status line. */
  const task = (cube: TaskOptions['cube'], name: string, done: string, bindings: TaskOptions['bindings'], extra: Partial<TaskOptions> = {}) =>
    runTask({ runner: options.runner, cube, task: name, done, bindings, limits: { ...options.limits, ...options.taskLimits?.[name] }, onStatus: status, ...extra });
  const chain = async (dir: string): Promise<LocalResult> => {
    let predictions = join(dir, 'predictions');
    let partial = false;
    let modelError: unknown;
    const failed = join(dir, 'predictions.failed');
    try {
      await task(e.model, 'infer', predictions, (out) => ({ data_path: e.preparedData, output_path: join(out, 'predictions') }), options.ignoreModelErrors ? { failedTo: failed } : {});
    } catch (error) {
      if (!options.ignoreModelErrors) throw error;
      modelError = error;
      status(`infer failed; evaluating what it predicted, as a partial result (${(error as Error).message.split('\n')[0]})`);
      predictions = failed;
      partial = true;
    }
    const evaluation = join(dir, partial ? 'evaluation.partial' : 'evaluation');
    if (partial) await rm(evaluation, { recursive: true, force: true });
    try {
      await task(e.evaluator, 'evaluate', evaluation, (out) => ({ predictions: join(predictions, 'predictions'), labels: e.preparedLabels, output_path: join(out, 'results.yaml') }));
    } catch (error) {
      // Evaluating a failed model's predictions can fail too: the model's failure is the one to report.
      throw modelError ?? error;
    }
    const raw = readYamlFile(join(evaluation, 'results.yaml'), `evaluator's results of ${e.model.id}`);
    const metrics = cleanMetrics(raw);
    if (!Object.keys(metrics).length) {
      throw new MedperfError('bad-output', `${join(evaluation, 'results.yaml')}: the evaluator wrote no numeric metrics`);
    }
    return {
      id: key.slice(0, 12),
      key,
      benchmark: e.benchmark,
      model: e.model.id,
      dataset: e.dataset,
      metrics,
      partial,
      cubes: { data_preparation_mlcube: cubeHash(e.preparator), model: cubeHash(e.model), data_evaluator_mlcube: cubeHash(e.evaluator) },
      dataset_generated_uid: e.generatedUid,
      executed_at: new Date().toISOString(),
      medperf_git_version: VERSION,
    };
  };
  const result = cached ? await replaceWhenDone(work, chain, (r) => writeLocalResult(stateDir, r)) : await chain(work);
  if (!cached) await writeLocalResult(stateDir, result);
  return { result, cached: false };
}
