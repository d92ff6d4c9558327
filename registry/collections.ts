// The collection questions a registry view answers: which benchmarks it holds, a benchmark's model
// and dataset associations, its results. Each is read off one listing of the tree's paths, so
// "list a benchmark's associations" is written here once.
import { parseRecordPath, paths } from './layout.ts';
import { folderNames } from './trees.ts';
import type { LoadedRecord, RegistryView } from './view.ts';

/** An association named by its path: the benchmark, a model or a dataset, and its id. */
export interface AssociationRef {
  benchmark: string;
  kind: 'model' | 'dataset';
  /** The model cube's or the dataset's id. */
  entity: string;
  path: string;
}

/** The association a path names, if it names one. */
export function associationAt(path: string): AssociationRef | undefined {
  const where = parseRecordPath(path);
  if (where?.kind === 'model-association') return { benchmark: where.benchmark, kind: 'model', entity: where.model, path };
  if (where?.kind === 'dataset-association') return { benchmark: where.benchmark, kind: 'dataset', entity: where.dataset, path };
  return undefined;
}

/** The record paths under one benchmark's folder, by what they hold. */
export interface BenchmarkContents {
  /** The path of benchmark.yaml, when the folder has one. */
  benchmark?: string;
  /** The ids of the associated models, in path order. */
  models: string[];
  /** The ids of the associated datasets, in path order. */
  datasets: string[];
  /** The paths of the results. */
  results: string[];
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Every benchmark folder's contents (or only the named benchmarks'), from one listing, by name. */
export async function benchmarkContents(view: RegistryView, only?: readonly string[]): Promise<Array<[string, BenchmarkContents]>> {
  const byBenchmark = new Map<string, BenchmarkContents>();
  const entry = (name: string) => {
    let e = byBenchmark.get(name);
    if (!e) byBenchmark.set(name, (e = { models: [], datasets: [], results: [] }));
    return e;
  };
  const prefixes = only ? only.map((b) => `benchmarks/${b}/`) : ['benchmarks/'];
  const listed = (await Promise.all(prefixes.map((p) => view.tree.list(p)))).flat();
  for (const path of listed) {
    const where = parseRecordPath(path);
    if (!where) continue;
    if (where.kind === 'benchmark') entry(where.benchmark).benchmark = path;
    else if (where.kind === 'result') entry(where.benchmark).results.push(path);
    else if (where.kind === 'model-association') entry(where.benchmark).models.push(where.model);
    else if (where.kind === 'dataset-association') entry(where.benchmark).datasets.push(where.dataset);
  }
  return [...byBenchmark].sort((a, b) => byCodePoint(a[0], b[0]));
}

/** The names of the benchmarks whose folder holds a benchmark.yaml, sorted. */
export async function benchmarkNames(view: RegistryView): Promise<string[]> {
  // The folders under benchmarks/, then one lookup each: no listing of every result.
  const names = (await folderNames(view.tree, 'benchmarks')).sort();
  const held = await Promise.all(names.map((name) => view.tree.has(paths.benchmark(name))));
  return names.filter((_, i) => held[i]);
}

/** The associations of one benchmark (or of every benchmark), models and datasets, in path order. */
export async function associationsOf(view: RegistryView, benchmark?: string): Promise<AssociationRef[]> {
  const prefix = benchmark ? `benchmarks/${benchmark}/` : 'benchmarks/';
  const out: AssociationRef[] = [];
  for (const path of await view.tree.list(prefix)) {
    const ref = associationAt(path);
    if (ref) out.push(ref);
  }
  return out;
}

/** A benchmark's model associations on this view, with their records (those that load). */
export async function modelAssociationsOf(view: RegistryView, benchmark: string): Promise<Array<{ model: string; record: LoadedRecord<'model-association'> }>> {
  const out: Array<{ model: string; record: LoadedRecord<'model-association'> }> = [];
  for (const path of await view.tree.list(`benchmarks/${benchmark}/models/`)) {
    const ref = associationAt(path);
    if (ref?.kind !== 'model') continue;
    const record = await view.modelAssociation(benchmark, ref.entity);
    if (record) out.push({ model: ref.entity, record });
  }
  return out;
}

/** The benchmarks a model is associated with on this view. */
export async function benchmarksOfModel(view: RegistryView, model: string): Promise<string[]> {
  return (await associationsOf(view)).filter((a) => a.kind === 'model' && a.entity === model).map((a) => a.benchmark);
}
