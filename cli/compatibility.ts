// MedPerf's compatibility test: the data preparator's prepare, sanity_check and statistics, the
// model's infer and the evaluator's evaluate, on the benchmark's demo dataset or local data. Used by
// `test run`, and by `benchmark submit` / `mlcube associate` for the summary they publish.
//
// Every run lives in a folder keyed by the hash of everything that goes in (data, cubes, images,
// runner), so a rerun with the same inputs reuses finished tasks; each task runs through
// cube/execute.ts (a partial folder renamed into place on success). `noCache` runs every task
// again beside the earlier run, which it replaces only when it finishes.
import { readFileSync } from 'node:fs';
import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { MedperfError, NotFoundError } from '../registry/errors.ts';
import type { BenchmarkRecord } from '../registry/records.ts';
import type { RegistryView } from '../registry/view.ts';
import { materializeCube } from './cube/materialize.ts';
import type { ModelKeyring } from './private-models.ts';
import { hashFile, hashFolders, sha256Hex } from '../registry/hash.ts';
import { loadCube } from './cube/config.ts';
import type { CubeUnderTest, LoadedCube } from './cube/cube.ts';
import { imageOf, replaceWhenDone, runTask, type RunnableCube } from './cube/execute.ts';
import { extractTarball, fetchAsset, type Asset } from './fetch.ts';
import type { Limits, Runner } from './runners/runner.ts';
import { formatBytes } from './ui.ts';
import { statePaths } from './state.ts';
import { VERSION } from './version.ts';

export interface CompatibilityOptions {
  stateDir: string;
  runner: Runner;
  dataPreparator: CubeUnderTest;
  model: CubeUnderTest;
  evaluator: CubeUnderTest;
  /** Local raw data; otherwise `demoDataset`. */
  dataPath?: string;
  labelsPath?: string;
  /** The benchmark's demo dataset tarball (paths.yaml naming data_path and labels_path). */
  demoDataset?: Asset;
  noCache?: boolean;
  limits?: Limits;
  /** Per-task limits (MedPerf's per-task timeouts), over `limits`. */
  taskLimits?: Record<string, Limits>;
  /** Progress lines: "prepare: running 3s", "infer: done (cached)". */
  onStatus?: (line: string) => void;
}

export interface CubeHashes {
  label: string;
  /** sha256 of mlcube.yaml / container_config.yaml. */
  config: string;
  parameters?: string;
  /** MedPerf's folder hash of additional_files/. */
  additional_files?: string;
  /** The image id the engine ran (docker). */
  image?: string;
}

export interface CompatibilityResult {
  metrics: Record<string, unknown>;
  statistics: Record<string, unknown>;
  hashes: {
    data_preparator: CubeHashes;
    model: CubeHashes;
    evaluator: CubeHashes;
    /** MedPerf's input_data_hash: folder hash of the raw data and labels. */
    input_data_hash: string;
    /** MedPerf's generated_uid: folder hash of the prepared data and labels. */
    generated_uid: string;
    predictions: string;
    results: string;
    medperf_git_version: string;
  };
  paths: { workdir: string; prepared_data: string; prepared_labels: string; statistics: string; predictions: string; results: string; logs: string[] };
  /** The tasks that ran now; the others were reused from an earlier run. */
  ran: string[];
  reused: string[];
}

