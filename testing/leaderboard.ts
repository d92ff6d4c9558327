// A small leaderboard fixture builder for tests: records in memory, ids as their paths give them.
import { historyPoint } from '../registry/history.ts';
import { computeLeaderboard, type HistoryPoint, type LeaderboardInput } from '../registry/leaderboard.ts';
import type { BenchmarkRecord, Metrics, ResultRecord } from '../registry/records.ts';

const HASH = 'a'.repeat(64);

export function benchmarkRecord(
  name: string,
  policy: Partial<BenchmarkRecord['results_policy']> = {},
  extra: Partial<BenchmarkRecord> = {},
): BenchmarkRecord {
  return {
    name,
    description: `The ${name} benchmark`,
    committee: ['committee-chair'],
    data_preparation_mlcube: 'bench-owner/prep',
    reference_model: 'bench-owner/reference',
    data_evaluator_mlcube: 'bench-owner/metrics',
    demo_dataset: { url: 'https://example.org/demo.tar.gz', sha256: HASH, generated_uid: HASH },
    results_policy: { publish: 'per-dataset', primary_metric: 'AUC', direction: 'higher', ...policy },
    state: 'operational',
    ...extra,
  };
}

export function resultRecord(
  benchmark: string,
  dataset: string,
  model: string,
  metrics: Metrics,
  opts: { partial?: boolean; executedAt?: string } = {},
): ResultRecord {
  return {
    benchmark,
    model,
    dataset,
    metrics,
    partial: opts.partial ?? false,
    version: 1,
    provenance: {
      cubes: { model: { id: model, config_sha256: HASH, image: `sha256:${HASH}` } },
      dataset_generated_uid: HASH,
      medperf_git_version: '0.1.0',
      executed_at: opts.executedAt ?? '2026-11-01T10:00:00Z',
    },
  };
}

/**
 * A leaderboard input from a compact table: `scores[model][dataset] = metrics`. Every model and
 * dataset named is associated.
 */
export function leaderboardInput(
  benchmark: string,
  policy: Partial<BenchmarkRecord['results_policy']>,
  scores: Record<string, Record<string, Metrics>>,
  names: { cubes?: Record<string, string>; datasets?: Record<string, string> } = {},
): LeaderboardInput {
  const results: LeaderboardInput['results'] = [];
  const datasets = new Set<string>();
  let minute = 0;
  for (const [model, byDataset] of Object.entries(scores)) {
    for (const [dataset, metrics] of Object.entries(byDataset)) {
      datasets.add(dataset);
      const executedAt = new Date(Date.UTC(2026, 10, 1, 10, minute++)).toISOString();
      results.push({ model, dataset, record: resultRecord(benchmark, dataset, model, metrics, { executedAt }) });
    }
  }
  return {
    benchmark,
    record: benchmarkRecord(benchmark, policy),
    results,
    models: Object.keys(scores),
    datasets: [...datasets],
    cubes: Object.fromEntries(Object.entries(names.cubes ?? {}).map(([id, name]) => [id, { name }])),
    datasetRecords: Object.fromEntries(Object.entries(names.datasets ?? {}).map(([id, name]) => [id, { name }])),
  };
}

/**
 * The history a registry would have had if the input's results had merged one at a time, in the
 * order of their execution, a day apart: one point per merge, as the site publishes it.
 */
export function historyOf(input: LeaderboardInput): HistoryPoint[] {
  const results = [...input.results].sort((a, b) => Date.parse(a.record.provenance.executed_at) - Date.parse(b.record.provenance.executed_at));
  return results.map((r, i) => {
    const board = computeLeaderboard({ ...input, results: results.slice(0, i + 1) });
    const at = new Date(Date.UTC(2026, 9, 1 + i, 12)).toISOString();
    return historyPoint(board, at, (i + 1).toString(16).padStart(40, '0'), [{ model: r.model, dataset: r.dataset, version: r.record.version }]);
  });
}
