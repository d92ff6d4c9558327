import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cleanMetrics, declaredNames, flattenMetrics, keepDeclared, leftOutLine, METRIC_KEY, metricNames, metricProblems, metricRows, metricValue, NamesNotDeclaredError, publishedUnder } from './metrics.ts';

describe('metric names', () => {
  it('names a number by the keys on the way to it, joined by dots, whether nested or dotted', () => {
    expect(metricRows({ AUC: 0.8, Dice: { mean: 0.7, per: { tumor: 0.6 } } })).toEqual([
      ['AUC', 0.8],
      ['Dice.mean', 0.7],
      ['Dice.per.tumor', 0.6],
    ]);
    expect(metricValue({ Dice: { mean: 0.7 } }, 'Dice.mean')).toBe(0.7);
    expect(metricValue({ 'Dice.mean': 0.7 }, 'Dice.mean')).toBe(0.7);
    expect(metricValue({ 'dice.v2': { mean: 0.6 } }, 'dice.v2.mean')).toBe(0.6);
    expect(metricValue({ a: { b: 2 } }, 'a.c')).toBeUndefined();
    expect(metricValue({ a: { b: 2 } }, 'a')).toBeUndefined();
  });

  it('takes the first of two numbers under one name, in the order the record lists them', () => {
    expect(metricValue({ 'a.b': 1, a: { b: 2 } }, 'a.b')).toBe(1);
    expect(metricValue({ a: { b: 2 }, 'a.b': 1 }, 'a.b')).toBe(2);
    expect(metricNames({ 'a.b': 1, a: { b: 2 } })).toEqual(['a.b']);
  });

  it('reads names such as __proto__ and constructor as any other name', () => {
    const metrics = JSON.parse('{"__proto__": 1, "constructor": {"toString": 2}}') as Record<string, unknown>;
    expect(metricRows(metrics)).toEqual([
      ['__proto__', 1],
      ['constructor.toString', 2],
    ]);
    expect(metricValue({}, 'constructor')).toBeUndefined();
    expect(metricValue({}, 'toString')).toBeUndefined();
  });

  it('leaves out what is not a finite number', () => {
    expect(metricRows({ a: Number.NaN, b: Infinity, c: 'text', d: [1], e: null, f: 1 })).toEqual([['f', 1]]);
  });
});

describe('cleanMetrics', () => {
  it('keeps numbers, booleans as 1 and 0, short names and three levels, and nothing else', () => {
    expect(
      cleanMetrics({
        AUC: 0.8,
        converged: true,
        failed: false,
        note: 'text',
        list: [1],
        'seen on John Doe': 1,
        empty: {},
        per: { a: { b: 1, c: { d: 2 } } },
      }),
    ).toEqual({ AUC: 0.8, converged: 1, failed: 0, per: { a: { b: 1 } } });
    expect(cleanMetrics('text')).toEqual({});
    expect(cleanMetrics([1, 2])).toEqual({});
  });

  it('gives metrics the schema accepts, for any input', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        const clean = cleanMetrics(raw);
        for (const [name, value] of metricRows(clean)) {
          expect(Number.isFinite(value)).toBe(true);
          expect(name.split('.').length).toBeGreaterThan(0);
        }
        const depth = (v: unknown): number => (v && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v).map(depth)) : 0);
        expect(depth(clean)).toBeLessThanOrEqual(3);
        const keys = (v: unknown): string[] => (v && typeof v === 'object' ? Object.entries(v).flatMap(([k, x]) => [k, ...keys(x)]) : []);
        for (const k of keys(clean)) expect(k).toMatch(METRIC_KEY);
      }),
    );
  });
});

