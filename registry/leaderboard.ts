// A benchmark's leaderboard, computed from its records exactly as its results policy allows.
// The results policy is a privacy boundary, and this module is where it is enforced: whatever
// leaves computeLeaderboard may be published. Under `aggregate` and `per-model` no number about
// one dataset leaves it — not even a "mean" over a single dataset, which would be that dataset's
// number — so a model's row is withheld until it has results on MIN_DATASETS_FOR_MEAN datasets.
// What each policy publishes is decided once, by publication() in publication.ts.
import { benchmarkContents } from './collections.ts';
import { readByCommittee } from './envelope.ts';
import { parseRecordPath, paths } from './layout.ts';
import type { BenchmarkRecord, CubeRecord, DatasetRecord, ResultRecord } from './records.ts';
import { loadRecord } from './load.ts';
import { flattenMetrics } from './metrics.ts';
import { readLimited } from './trees.ts';
import type { RegistryView } from './view.ts';
import { MAX_RECORD_BYTES } from './yaml.ts';
import { MIN_DATASETS_FOR_MEAN, publication, type PublishPolicy } from './publication.ts';

export { MIN_DATASETS_FOR_MEAN, type PublishPolicy };

/** What one benchmark's leaderboard is computed from: plain records, keyed by the ids their paths give. */
export interface LeaderboardInput {
  benchmark: string;
  record: BenchmarkRecord;
  /** One per (dataset, model): the path's ids and the record. */
  results: Array<{ dataset: string; model: string; record: ResultRecord }>;
  /** Approved model associations (on main): model ids. Undefined: do not filter. */
  models?: string[];
  /** Approved dataset associations (on main): dataset ids. Undefined: do not filter. */
  datasets?: string[];
  /** Cube and dataset records, for their display names. */
  cubes?: Record<string, Pick<CubeRecord, 'name'> | undefined>;
  datasetRecords?: Record<string, Pick<DatasetRecord, 'name'> | undefined>;
}

export interface LeaderboardRow {
  /** 1-based competition rank on the primary metric (ties share a rank); null when unranked. */
  rank: number | null;
  model: string;
  /** The cube's display name (free text: escape it). */
  modelName: string;
  /** The primary metric: the mean over the model's datasets; null when withheld or missing. */
  primary: number | null;
  /** Every metric, as the mean over the model's datasets, by dotted path. Empty when withheld. */
  metrics: Record<string, number>;
  /** How many datasets the model has results on; published from `per-model` up. */
  datasetCount?: number;
  /** Under `per-dataset`: how the model stands across the datasets it has a primary metric on. */
  across?: AcrossDatasets;
  /** Why the row carries no numbers, in plain words. */
  withheld?: string;
  /** Some of the model's results cover only part of the cases (MedPerf's partial results). */
  partial: boolean;
  /** Paths of the records behind the row that may be linked. */
  links: { model: string; association: string };
}

/** A model's standing across datasets: its rank on each dataset, summarised. */
export interface AcrossDatasets {
  /** The mean of its ranks, each dataset ranking the models that have a result on it. */
  meanRank: number;
  /** How many datasets these numbers cover (those with its primary metric). */
  datasets: number;
  /** The dataset where its primary metric is worst, with that number and its rank there. */
  worst: { dataset: string; value: number; rank: number };
  /** Its lowest and highest primary metric over those datasets. */
  min: number;
  max: number;
}

/** Which approved model x dataset pairs have a result, as far as the policy publishes it. */
export interface Coverage {
  /** Approved models times approved datasets. */
  pairs: number;
  withResults: number;
  /** Approved pairs still waiting for a run. */
  waiting: number;
  /** Under `per-model` and `per-dataset`: per model, datasets run and datasets waiting. */
  models?: Array<{ model: string; datasets: number; waiting: number }>;
  /** Under `per-dataset`: every pair waiting for a run. */
  waitingPairs?: Array<{ model: string; dataset: string }>;
}