export class CompatibilityTestError extends MedperfError {
  constructor(message: string) {
    super('compatibility-test-failed', message);
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

async function cubeHashes(cube: LoadedCube, label: string, image?: string): Promise<CubeHashes> {
  return {
    label,
    config: await hashFile(cube.configPath),
    ...(cube.parametersFile ? { parameters: await hashFile(cube.parametersFile) } : {}),
    ...(cube.additionalFiles ? { additional_files: await hashFolders(cube.additionalFiles) } : {}),
    ...(image ? { image } : {}),
  };
}

/** The demo dataset, fetched (verified) and extracted once per sha256; its paths.yaml says where data and labels are. */
async function demoData(stateDir: string, asset: Asset): Promise<{ dataPath: string; labelsPath: string }> {
  const tarball = await fetchAsset(asset, { stateDir, what: 'the demo dataset' });
  const dir = join(statePaths(stateDir).root, 'demo', asset.sha256);
  if (!(await exists(dir))) {
    await mkdir(join(dir, '..'), { recursive: true });
    await extractTarball(tarball, dir);
  }
  const pathsFile = join(dir, 'paths.yaml');
  const paths = (await exists(pathsFile)) ? (yaml.load(readFileSync(pathsFile, 'utf8')) as { data_path?: string; labels_path?: string }) : {};
  return { dataPath: join(dir, paths.data_path ?? 'data'), labelsPath: join(dir, paths.labels_path ?? 'labels') };
}

export async function runCompatibilityTest(options: CompatibilityOptions): Promise<CompatibilityResult> {
  const { runner, stateDir } = options;
  const status = options.onStatus ?? (() => {});
  let dataPath = options.dataPath;
  let labelsPath = options.labelsPath;
  if (!dataPath || !labelsPath) {
    if (!options.demoDataset) throw new CompatibilityTestError('no data: give --data-path and --labels-path, or a benchmark with a demo dataset');
    ({ dataPath, labelsPath } = await demoData(stateDir, options.demoDataset));
  }
  const runnable = (c: CubeUnderTest): RunnableCube => ('cube' in c ? (c as RunnableCube) : { ...c, cube: loadCube(c.dir) });
  const cubes = {
    data_preparator: runnable(options.dataPreparator),
    model: runnable(options.model),
    evaluator: runnable(options.evaluator),
  };
  // Images are made ready and checked (and their ids taken) before anything runs.
  const imageIds: Record<string, string | undefined> = {};
  for (const [role, c] of Object.entries(cubes)) imageIds[role] = await runner.prepareImage(imageOf(c), { onStatus: status });
  // Data can be large: once hashing takes more than a second, say how far it is, once a second.
  let lastShown = Date.now();
  const inputDataHash = await hashFolders([dataPath, labelsPath], {
    onProgress: (p) => {
      if (Date.now() - lastShown < 1000 || !p.totalBytes) return;
      lastShown = Date.now();
      status(`hashing the input data: ${Math.round((100 * p.bytes) / p.totalBytes)}% of ${formatBytes(p.totalBytes)}`);
    },
  });
  const hashes = {
    data_preparator: await cubeHashes(cubes.data_preparator.cube, cubes.data_preparator.label, imageIds.data_preparator),
    model: await cubeHashes(cubes.model.cube, cubes.model.label, imageIds.model),
    evaluator: await cubeHashes(cubes.evaluator.cube, cubes.evaluator.label, imageIds.evaluator),
  };
  // The process runner runs the cube folder's code, so its whole folder is part of the key.
  const code = runner.name === 'process' ? await Promise.all(Object.values(cubes).map((c) => hashFolders(c.cube.dir))) : [];
  // What the cubes are, not what they are called, decides whether earlier work can be reused.
  const contents = Object.values(hashes).map(({ label: _label, ...rest }) => rest);
  const key = sha256Hex(JSON.stringify({ inputDataHash, contents, code, runner: runner.name, v: 1 })).slice(0, 32);
  const workdir = join(statePaths(stateDir).root, 'tests', key);
  const ran: string[] = [];
  const reused: string[] = [];
  const logs: string[] = [];
  const run = async (dir: string): Promise<void> => {
    await mkdir(dir, { recursive: true });
    // Partial folders of an interrupted run are never read; clear them.
    for (const entry of await readdir(dir)) if (entry.includes('.partial-')) await rm(join(dir, entry), { recursive: true, force: true });
    const step = async (name: string, cube: RunnableCube, task: string, bindings: (out: string) => Record<string, string>): Promise<string> => {
      const outcome = await runTask({ runner, cube, task, done: join(dir, name), bindings, limits: { ...options.limits, ...options.taskLimits?.[task] }, onStatus: status });
      (outcome.ran ? ran : reused).push(task);
      if (outcome.logFile) logs.push(outcome.logFile);
      return outcome.done;
    };
    const prepared = await step('prepared', cubes.data_preparator, 'prepare', (out) => ({
      data_path: dataPath!,
      labels_path: labelsPath!,
      output_path: join(out, 'data'),
      output_labels_path: join(out, 'labels'),
    }));
    const data = join(prepared, 'data');
    const labels = join(prepared, 'labels');
    await step('sanity_check', cubes.data_preparator, 'sanity_check', () => ({ data_path: data, labels_path: labels }));
    await step('statistics', cubes.data_preparator, 'statistics', (out) => ({ data_path: data, labels_path: labels, output_path: join(out, 'statistics.yaml') }));
    const predictionsDone = await step('predictions', cubes.model, 'infer', (out) => ({ data_path: data, output_path: join(out, 'predictions') }));
    await step('results', cubes.evaluator, 'evaluate', (out) => ({ predictions: join(predictionsDone, 'predictions'), labels, output_path: join(out, 'results.yaml') }));
  };
  if (options.noCache && (await exists(workdir))) await replaceWhenDone(workdir, run);
  else await run(workdir);
  const preparedData = join(workdir, 'prepared', 'data');
  const preparedLabels = join(workdir, 'prepared', 'labels');
  const statisticsDir = join(workdir, 'statistics');
  const resultsDir = join(workdir, 'results');
  const predictions = join(workdir, 'predictions');

  const readYaml = (path: string, what: string): Record<string, unknown> => {
    let data: unknown;
    try {
      data = yaml.load(readFileSync(path, 'utf8'), { schema: yaml.CORE_SCHEMA });
    } catch (error) {
      throw new CompatibilityTestError(`${path}: the ${what} is not valid YAML (${(error as Error).message})`);
    }
    if (!data || typeof data !== 'object') throw new CompatibilityTestError(`${path}: the ${what} is empty or not a mapping`);
    return data as Record<string, unknown>;
  };
  const statisticsFile = join(statisticsDir, 'statistics.yaml');
  const resultsFile = join(resultsDir, 'results.yaml');
  return {
    metrics: readYaml(resultsFile, 'evaluator\'s results'),
    statistics: readYaml(statisticsFile, 'statistics'),
    hashes: {
      ...hashes,
      input_data_hash: inputDataHash,
      generated_uid: await hashFolders([preparedData, preparedLabels]),
      predictions: await hashFolders(join(predictions, 'predictions')),
      results: await hashFile(resultsFile),
      medperf_git_version: VERSION,
    },
    paths: {
      workdir,
      prepared_data: preparedData,
      prepared_labels: preparedLabels,
      statistics: statisticsFile,
      predictions: join(predictions, 'predictions'),
      results: resultsFile,
      logs,
    },
    ran,
    reused,
  };
}

export interface BenchmarkCubes {
  benchmark: BenchmarkRecord;
  dataPreparator: CubeUnderTest;
  model: CubeUnderTest;
  evaluator: CubeUnderTest;
  demoDataset: Asset;
}

/**
 * A benchmark's cubes made runnable (fetched, verified, images loaded) and its demo dataset, read
 * from a registry view; `model` names another registered model to test instead of the reference.
 */
export async function benchmarkCubes(
  view: RegistryView,
  name: string,
  options: { stateDir: string; model?: string; onProgress?: (what: string, done: number, total?: number) => void; keyring?: ModelKeyring },
): Promise<BenchmarkCubes> {
  const loaded = await view.benchmark(name);
  if (!loaded) throw new NotFoundError(`no benchmark ${name} in the registry (benchmarks/${name}/benchmark.yaml)`);
  const benchmark = loaded.data;
  const cube = async (id: string, role: string) => {
    const record = await view.cube(id);
    if (!record) throw new NotFoundError(`benchmark ${name}: its ${role} ${id} is not in the registry (mlcubes/${id}.yaml)`);
    return materializeCube(id, record.data, { stateDir: options.stateDir, onProgress: options.onProgress, keyring: options.keyring });
  };
  return {
    benchmark,
    dataPreparator: await cube(benchmark.data_preparation_mlcube, 'data preparator'),
    model: await cube(options.model ?? benchmark.reference_model, 'model'),
    evaluator: await cube(benchmark.data_evaluator_mlcube, 'metrics cube'),
    demoDataset: { url: benchmark.demo_dataset.url, sha256: benchmark.demo_dataset.sha256 },
  };
}
