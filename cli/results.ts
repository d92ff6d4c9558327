// Local results: every execution of a model on a prepared dataset, under
// <state>/results/<benchmark>/<data-owner>/<dataset>/<model-owner>/<model>/<key>/, keyed by every
// hash involved (benchmark, the three cubes' pins, the dataset's generated_uid). A finished
// execution is never redone unless asked; predictions stay on this machine, and only the result
// record (numbers and hashes) is ever submitted.
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError, NotFoundError } from '../registry/errors.ts';
import { sha256Hex } from '../registry/hash.ts';
import { paths } from '../registry/layout.ts';
import type { CubeHashes, Metrics, ResultRecord } from '../registry/records.ts';
import type { RegisteredCube } from './cube/materialize.ts';
import { cubeHash } from './execution.ts';
import { statePaths } from './state.ts';

export interface LocalResult {
  /** The local result id: the first 12 hex digits of the execution key. */
  id: string;
  key: string;
  benchmark: string;
  model: string;
  dataset: string;
  metrics: Metrics;
  partial: boolean;
  cubes: CubeHashes;
  dataset_generated_uid: string;
  executed_at: string;
  medperf_git_version: string;
  /** Set when submitted: the PR that carries it. */
  submitted?: { pull: number; url: string; at: string; version: number };
}

export interface Execution {
  benchmark: string;
  dataset: string;
  generatedUid: string;
  preparedData: string;
  preparedLabels: string;
  preparator: RegisteredCube;
  model: RegisteredCube;
  evaluator: RegisteredCube;
}

/** Every hash that produces a result; equal keys mean the same execution. */
export function executionKey(e: Pick<Execution, 'benchmark' | 'generatedUid' | 'preparator' | 'model' | 'evaluator'>): string {
  return sha256Hex(
    JSON.stringify({
      v: 1,
      benchmark: e.benchmark,
      dataset_generated_uid: e.generatedUid,
      data_preparation_mlcube: cubeHash(e.preparator),
      model: cubeHash(e.model),
      data_evaluator_mlcube: cubeHash(e.evaluator),
    }),
  );
}

export function resultDir(stateDir: string, benchmark: string, dataset: string, model: string, key: string): string {
  return join(statePaths(stateDir).results, benchmark, ...dataset.split('/'), ...model.split('/'), key);
}

export function predictionsDir(stateDir: string, benchmark: string, dataset: string, model: string, key: string): string {
  return join(statePaths(stateDir).predictions, benchmark, ...dataset.split('/'), ...model.split('/'), key);
}

export async function readCachedResult(stateDir: string, benchmark: string, dataset: string, model: string, key: string): Promise<LocalResult | undefined> {
  const file = join(resultDir(stateDir, benchmark, dataset, model, key), 'result.json');
  try {
    return JSON.parse(await readFile(file, 'utf8')) as LocalResult;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new MedperfError('corrupt-state', `${file}: ${(error as Error).message}; remove it and run again`);
  }
}

export async function writeLocalResult(stateDir: string, result: LocalResult): Promise<void> {
  const dir = resultDir(stateDir, result.benchmark, result.dataset, result.model, result.key);
  await mkdir(dir, { recursive: true });
  await writeFileAtomic(join(dir, 'result.json'), JSON.stringify(result, null, 2) + '\n');
}

/** Every local result, optionally of one benchmark; newest first within each model and dataset. */
export async function listLocalResults(stateDir: string, benchmark?: string): Promise<LocalResult[]> {
  const root = statePaths(stateDir).results;
  const out: LocalResult[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (!e.isDirectory()) continue;
      if (depth === 5) {
        try {
          out.push(JSON.parse(await readFile(join(dir, e.name, 'result.json'), 'utf8')) as LocalResult);
        } catch {
          // An execution that never finished has no result.json.
        }
      } else await walk(join(dir, e.name), depth + 1);
    }
  };
  await walk(benchmark ? join(root, benchmark) : root, benchmark ? 1 : 0);
  return out.sort((a, b) => a.benchmark.localeCompare(b.benchmark) || a.dataset.localeCompare(b.dataset) || a.model.localeCompare(b.model) || b.executed_at.localeCompare(a.executed_at));
}

/** A local result by its id (a prefix of its key is enough when unambiguous). */
export async function findLocalResult(stateDir: string, id: string): Promise<LocalResult> {
  const all = (await listLocalResults(stateDir)).filter((r) => r.key.startsWith(id));
  if (!all.length) throw new NotFoundError(`no local result ${id}; \`medperf-git result ls\` lists them`);
  if (all.length > 1) throw new MedperfError('ambiguous-id', `${id} names ${all.length} results; give more of the id`);
  return all[0]!;
}

/** The registry record of a local result, at `version`. */
export function resultRecord(result: LocalResult, version: number): { path: string; record: ResultRecord } {
  return {
    path: paths.result(result.benchmark, result.dataset, result.model),
    record: {
      benchmark: result.benchmark,
      model: result.model,
      dataset: result.dataset,
      metrics: result.metrics,
      partial: result.partial,
      version,
      provenance: {
        cubes: result.cubes,
        dataset_generated_uid: result.dataset_generated_uid,
        medperf_git_version: result.medperf_git_version,
        executed_at: result.executed_at,
      },
    },
  };
}