describe('declared names', () => {
  it('keeps the declared names and says which were left out', () => {
    expect(keepDeclared({ AUC: { mean: 0.8, effusion: 0.7 }, F1: 0.3 }, ['AUC.mean', 'F1'])).toEqual({
      kept: { AUC: { mean: 0.8 }, F1: 0.3 },
      left: ['AUC.effusion'],
    });
    expect(keepDeclared({ 'a.b': 1, a: { b: 2 } }, ['a.b'])).toEqual({ kept: { 'a.b': 1 }, left: ['a.b'] });
  });

  it('finds every undeclared name, every name given twice and every empty mapping, with its place', () => {
    expect(
      metricProblems({ AUC: 0.8, Jane_Roe_DOB_1961_04_02_MRN_88123: 1, per: { 'x/y': 2, empty: {} }, 'AUC.x': 1, AUC2: 'text' }, new Set(['AUC', 'per.empty'])),
    ).toEqual([
      { pointer: '/Jane_Roe_DOB_1961_04_02_MRN_88123', under: '', name: 'Jane_Roe_DOB_1961_04_02_MRN_88123', kind: 'undeclared' },
      { pointer: '/per/x~1y', under: 'per', name: 'per.x/y', kind: 'undeclared' },
      { pointer: '/per/empty', under: 'per', name: 'per.empty', kind: 'empty' },
      { pointer: '/AUC.x', under: '', name: 'AUC.x', kind: 'undeclared' },
      { pointer: '/AUC2', under: '', name: 'AUC2', kind: 'undeclared' },
    ]);
    expect(metricProblems({ 'a.b': 1, a: { b: 2 } }, new Set(['a.b']))).toEqual([{ pointer: '/a/b', under: 'a', name: 'a.b', kind: 'twice' }]);
  });

  it('reports an undeclared key once, where it starts, however much is under it', () => {
    expect(metricProblems({ AUC: 0.8, john_doe: { AUC: 0.1, F1: 0.2 }, Dice: { mean: 1, patient_17: { x: 1, y: 2 } } }, new Set(['AUC', 'Dice.mean']))).toEqual([
      { pointer: '/john_doe', under: '', name: 'john_doe.AUC', kind: 'undeclared' },
      { pointer: '/Dice/patient_17', under: 'Dice', name: 'Dice.patient_17.x', kind: 'undeclared' },
    ]);
  });

  it('refuses every name outside the declaration, at any depth, and accepts what keepDeclared writes', () => {
    const key = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_:+-]{0,12}$/);
    const metrics = fc.letrec((tie) => ({
      block: fc.dictionary(key, fc.oneof({ depthSize: 'small' }, fc.double({ noNaN: true, noDefaultInfinity: true }), tie('inner')), { minKeys: 1, maxKeys: 5 }),
      inner: fc.dictionary(key, fc.double({ noNaN: true, noDefaultInfinity: true }), { minKeys: 1, maxKeys: 3 }),
    })).block;
    fc.assert(
      fc.property(metrics, fc.array(key, { maxLength: 6 }), (block, extra) => {
        const names = metricNames(block);
        // Declaring only some of the names: the others are found, each once, at its own place.
        const declared = new Set([...names.filter((_, i) => i % 2 === 0), ...extra]);
        const problems = metricProblems(block, declared);
        const undeclared = names.filter((n) => !declared.has(n));
        expect(problems.length > 0).toBe(undeclared.length > 0);
        for (const p of problems) {
          expect(p.kind).toBe('undeclared');
          expect(declared.has(p.name)).toBe(false);
        }
        // Every undeclared name is under one of the places reported.
        for (const n of undeclared) expect(problems.some((p) => `${n}.`.startsWith(`${p.pointer.slice(1).replace(/\//g, '.')}.`))).toBe(true);
        // What the CLI writes after filtering is always accepted.
        expect(metricProblems(keepDeclared(block as never, declared).kept, declared)).toEqual([]);
        expect(flattenMetrics(keepDeclared(block as never, declared).kept).size).toBe(names.filter((n) => declared.has(n)).length);
      }),
    );
  });
});

describe('what a record publishes under a benchmark', () => {
  const bench = { committee: ['bench-committee'] as [string], metric_names: ['AUC.mean'], statistics_names: ['num_samples'] };

  it('keeps the declared names and says which stay on the machine', () => {
    expect(publishedUnder('chestxray', bench, 'metric_names', { AUC: { mean: 0.8, effusion: 0.7 } })).toEqual({ kept: { AUC: { mean: 0.8 } }, left: ['AUC.effusion'] });
    expect(publishedUnder('chestxray', bench, 'statistics_names', { num_samples: 3, ward_3: 1 })).toEqual({ kept: { num_samples: 3 }, left: ['ward_3'] });
    expect(leftOutLine(['AUC.effusion'], 'metrics', 'chestxray')).toBe('Left out (metrics the benchmark chestxray does not declare, kept on this machine only): AUC.effusion');
    expect(leftOutLine([], 'metrics', 'chestxray')).toBeUndefined();
  });

  it('publishes nothing under a benchmark that declares no names, and says who can declare them', () => {
    const old = { committee: ['bench-committee'] as [string] };
    expect(() => publishedUnder('chestxray', old, 'metric_names', { AUC: 1 })).toThrow(NamesNotDeclaredError);
    expect(() => declaredNames('chestxray', old, 'statistics_names')).toThrow(
      'the benchmark chestxray declares no statistics_names yet, so nothing can be published under it: ask its committee (bench-committee) to run `medperf-git benchmark declare-names -b chestxray`; nothing was submitted',
    );
  });
});