/** The leaderboard at one merge on main, as the policy lets history be published. */
export interface HistoryPoint {
  /** When the change merged (the commit time on main, ISO 8601). */
  at: string;
  commit: string;
  counts: { models: number; datasets: number; results: number };
  ranked: number;
  /** Under `per-dataset`: each ranked model's rank and primary metric then. */
  rows?: Array<{ model: string; rank: number; primary: number }>;
  /** Under `per-dataset`: the result records the merge added or changed, with their versions. */
  results?: Array<{ model: string; dataset: string; version: number }>;
}

export interface LeaderboardCell {
  model: string;
  dataset: string;
  primary: number | null;
  metrics: Record<string, number>;
  partial: boolean;
  executedAt: string;
  /** The result record, which its data owner signed (or, for an import, the admin who imported it). */
  link: string;
  /** Whose key signed it, and whether they vouch for an import rather than their own run. */
  signedBy?: string;
  imported?: boolean;
}

export interface Leaderboard {
  benchmark: string;
  name: string;
  description?: string;
  docsUrl?: string;
  publish: PublishPolicy;
  primaryMetric: string;
  direction: 'higher' | 'lower';
  counts: { models: number; datasets: number; results: number };
  /** The latest execution among the published results (ISO 8601), or null when there are none. */
  lastUpdate: string | null;
  /** Every metric path found, primary first. */
  metricNames: string[];
  /** Ranked: best first, then unranked rows by model id. */
  rows: LeaderboardRow[];
  /** Participating datasets (public records); their numbers only under `per-dataset`. */
  datasets: Array<{ id: string; name: string; link: string }>;
  /** The model x dataset cross product: only under `per-dataset`. */
  cells?: LeaderboardCell[];
  coverage: Coverage;
  /** How the leaderboard changed, oldest first, from the registry's Git history (empty without it). */
  history: HistoryPoint[];
  links: { benchmark: string };
}

