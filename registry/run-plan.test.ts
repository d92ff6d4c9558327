import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { benchmark, dataset, result } from '../testing/records.ts';
import { byPriority, outgoingVersion, planRun, type RunFacts, runRefusal, runsAgain } from './run-plan.ts';

const facts = (over: Partial<RunFacts> = {}): RunFacts => ({
  benchmark: 'chestxray',
  benchmarkRecord: benchmark(),
  dataset: 'dora/xrays',
  datasetRecord: dataset(),
  preparedUid: dataset().generated_uid,
  datasetAssociated: true,
  approved: [
    { model: 'bob/resnet', priority: 2 },
    { model: 'carol/chestxray-ref', priority: 0 },
    { model: 'alice/vit', priority: 2 },
  ],
  ...over,
});

describe('which models a run executes, and in which order', () => {
  it('runs every approved model by priority, then by id', () => {
    expect(planRun(facts())).toEqual({ models: ['carol/chestxray-ref', 'alice/vit', 'bob/resnet'] });
  });

  it('runs only the models asked for, in the priority order', () => {
    expect(planRun(facts({ requested: ['bob/resnet', 'carol/chestxray-ref'] }))).toEqual({ models: ['carol/chestxray-ref', 'bob/resnet'] });
  });

  it('orders any set of associations by priority, ties by id', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.record({ model: fc.stringMatching(/^[a-z]{1,4}\/[a-z]{1,4}$/), priority: fc.integer({ min: -5, max: 5 }) }), { selector: (a) => a.model }), (list) => {
        const order = byPriority(list).map((m) => list.find((a) => a.model === m)!);
        expect(order.map((a) => a.model).sort()).toEqual(list.map((a) => a.model).sort());
        for (let i = 1; i < order.length; i++) {
          const [a, b] = [order[i - 1]!, order[i]!];
          expect(a.priority < b.priority || (a.priority === b.priority && a.model.localeCompare(b.model) < 0)).toBe(true);
        }
      }),
    );
  });
});

describe('what blocks a run, and the error it stops with', () => {
  const cases: Array<[string, Partial<RunFacts>, string, string]> = [
    ['a benchmark in development', { benchmarkRecord: benchmark({ state: 'development' }) }, 'benchmark-not-operational', 'the benchmark chestxray is in development: it takes no results yet; nothing was run'],
    ['a dataset not registered', { datasetRecord: undefined }, 'not-registered', 'the dataset dora/xrays is not in the registry; register it with `medperf-git dataset submit`'],
    ['a dataset in development', { datasetRecord: dataset({ state: 'development' }) }, 'dataset-in-development', 'the dataset dora/xrays is still in development'],
    ['data prepared differently', { preparedUid: 'f'.repeat(64) }, 'prepared-data-mismatch', `the prepared data here (generated_uid ${'f'.repeat(64)}) is not the data registered as dora/xrays`],
    ['data not prepared', { preparedUid: undefined }, 'prepared-data-mismatch', 'the prepared data here (generated_uid none)'],
    ['a dataset not associated', { datasetAssociated: false }, 'not-approved', 'the dataset dora/xrays is not associated with chestxray; ask with `medperf-git dataset associate -b chestxray -d dora/xrays`'],
    ['a model asked for that is not approved', { requested: ['bob/resnet', 'eve/unknown'] }, 'not-approved', 'the model eve/unknown is not associated with chestxray; nothing was run'],
    ['no approved model', { approved: [] }, 'no-models', 'no model is approved for chestxray yet; nothing was run'],
  ];
  for (const [what, over, code, message] of cases) {
    it(`refuses ${what}`, () => {
      const f = facts(over);
      const decided = planRun(f);
      expect('blocked' in decided).toBe(true);
      if (!('blocked' in decided)) return;
      const error = runRefusal(decided.blocked, f);
      expect(error.code).toBe(code);
      expect(error.message).toContain(message);
    });
  }

  it('names the pending pull request of an association that waits for the committee', () => {
    const f = facts({ datasetAssociated: false });
    const decided = planRun(f);
    if (!('blocked' in decided)) throw new Error('not blocked');
    expect(decided.blocked).toEqual({ reason: 'dataset-not-associated', path: 'benchmarks/chestxray/datasets/dora/xrays.yaml' });
    expect(runRefusal(decided.blocked, f, 7).message).toBe('the dataset dora/xrays is not approved for chestxray yet: its association pull request #7 waits for the committee; nothing was run');
    const m = facts({ requested: ['eve/unknown'] });
    const blocked = planRun(m);
    if (!('blocked' in blocked)) throw new Error('not blocked');
    expect(blocked.blocked).toEqual({ reason: 'model-not-approved', model: 'eve/unknown', path: 'benchmarks/chestxray/models/eve/unknown.yaml' });
    expect(runRefusal(blocked.blocked, m, 9).message).toBe('the model eve/unknown is not approved for chestxray: its association pull request #9 waits for the committee; nothing was run');
  });
});

describe('reusing finished executions', () => {
  it('reuses a cached execution unless told otherwise', () => {
    expect(runsAgain({ noCache: false, newResult: false }, 'T1', 'T1')).toBe(false);
    expect(runsAgain({ noCache: true, newResult: false }, 'T1', undefined)).toBe(true);
    expect(runsAgain({ noCache: false, newResult: true }, 'T1', 'T1')).toBe(true);
    expect(runsAgain({ noCache: false, newResult: true }, 'T2', 'T1')).toBe(false);
    expect(runsAgain({ noCache: false, newResult: true }, undefined, 'T1')).toBe(false);
    expect(runsAgain({ noCache: false, newResult: true }, 'T1', undefined)).toBe(false);
  });
});

describe('which result versions go out', () => {
  const registered = result({ version: 3 });
  it('sends a new result as version 1, a rerun as the next version, and leaves out what the registry holds exactly', () => {
    expect(outgoingVersion(undefined, { executed_at: '2026-11-21T10:00:00Z', metrics: { AUC: 0.9 } })).toBe(1);
    expect(outgoingVersion(registered, { executed_at: '2026-11-21T10:00:00Z', metrics: registered.metrics! })).toBe(4);
    expect(outgoingVersion(registered, { executed_at: registered.provenance.executed_at, metrics: { AUC: 0.5 } })).toBe(4);
    expect(outgoingVersion(registered, { executed_at: registered.provenance.executed_at, metrics: structuredClone(registered.metrics!) })).toBeUndefined();
  });
  it('takes an encrypted result for the same execution when it ran at the same time, and a later run for a new version', () => {
    const { metrics: _clear, ...sealed } = registered;
    expect(outgoingVersion(sealed, { executed_at: registered.provenance.executed_at, metrics: { AUC: 0.5 } })).toBeUndefined();
    expect(outgoingVersion(sealed, { executed_at: '2026-11-21T10:00:00Z', metrics: { AUC: 0.5 } })).toBe(4);
  });
});
