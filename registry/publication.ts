// What a benchmark's results policy lets the leaderboard publish, decided in one place. Every part
// of the leaderboard (the ranking, the standing across datasets, coverage, history, the files for
// download) asks this function, so the privacy boundary is one pure decision over the policy.
import type { BenchmarkRecord } from './records.ts';

export type PublishPolicy = BenchmarkRecord['results_policy']['publish'];

/** Below this many datasets a model's mean would disclose a single dataset's numbers. */
export const MIN_DATASETS_FOR_MEAN = 2;

export interface Publication {
  /** Each model's numbers on each dataset: the model x dataset grid, and results linked one by one. */
  perDataset: boolean;
  /** How many datasets each model has results on. */
  datasetCounts: boolean;
  /** A model's numbers are published once its results cover this many datasets. */
  minDatasetsForMean: number;
  /**
   * Which model x dataset pairs have results: every pair (`matrix`), per model how many datasets
   * it has run on and how many wait (`per-model`), or the totals only (`totals`).
   */
  coverage: 'matrix' | 'per-model' | 'totals';
  /**
   * How the leaderboard changed over time: each model's rank and number at every merge
   * (`rankings`), or only the counts (`counts`). A mean that moves when one dataset's result
   * arrives or changes gives that dataset's number away by difference, so past means are
   * published only where per-dataset numbers are.
   */
  history: 'rankings' | 'counts';
}

export function publication(publish: PublishPolicy): Publication {
  switch (publish) {
    case 'per-dataset':
      return { perDataset: true, datasetCounts: true, minDatasetsForMean: 1, coverage: 'matrix', history: 'rankings' };
    case 'per-model':
      return { perDataset: false, datasetCounts: true, minDatasetsForMean: MIN_DATASETS_FOR_MEAN, coverage: 'per-model', history: 'counts' };
    case 'aggregate':
      return { perDataset: false, datasetCounts: false, minDatasetsForMean: MIN_DATASETS_FOR_MEAN, coverage: 'totals', history: 'counts' };
    default:
      // An unknown policy publishes the least (fail closed).
      return { perDataset: false, datasetCounts: false, minDatasetsForMean: MIN_DATASETS_FOR_MEAN, coverage: 'totals', history: 'counts' };
  }
}
