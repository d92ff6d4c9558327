import { describe, expect, it } from 'vitest';
import {
  computeLeaderboard,
  describeRank,
  formatMetric,
  loadLeaderboardInputs,
  previewChange,
  previewLeaderboards,
} from './leaderboard.ts';
import { benchmarkRecord, leaderboardInput, resultRecord } from '../testing/leaderboard.ts';
import { createView } from './load.ts';
import { publication } from './publication.ts';
import { memoryTree } from './trees.ts';

const scores = {
  'alice/cnn': { 'hosp-a/ct': { AUC: 0.8137, Dice: { mean: 0.71 } }, 'hosp-b/mri': { AUC: 0.9021, Dice: { mean: 0.69 } } },
  'bob/unet': { 'hosp-a/ct': { AUC: 0.7261, Dice: { mean: 0.75 } }, 'hosp-b/mri': { AUC: 0.6843, Dice: { mean: 0.77 } } },
  'carol/vit': { 'hosp-a/ct': { AUC: 0.9512, Dice: { mean: 0.8 } } },
};

/** Every number a leaderboard holds, wherever it sits. */
function numbersIn(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (value && typeof value === 'object') return Object.values(value).flatMap(numbersIn);
  return [];
}

describe('computeLeaderboard', () => {
  it('ranks by the mean primary metric, higher is better, and publishes the cross product under per-dataset', () => {
    const board = computeLeaderboard(leaderboardInput('lung', { publish: 'per-dataset' }, scores, { cubes: { 'alice/cnn': 'Alice CNN' } }));
    expect(board.rows.map((r) => [r.rank, r.model, r.primary && Number(r.primary.toFixed(4))])).toEqual([
      [1, 'carol/vit', 0.9512],
      [2, 'alice/cnn', 0.8579],
      [3, 'bob/unet', 0.7052],
    ]);
    expect(board.rows[1]!.modelName).toBe('Alice CNN');
    expect(board.rows[1]!.metrics['Dice.mean']).toBeCloseTo(0.7);
    expect(board.rows[1]!.datasetCount).toBe(2);
    expect(board.counts).toEqual({ models: 3, datasets: 2, results: 5 });
    expect(board.metricNames).toEqual(['AUC', 'Dice.mean']);
    expect(board.lastUpdate).toBe('2026-11-01T10:04:00.000Z');
    expect(board.cells).toHaveLength(5);
    expect(board.cells![0]).toMatchObject({ model: 'alice/cnn', dataset: 'hosp-a/ct', primary: 0.8137 });
    expect(board.cells![0]!.link).toBe('benchmarks/lung/results/hosp-a/ct/alice/cnn.yaml');
  });

  it('ranks lower-is-better metrics ascending and gives ties the same rank', () => {
    const board = computeLeaderboard(
      leaderboardInput('seg', { primary_metric: 'loss', direction: 'lower' }, {
        'a/m1': { 'd/x': { loss: 0.3 } },
        'a/m2': { 'd/x': { loss: 0.1 } },
        'a/m3': { 'd/x': { loss: 0.3 } },
        'a/m4': { 'd/x': { other: 1 } },
      }),
    );
    expect(board.rows.map((r) => [r.model, r.rank])).toEqual([
      ['a/m2', 1],
      ['a/m1', 2],
      ['a/m3', 2],
      ['a/m4', null],
    ]);
    expect(board.rows[3]!.withheld).toBe('no loss in its results');
  });

  it('under an aggregate policy lets no per-dataset number out, nor a mean over a single dataset', () => {
    const board = computeLeaderboard(leaderboardInput('lung', { publish: 'aggregate' }, scores));
    expect(board.cells).toBeUndefined();
    expect(board.rows.map((r) => [r.rank, r.model])).toEqual([
      [1, 'alice/cnn'],
      [2, 'bob/unet'],
      [null, 'carol/vit'],
    ]);
    expect(board.rows[2]!.withheld).toBe('published once the model has results on 2 datasets');
    expect(board.rows[2]!.metrics).toEqual({});
    expect(board.rows.every((r) => r.datasetCount === undefined && r.across === undefined)).toBe(true);
    expect(board.coverage).toEqual({ pairs: 6, withResults: 5, waiting: 1 });
    const perDataset = Object.values(scores).flatMap((byDataset) => Object.values(byDataset).flatMap(numbersIn));
    const published = numbersIn(board);
    for (const n of perDataset) expect(published).not.toContain(n);
    expect(JSON.stringify(board)).not.toMatch(/0\.8137|0\.9021|0\.7261|0\.6843|0\.9512/);
  });

  it('under per-model publishes each model count of datasets but no cross product', () => {
    const board = computeLeaderboard(leaderboardInput('lung', { publish: 'per-model' }, scores));
    expect(board.cells).toBeUndefined();
    expect(board.rows.map((r) => [r.model, r.datasetCount])).toEqual([
      ['alice/cnn', 2],
      ['bob/unet', 2],
      ['carol/vit', 1],
    ]);
    expect(board.rows[2]!.primary).toBeNull();
  });

  it('counts only results whose model and dataset associations are approved', () => {
    const input = leaderboardInput('lung', {}, scores);
    input.results.push({
      model: 'mallory/unapproved',
      dataset: 'hosp-a/ct',
      record: resultRecord('lung', 'hosp-a/ct', 'mallory/unapproved', { AUC: 1 }, { executedAt: '2027-01-01T00:00:00Z' }),
    });
    const board = computeLeaderboard(input);
    expect(board.rows.map((r) => r.model)).not.toContain('mallory/unapproved');
    expect(board.lastUpdate).toBe('2026-11-01T10:04:00.000Z');
    expect(board.counts.results).toBe(5);
  });

  it('under per-dataset ranks each model on each dataset: mean rank, worst dataset, spread, datasets covered', () => {
    const board = computeLeaderboard(leaderboardInput('lung', { publish: 'per-dataset' }, scores));
    const across = Object.fromEntries(board.rows.map((r) => [r.model, r.across]));
    // hosp-a/ct: carol 0.9512, alice 0.8137, bob 0.7261; hosp-b/mri: alice 0.9021, bob 0.6843.
    expect(across['alice/cnn']).toEqual({ meanRank: 1.5, datasets: 2, worst: { dataset: 'hosp-a/ct', value: 0.8137, rank: 2 }, min: 0.8137, max: 0.9021 });
    expect(across['bob/unet']).toEqual({ meanRank: 2.5, datasets: 2, worst: { dataset: 'hosp-b/mri', value: 0.6843, rank: 2 }, min: 0.6843, max: 0.7261 });
    expect(across['carol/vit']).toEqual({ meanRank: 1, datasets: 1, worst: { dataset: 'hosp-a/ct', value: 0.9512, rank: 1 }, min: 0.9512, max: 0.9512 });
    const lower = computeLeaderboard(leaderboardInput('seg', { publish: 'per-dataset', primary_metric: 'loss', direction: 'lower' }, {
      'a/m1': { 'd/x': { loss: 0.3 }, 'd/y': { loss: 0.2 } },
      'a/m2': { 'd/x': { loss: 0.3 }, 'd/y': { loss: 0.4 } },
    }));
    expect(lower.rows.map((r) => [r.model, r.across?.meanRank, r.across?.worst.dataset])).toEqual([
      ['a/m1', 1, 'd/x'],
      ['a/m2', 1.5, 'd/y'],
    ]);
  });

  it('says which approved pairs wait for a run: every pair under per-dataset, per model or in total otherwise', () => {
    const input = () => {
      const i = leaderboardInput('lung', {}, scores);
      i.models!.push('dave/new');
      return i;
    };
    const grid = (publish: 'per-dataset' | 'per-model' | 'aggregate') => {
      const i = input();
      i.record.results_policy.publish = publish;
      return computeLeaderboard(i).coverage;
    };
    expect(grid('per-dataset')).toEqual({
      pairs: 8,
      withResults: 5,
      waiting: 3,
      models: [
        { model: 'alice/cnn', datasets: 2, waiting: 0 },
        { model: 'bob/unet', datasets: 2, waiting: 0 },
        { model: 'carol/vit', datasets: 1, waiting: 1 },
        { model: 'dave/new', datasets: 0, waiting: 2 },
      ],
      waitingPairs: [
        { model: 'carol/vit', dataset: 'hosp-b/mri' },
        { model: 'dave/new', dataset: 'hosp-a/ct' },
        { model: 'dave/new', dataset: 'hosp-b/mri' },
      ],
    });
    const perModel = grid('per-model');
    expect(perModel.waitingPairs).toBeUndefined();
    expect(perModel.models).toEqual(grid('per-dataset').models);
    expect(grid('aggregate')).toEqual({ pairs: 8, withResults: 5, waiting: 3 });
  });

  it('publishes the least under a policy it does not know', () => {
    expect(publication('per-dataset')).toMatchObject({ perDataset: true, coverage: 'matrix', history: 'rankings' });
    expect(publication('bogus' as never)).toEqual(publication('aggregate'));
    const board = computeLeaderboard(leaderboardInput('lung', { publish: 'bogus' as never }, scores));
    expect(board.cells).toBeUndefined();
    expect(board.rows.every((r) => r.datasetCount === undefined && r.across === undefined)).toBe(true);
    expect(board.coverage.models).toBeUndefined();
  });

  it('lists an associated model without results as unranked', () => {
    const input = leaderboardInput('lung', {}, { 'a/m1': { 'd/x': { AUC: 0.5 } } });
    input.models!.push('a/new');
    const board = computeLeaderboard(input);
    expect(board.rows.map((r) => [r.model, r.rank, r.withheld])).toEqual([
      ['a/m1', 1, undefined],
      ['a/new', null, 'no results yet'],
    ]);
  });
});

