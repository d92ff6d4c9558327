// The data owner's datasets on their own machine: what was registered, where the raw data is (this
// never leaves the machine), and the prepared data, labels and statistics, under
// <state>/datasets/<owner>/<name>/. The registry only ever sees the record's hashes and the text
// the owner typed and confirmed.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import yaml from 'js-yaml';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError, NotFoundError } from '../registry/errors.ts';
import { hashFolders } from '../registry/hash.ts';
import { cleanMetrics } from '../registry/metrics.ts';
import type { DatasetRecord, Metrics } from '../registry/records.ts';
import type { RegisteredCube } from './cube/materialize.ts';
import { runTask } from './cube/execute.ts';
import type { Limits, Runner } from './runners/runner.ts';
import { statePaths } from './state.ts';

/** What the CLI remembers of a dataset, locally. */
export interface LocalDataset {
  id: string;
  /** The benchmark it was registered for, when -b was given. */
  benchmark?: string;
  data_preparation_mlcube: string;
  /** Local paths of the raw data and labels: kept here, never published (none for an imported dataset). */
  data_path?: string;
  labels_path?: string;
  input_data_hash: string;
  /** Set once prepared: MedPerf's folder hash of the prepared data and labels. */
  generated_uid?: string;
  statistics?: Metrics;
  /** The record as submitted (what the registry holds). */
  record: DatasetRecord;
  submitted_at: string;
  prepared_at?: string;
  /** Set when the prepared dataset came from another machine (`dataset import`). */
  imported_at?: string;
}

export function datasetDir(stateDir: string, id: string): string {
  return join(statePaths(stateDir).datasets, ...id.split('/'));
}

export function preparedPaths(stateDir: string, id: string) {
  const dir = datasetDir(stateDir, id);
  return {
    dir,
    prepared: join(dir, 'prepared'),
    data: join(dir, 'prepared', 'data'),
    labels: join(dir, 'prepared', 'labels'),
    sanity: join(dir, 'sanity_check'),
    statisticsDir: join(dir, 'statistics'),
    statistics: join(dir, 'statistics', 'statistics.yaml'),
    metadata: join(dir, 'dataset.json'),
  };
}

export class DatasetNotLocalError extends NotFoundError {}

export async function readLocalDataset(stateDir: string, id: string): Promise<LocalDataset> {
  const file = preparedPaths(stateDir, id).metadata;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DatasetNotLocalError(`the dataset ${id} was not registered from this machine (no ${file}); register it with \`medperf-git dataset submit\``);
    }
    throw error;
  }
  try {
    return JSON.parse(text) as LocalDataset;
  } catch (error) {
    throw new MedperfError('corrupt-state', `${file}: not valid JSON (${(error as Error).message}); remove the folder and submit the dataset again`);
  }
}

export async function writeLocalDataset(stateDir: string, dataset: LocalDataset): Promise<void> {
  const file = preparedPaths(stateDir, dataset.id).metadata;
  await mkdir(join(file, '..'), { recursive: true });
  await writeFileAtomic(file, JSON.stringify(dataset, null, 2) + '\n');
}

export async function listLocalDatasets(stateDir: string): Promise<LocalDataset[]> {
  const root = statePaths(stateDir).datasets;
  const out: LocalDataset[] = [];
  const owners = await readdir(root).catch(() => [] as string[]);
  for (const owner of owners.sort()) {
    for (const name of (await readdir(join(root, owner)).catch(() => [] as string[])).sort()) {
      try {
        out.push(await readLocalDataset(stateDir, `${owner}/${name}`));
      } catch {
        // A folder without metadata is not a dataset.
      }
    }
  }
  return out;
}

export function readYamlFile(path: string, what: string): unknown {
  try {
    return yaml.load(readFileSync(path, 'utf8'), { schema: yaml.CORE_SCHEMA });
  } catch (error) {
    throw new MedperfError('bad-output', `${path}: the ${what} is not valid YAML (${(error as Error).message})`);
  }
}

export interface PrepareOptions {
  stateDir: string;
  runner: Runner;
  preparator: RegisteredCube;
  limits?: Limits;
  /** Per-task limits (MedPerf's per-task timeouts), over `limits`. */
  taskLimits?: Record<string, Limits>;
  onStatus?: (line: string) => void;
}

export interface PrepareOutcome {
  dataset: LocalDataset;
  ran: string[];
  reused: string[];
}

/**
 * MedPerf's `dataset prepare`: the preparator's prepare, sanity_check and statistics on the raw
 * data, into the dataset's local folder. Finished tasks are kept, so an interrupted preparation
 * resumes where it stopped. Ends with the generated_uid (folder hash of prepared data and labels).
 */
export async function prepareDataset(dataset: LocalDataset, options: PrepareOptions): Promise<PrepareOutcome> {
  const p = preparedPaths(options.stateDir, dataset.id);
  if (!existsSync(p.prepared)) {
    if (!dataset.data_path || !dataset.labels_path) {
      throw new MedperfError('no-raw-data', `the dataset ${dataset.id} was imported prepared, without its raw data, and its prepared folder is gone; import it again with \`medperf-git dataset import\``);
    }
    // The raw data must be what was registered: its hash is in the record.
    options.onStatus?.('checking the raw data against its input_data_hash');
    const now = await hashFolders([dataset.data_path, dataset.labels_path]);
    if (now !== dataset.input_data_hash) {
      throw new MedperfError(
        'raw-data-changed',
        `the raw data of ${dataset.id} changed since it was registered (input_data_hash ${dataset.input_data_hash}, now ${now}); nothing was prepared. Register the new data as a new dataset with \`medperf-git dataset submit\``,
      );
    }
  }
  const ran: string[] = [];
  const reused: string[] = [];
  const step = async (task: string, done: string, bindings: (out: string) => Record<string, string>) => {
    const { ran: now } = await runTask({ runner: options.runner, cube: options.preparator, task, done, bindings, limits: { ...options.limits, ...options.taskLimits?.[task] }, onStatus: options.onStatus });
    (now ? ran : reused).push(task);
  };
  await step('prepare', p.prepared, (out) => ({
    data_path: dataset.data_path!,
    labels_path: dataset.labels_path!,
    output_path: join(out, 'data'),
    output_labels_path: join(out, 'labels'),
  }));
  await step('sanity_check', p.sanity, () => ({ data_path: p.data, labels_path: p.labels }));
  await step('statistics', p.statisticsDir, (out) => ({ data_path: p.data, labels_path: p.labels, output_path: join(out, 'statistics.yaml') }));
  options.onStatus?.('hashing the prepared data');
  const generatedUid = await hashFolders([p.data, p.labels]);
  const statistics = cleanMetrics(readYamlFile(p.statistics, 'statistics'));
  const updated: LocalDataset = { ...dataset, generated_uid: generatedUid, statistics, prepared_at: dataset.prepared_at && !ran.length ? dataset.prepared_at : new Date().toISOString() };
  await writeLocalDataset(options.stateDir, updated);
  return { dataset: updated, ran, reused };
}

/** `dataset check`: the folder hash of the prepared data now, against what was recorded. */
export async function recomputeGeneratedUid(stateDir: string, id: string): Promise<string> {
  const p = preparedPaths(stateDir, id);
  return hashFolders([p.data, p.labels]);
}