function mean(values: number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The leaderboard of one benchmark, holding exactly what its results policy publishes. */
export function computeLeaderboard(input: LeaderboardInput): Leaderboard {
  const { record } = input;
  const policy = record.results_policy;
  const primaryMetric = policy.primary_metric;
  const models = input.models ? new Set(input.models) : undefined;
  const datasets = input.datasets ? new Set(input.datasets) : undefined;

  // Only results whose model and dataset associations are approved count.
  const results = input.results.filter(
    (r) => r.record.benchmark === input.benchmark && (!models || models.has(r.model)) && (!datasets || datasets.has(r.dataset)),
  );

  const byModel = new Map<string, typeof results>();
  const datasetIds = new Set<string>();
  const metricSet = new Set<string>();
  let lastUpdate: string | null = null;
  for (const r of results) {
    let list = byModel.get(r.model);
    if (!list) byModel.set(r.model, (list = []));
    list.push(r);
    datasetIds.add(r.dataset);
    const at = r.record.provenance.executed_at;
    if (lastUpdate === null || Date.parse(at) > Date.parse(lastUpdate)) lastUpdate = at;
  }
  for (const m of models ?? []) if (!byModel.has(m)) byModel.set(m, []);

  const publishes = publication(policy.publish);
  const perDataset = publishes.perDataset;
  const minDatasets = publishes.minDatasetsForMean;
  const rows: LeaderboardRow[] = [];
  const cells: LeaderboardCell[] = [];
  for (const [model, list] of byModel) {
    const flat = list.map((r) => flattenMetrics(r.record.metrics));
    const primaryOf = (i: number) => flat[i]!.get(primaryMetric);
    const row: LeaderboardRow = {
      rank: null,
      model,
      modelName: input.cubes?.[model]?.name ?? model,
      primary: null,
      metrics: {},
      partial: list.some((r) => r.record.partial),
      links: { model: paths.cube(model), association: paths.modelAssociation(input.benchmark, model) },
    };
    if (publishes.datasetCounts) row.datasetCount = list.length;
    if (list.length === 0) {
      row.withheld = 'no results yet';
    } else if (list.length < minDatasets) {
      row.withheld = `published once the model has results on ${minDatasets} datasets`;
    } else {
      const names = new Set<string>();
      for (const f of flat) for (const k of f.keys()) names.add(k);
      for (const name of [...names].sort()) {
        const values = flat.map((f) => f.get(name)).filter((v): v is number => v !== undefined);
        row.metrics[name] = mean(values);
        metricSet.add(name);
      }
      const primaries = list.map((_, i) => primaryOf(i)).filter((v): v is number => v !== undefined);
      row.primary = primaries.length ? mean(primaries) : null;
      if (row.primary === null) row.withheld = `no ${primaryMetric} in its results`;
    }
    rows.push(row);
    if (perDataset) {
      list.forEach((r, i) => {
        cells.push({
          model,
          dataset: r.dataset,
          primary: primaryOf(i) ?? null,
          metrics: Object.fromEntries(flat[i]!),
          partial: r.record.partial,
          executedAt: r.record.provenance.executed_at,
          link: paths.result(input.benchmark, r.dataset, model),
          ...(r.record.signature ? { signedBy: r.record.signature.signed_by } : {}),
          ...(r.record.signature?.imported ? { imported: true } : {}),
        });
      });
    }
  }

  const better = policy.direction === 'higher' ? (a: number, b: number) => b - a : (a: number, b: number) => a - b;
  rows.sort((a, b) => {
    if (a.primary !== null && b.primary !== null) return better(a.primary, b.primary) || compareIds(a.model, b.model);
    if (a.primary !== null) return -1;
    if (b.primary !== null) return 1;
    return compareIds(a.model, b.model);
  });
  rows.forEach((row, i) => {
    if (row.primary === null) return;
    const prev = rows[i - 1];
    row.rank = prev && prev.primary === row.primary ? prev.rank : i + 1;
  });
  cells.sort((a, b) => compareIds(a.model, b.model) || compareIds(a.dataset, b.dataset));
  if (perDataset) {
    const standing = acrossDatasets(cells, policy.direction);
    for (const row of rows) {
      const across = standing.get(row.model);
      if (across) row.across = across;
    }
  }
  const allDatasets = [...new Set([...datasetIds, ...(datasets ?? [])])].sort();

  const metricNames = [...metricSet].sort();
  const primaryIndex = metricNames.indexOf(primaryMetric);
  if (primaryIndex > 0) metricNames.unshift(...metricNames.splice(primaryIndex, 1));

  const board: Leaderboard = {
    benchmark: input.benchmark,
    name: record.name,
    publish: policy.publish,
    primaryMetric,
    direction: policy.direction,
    counts: { models: byModel.size, datasets: allDatasets.length, results: results.length },
    lastUpdate,
    metricNames,
    rows,
    datasets: allDatasets.map((id) => ({
      id,
      name: input.datasetRecords?.[id]?.name ?? id,
      link: paths.dataset(id),
    })),
    links: { benchmark: paths.benchmark(input.benchmark) },
    coverage: coverageOf(publishes.coverage, [...byModel.keys()].sort(), allDatasets, results),
    history: [],
  };
  if (record.description !== undefined) board.description = record.description;
  if (record.docs_url !== undefined) board.docsUrl = record.docs_url;
  if (perDataset) board.cells = cells;
  return board;
}

/** Competition ranks of values, best first ("1, 2, 2, 4"), by key. */
function ranksOf(entries: Array<[string, number]>, direction: 'higher' | 'lower'): Map<string, number> {
  const sorted = [...entries].sort((a, b) => (direction === 'higher' ? b[1] - a[1] : a[1] - b[1]) || compareIds(a[0], b[0]));
  const ranks = new Map<string, number>();
  sorted.forEach(([key, value], i) => {
    const prev = sorted[i - 1];
    ranks.set(key, prev && prev[1] === value ? ranks.get(prev[0])! : i + 1);
  });
  return ranks;
}

/** Each model's standing across datasets, from the per-dataset cells (only under `per-dataset`). */
export function acrossDatasets(cells: LeaderboardCell[], direction: 'higher' | 'lower'): Map<string, AcrossDatasets> {
  const byDataset = new Map<string, Array<[string, number]>>();
  for (const c of cells) {
    if (c.primary === null) continue;
    let list = byDataset.get(c.dataset);
    if (!list) byDataset.set(c.dataset, (list = []));
    list.push([c.model, c.primary]);
  }
  const perModel = new Map<string, Array<{ dataset: string; value: number; rank: number }>>();
  for (const [dataset, entries] of [...byDataset].sort((a, b) => compareIds(a[0], b[0]))) {
    const ranks = ranksOf(entries, direction);
    for (const [model, value] of entries) {
      let list = perModel.get(model);
      if (!list) perModel.set(model, (list = []));
      list.push({ dataset, value, rank: ranks.get(model)! });
    }
  }
  const worse = (a: number, b: number) => (direction === 'higher' ? a < b : a > b);
  const out = new Map<string, AcrossDatasets>();
  for (const [model, list] of perModel) {
    let worst = list[0]!;
    for (const e of list) if (worse(e.value, worst.value)) worst = e;
    const values = list.map((e) => e.value);
    out.set(model, {
      meanRank: mean(list.map((e) => e.rank)),
      datasets: list.length,
      worst,
      min: Math.min(...values),
      max: Math.max(...values),
    });
  }
  return out;
}

/** Which approved pairs have results, at the detail the policy allows. */
function coverageOf(
  detail: ReturnType<typeof publication>['coverage'],
  models: string[],
  datasets: string[],
  results: Array<{ model: string; dataset: string }>,
): Coverage {
  const modelSet = new Set(models);
  const datasetSet = new Set(datasets);
  const done = new Set<string>();
  for (const r of results) if (modelSet.has(r.model) && datasetSet.has(r.dataset)) done.add(`${r.model}\n${r.dataset}`);
  const pairs = models.length * datasets.length;
  const coverage: Coverage = { pairs, withResults: done.size, waiting: pairs - done.size };
  if (detail === 'totals') return coverage;
  coverage.models = models.map((model) => {
    const ran = datasets.filter((d) => done.has(`${model}\n${d}`)).length;
    return { model, datasets: ran, waiting: datasets.length - ran };
  });
  if (detail === 'matrix') {
    coverage.waitingPairs = models.flatMap((model) => datasets.filter((d) => !done.has(`${model}\n${d}`)).map((dataset) => ({ model, dataset })));
  }
  return coverage;
}

function ordinal(n: number): string {
  const rem100 = n % 100;
  if (rem100 >= 11 && rem100 <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/** A number as the leaderboard shows it: three significant digits, integers as they are. */
export function formatMetric(value: number, digits = 3): string {
  if (Number.isInteger(value)) return String(value);
  if (Math.abs(value) >= 10 ** digits) return value.toFixed(0);
  return String(Number(value.toPrecision(digits)));
}

/** "alice/cnn ranks 2nd of 5 on AUC" (or "would rank", for a preview). */
export function describeRank(board: Leaderboard, model: string, verb = 'ranks'): string {
  const row = board.rows.find((r) => r.model === model);
  const ranked = board.rows.filter((r) => r.rank !== null).length;
  if (!row) return `${model} is not on the ${board.benchmark} leaderboard`;
  if (row.rank === null) return `${model} is not ranked on ${board.primaryMetric}: ${row.withheld ?? 'no results'}`;
  return `${model} ${verb} ${ordinal(row.rank)} of ${ranked} on ${board.primaryMetric} (${formatMetric(row.primary!)})`;
}

/** What a change does to the leaderboard, one sentence per model whose row changed. */
export function previewChange(before: Leaderboard | undefined, after: Leaderboard): string[] {
  const lines: string[] = [];
  for (const row of after.rows) {
    const old = before?.rows.find((r) => r.model === row.model);
    if (old && old.rank === row.rank && old.primary === row.primary && old.datasetCount === row.datasetCount && old.withheld === row.withheld)
      continue;
    const now = describeRank(after, row.model, 'would rank');
    lines.push(old && old.rank !== null && row.rank !== null ? `${now}; now ${ordinal(old.rank)}` : now);
  }
  return lines;
}

/**
 * Results are read straight from the tree, not through the view's cache: a leaderboard reads each
 * once, and a registry of 100,000 results should not stay in memory to be built.
 */
/** Sees each result a leaderboard reads, with the bytes it was read from (the site keeps their Git blob ids for the history). */
export type ResultReader = (path: string, bytes: Buffer, record: ResultRecord) => void;

async function readResults(view: RegistryView, paths: string[], onResult?: ResultReader): Promise<LeaderboardInput['results']> {
  const results: LeaderboardInput['results'] = [];
  for (let i = 0; i < paths.length; i += 64) {
    const batch = await Promise.all(
      paths.slice(i, i + 64).map(async (p) => {
        const read = await readLimited(view.tree, p, MAX_RECORD_BYTES);
        const record = read?.bytes ? loadRecord(p, read.bytes).record : undefined;
        if (onResult && record?.where.kind === 'result') onResult(p, read!.bytes!, record.data as ResultRecord);
        return record;
      }),
    );
    for (const r of batch) {
      if (r?.where.kind !== 'result') continue;
      results.push({ dataset: r.where.dataset, model: r.where.model, record: r.data as ResultRecord });
    }
  }
  return results;
}

/** Every benchmark's leaderboard input, one benchmark at a time. */
export async function* leaderboardInputs(view: RegistryView, only?: string[], onResult?: ResultReader): AsyncGenerator<LeaderboardInput> {
  const cubes: Record<string, Pick<CubeRecord, 'name'> | undefined> = {};
  const datasetRecords: Record<string, Pick<DatasetRecord, 'name'> | undefined> = {};
  for (const [benchmark, e] of await benchmarkContents(view, only)) {
    const loaded = e.benchmark ? await view.benchmark(benchmark) : undefined;
    if (!loaded) continue;
    const results = await readResults(view, e.results, onResult);
    for (const id of e.models) if (!(id in cubes)) cubes[id] = pickName((await view.cube(id))?.data);
    for (const id of e.datasets) if (!(id in datasetRecords)) datasetRecords[id] = pickName((await view.dataset(id))?.data);
    yield { benchmark, record: loaded.data, results, models: e.models, datasets: e.datasets, cubes, datasetRecords };
  }
}

function pickName(record: { name: string } | undefined): { name: string } | undefined {
  return record ? { name: record.name } : undefined;
}

/** Every benchmark's leaderboard input, read from a registry through its view. */
export async function loadLeaderboardInputs(view: RegistryView, only?: string[]): Promise<LeaderboardInput[]> {
  const inputs: LeaderboardInput[] = [];
  for await (const input of leaderboardInputs(view, only)) inputs.push(input);
  return inputs;
}

/** Every benchmark's leaderboard, one benchmark in memory at a time. */
export async function loadLeaderboards(view: RegistryView, only?: string[]): Promise<Leaderboard[]> {
  const boards: Leaderboard[] = [];
  for await (const input of leaderboardInputs(view, only)) boards.push(computeLeaderboard(input));
  return boards;
}

/**
 * What a change does to the leaderboards of the benchmarks whose results it touches: one sentence
 * per model whose row moves, computed under each benchmark's policy like the site itself.
 */
export async function previewLeaderboards(base: RegistryView, head: RegistryView, changed: string[]): Promise<string[]> {
  const touched = new Map<string, Set<string>>();
  for (const path of changed) {
    const where = parseRecordPath(path);
    if (where?.kind !== 'result') continue;
    let models = touched.get(where.benchmark);
    if (!models) touched.set(where.benchmark, (models = new Set()));
    models.add(where.model);
  }
  const lines: string[] = [];
  for (const [benchmark, models] of [...touched].sort((a, b) => compareIds(a[0], b[0]))) {
    const [after] = await loadLeaderboardInputs(head, [benchmark]);
    if (!after) continue;
    // Its results are sealed: only the site, with its key, computes where they rank.
    if (readByCommittee(after.record)) {
      lines.push(`${benchmark}: its results are read by its committee only; the site ranks them once they merge`);
      continue;
    }
    const [before] = await loadLeaderboardInputs(base, [benchmark]);
    const board = computeLeaderboard(after);
    const previous = before ? computeLeaderboard(before) : undefined;
    for (const line of previewChange(previous, board)) {
      if ([...models].some((m) => line.startsWith(`${m} `))) lines.push(`${benchmark}: ${line}`);
    }
  }
  return lines;
}