describe('rank sentences', () => {
  it('says where a model would rank after a change', () => {
    const before = computeLeaderboard(leaderboardInput('lung', {}, { 'bob/unet': scores['bob/unet'], 'carol/vit': scores['carol/vit'] }));
    const after = computeLeaderboard(leaderboardInput('lung', {}, scores));
    expect(describeRank(after, 'alice/cnn')).toBe('alice/cnn ranks 2nd of 3 on AUC (0.858)');
    expect(previewChange(before, after)).toEqual(['alice/cnn would rank 2nd of 3 on AUC (0.858)', 'bob/unet would rank 3rd of 3 on AUC (0.705); now 2nd']);
    const many = computeLeaderboard(
      leaderboardInput('big', {}, Object.fromEntries(Array.from({ length: 23 }, (_, i) => [`o/m${String(i).padStart(2, '0')}`, { 'd/x': { AUC: 1 - i / 100 } }]))),
    );
    expect(['o/m00', 'o/m01', 'o/m02', 'o/m03', 'o/m10', 'o/m11', 'o/m12', 'o/m20', 'o/m21', 'o/m22'].map((m) => describeRank(many, m).split(' ')[2])).toEqual([
      '1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '23rd',
    ]);
    expect(formatMetric(0.81234)).toBe('0.812');
    expect(formatMetric(12)).toBe('12');
    expect(formatMetric(12345.6)).toBe('12346');
  });
});

