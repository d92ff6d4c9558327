// The site's tables as CSV, for spreadsheets and scripts: each file holds what the matching page
// and JSON file hold, so the results policy bounds them the same way (they are written from the
// same computed leaderboard). Text that a spreadsheet would run as a formula is escaped.
import { stringify } from 'csv-stringify/sync';
import type { Leaderboard } from '../leaderboard.ts';

type Cell = string | number | boolean | null | undefined;

export function csv(header: string[], rows: Cell[][]): string {
  const cell = (c: Cell) => (c === null || c === undefined ? '' : typeof c === 'boolean' ? String(c) : c);
  return stringify([header, ...rows.map((r) => r.map(cell))], { escape_formulas: true, record_delimiter: '\n' });
}

/** The index: one line per benchmark. */
export function indexCsv(boards: Leaderboard[]): string {
  return csv(
    ['benchmark', 'name', 'publish', 'primary_metric', 'direction', 'models', 'datasets', 'results', 'last_update', 'leader', 'leader_primary'],
    boards.map((b) => {
      const leader = b.rows.find((r) => r.rank === 1);
      return [b.benchmark, b.name, b.publish, b.primaryMetric, b.direction, b.counts.models, b.counts.datasets, b.counts.results, b.lastUpdate, leader?.model, leader?.primary];
    }),
  );
}

/** The ranking: one line per model, every published metric, and its standing across datasets where published. */
export function rankingCsv(board: Leaderboard): string {
  const counted = board.rows.some((r) => r.datasetCount !== undefined);
  const across = board.rows.some((r) => r.across !== undefined);
  const header = [
    'rank',
    'model',
    'model_name',
    ...(counted ? ['datasets'] : []),
    ...board.metricNames,
    ...(across ? ['mean_rank', 'datasets_ranked', 'worst_dataset', 'worst_value', 'min', 'max'] : []),
    'partial',
    'withheld',
  ];
  const rows = board.rows.map((r) => [
    r.rank,
    r.model,
    r.modelName,
    ...(counted ? [r.datasetCount] : []),
    ...board.metricNames.map((m) => r.metrics[m]),
    ...(across ? [r.across?.meanRank, r.across?.datasets, r.across?.worst.dataset, r.across?.worst.value, r.across?.min, r.across?.max] : []),
    r.partial,
    r.withheld,
  ]);
  return csv(header, rows);
}

/** Every model on every dataset: only where the policy publishes per dataset. */
export function resultsCsv(board: Leaderboard): string | undefined {
  if (!board.cells) return undefined;
  return csv(
    ['model', 'dataset', ...board.metricNames, 'partial', 'executed_at', 'record'],
    board.cells.map((c) => [c.model, c.dataset, ...board.metricNames.map((m) => c.metrics[m]), c.partial, c.executedAt, c.link]),
  );
}

/** Which approved pairs have a result, at the detail the policy publishes. */
export function coverageCsv(board: Leaderboard): string {
  const c = board.coverage;
  if (c.waitingPairs && board.cells) {
    const done = board.cells.map((x) => [x.model, x.dataset, 'result']);
    const waiting = c.waitingPairs.map((p) => [p.model, p.dataset, 'waiting']);
    return csv(['model', 'dataset', 'status'], [...done, ...waiting].sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0)));
  }
  if (c.models) return csv(['model', 'datasets_with_results', 'datasets_waiting'], c.models.map((m) => [m.model, m.datasets, m.waiting]));
  return csv(['pairs', 'with_results', 'waiting'], [[c.pairs, c.withResults, c.waiting]]);
}

/** The history: a line per merge, and under per-dataset a line per ranked model at each merge. */
export function historyCsv(board: Leaderboard): string {
  const rankings = board.history.some((p) => p.rows);
  if (!rankings) {
    return csv(['at', 'commit', 'models', 'datasets', 'results', 'ranked'], board.history.map((p) => [p.at, p.commit, p.counts.models, p.counts.datasets, p.counts.results, p.ranked]));
  }
  return csv(
    ['at', 'commit', 'models', 'datasets', 'results', 'ranked', 'model', 'rank', board.primaryMetric],
    board.history.flatMap((p) => {
      const base = [p.at, p.commit, p.counts.models, p.counts.datasets, p.counts.results, p.ranked];
      return p.rows && p.rows.length ? p.rows.map((r) => [...base, r.model, r.rank, r.primary]) : [[...base, '', '', '']];
    }),
  );
}