describe('leaderboards read from a registry', () => {
  const test = { metrics: { AUC: 0.5 }, dataset_generated_uid: 'a'.repeat(64), medperf_git_version: '0.1.0' };
  function files(scoresByModel: Record<string, Record<string, number>>): Record<string, string> {
    const out: Record<string, string> = {
      'benchmarks/lung/benchmark.yaml': JSON.stringify(benchmarkRecord('lung', { publish: 'per-model' })),
    };
    for (const [model, byDataset] of Object.entries(scoresByModel)) {
      out[`benchmarks/lung/models/${model}.yaml`] = JSON.stringify({ initiated_by: model.split('/')[0], compatibility_test: test, priority: 1 });
      for (const [dataset, auc] of Object.entries(byDataset)) {
        out[`benchmarks/lung/datasets/${dataset}.yaml`] = JSON.stringify({ initiated_by: dataset.split('/')[0], compatibility_test: test });
        out[`benchmarks/lung/results/${dataset}/${model}.yaml`] = JSON.stringify(resultRecord('lung', dataset, model, { AUC: auc }));
      }
    }
    return out;
  }

  it('loads each benchmark and previews where a result PR moves its model', async () => {
    const before = { 'bob/unet': { 'h-a/ct': 0.7, 'h-b/mri': 0.72 }, 'carol/vit': { 'h-a/ct': 0.9, 'h-b/mri': 0.94 } };
    const after = { ...before, 'alice/cnn': { 'h-a/ct': 0.8, 'h-b/mri': 0.82 } };
    const base = createView(memoryTree(files(before)));
    const head = createView(memoryTree(files(after)));
    const [input] = await loadLeaderboardInputs(head);
    expect(computeLeaderboard(input!).rows.map((r) => r.model)).toEqual(['carol/vit', 'alice/cnn', 'bob/unet']);
    const changed = ['benchmarks/lung/results/h-a/ct/alice/cnn.yaml', 'benchmarks/lung/results/h-b/mri/alice/cnn.yaml'];
    expect(await previewLeaderboards(base, head, changed)).toEqual(['lung: alice/cnn would rank 2nd of 3 on AUC (0.81)']);
    // A committee-only benchmark: the preview, made without the site key, says why it shows no rank.
    const sealed = (scores: typeof before) => {
      const out = files(scores);
      out['benchmarks/lung/benchmark.yaml'] = JSON.stringify(benchmarkRecord('lung', { publish: 'per-model', read: 'committee' }));
      return createView(memoryTree(out));
    };
    expect(await previewLeaderboards(sealed(before), sealed(after), changed)).toEqual([
      'lung: its results are read by its committee only; the site ranks them once they merge',
    ]);
  });
});
