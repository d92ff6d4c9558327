// Path <-> id: every path of the layout parses to the record it names and back, whatever the folder
// names are (a benchmark called `models` or `results` included), and nothing else parses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseRecordPath, paths, type RecordPath } from './layout.ts';

const segment = fc.constantFrom('benchmarks', 'mlcubes', 'datasets', 'people', 'grants', 'models', 'results', 'benchmark.yaml', 'registry.yaml', 'a.yaml', 'x', 'Bob', 'b-1', 'c.d', '');
const name = fc.stringMatching(/^[a-z0-9](?:[a-z0-9._-]{0,7}[a-z0-9_-])?$/);
const login = fc.stringMatching(/^[A-Za-z0-9]{1,4}(?:-[A-Za-z0-9]{1,4})?$/);

/** The path a parsed record path stands for, built back from its ids. */
function rebuild(w: RecordPath): string {
  switch (w.kind) {
    case 'registry':
      return paths.registry();
    case 'cube':
      return paths.cube(w.id);
    case 'dataset':
      return paths.dataset(w.id);
    case 'benchmark':
      return paths.benchmark(w.benchmark);
    case 'model-association':
      return paths.modelAssociation(w.benchmark, w.model);
    case 'dataset-association':
      return paths.datasetAssociation(w.benchmark, w.dataset);
    case 'result':
      return paths.result(w.benchmark, w.dataset, w.model);
    case 'person':
      return paths.person(w.login);
    case 'model-grant':
      return paths.modelGrant(w.model, w.grantee);
  }
}

describe('parseRecordPath', () => {
  it('parses every layout path to the ids it is built from', () => {
    fc.assert(
      fc.property(name, login, name, login, name, (b, o1, n1, o2, n2) => {
        for (const p of [
          paths.cube(`${o1}/${n1}`),
          paths.dataset(`${o1}/${n1}`),
          paths.benchmark(b),
          paths.modelAssociation(b, `${o1}/${n1}`),
          paths.datasetAssociation(b, `${o1}/${n1}`),
          paths.result(b, `${o1}/${n1}`, `${o2}/${n2}`),
          paths.modelGrant(`${o1}/${n1}`, o2),
        ]) {
          const w = parseRecordPath(p);
          expect(w, p).toBeDefined();
          expect(rebuild(w!)).toBe(p);
        }
      }),
      { numRuns: 300, seed: 9 },
    );
  });

  it('parses nothing else, and what it parses builds back to itself', () => {
    fc.assert(
      fc.property(fc.array(segment, { minLength: 1, maxLength: 8 }), (parts) => {
        const p = parts.join('/');
        const w = parseRecordPath(p);
        if (w) expect(rebuild(w)).toBe(p);
      }),
      { numRuns: 2000, seed: 9 },
    );
    for (const p of ['benchmarks/models/models/a/b.yaml', 'benchmarks/results/benchmark.yaml', 'benchmarks/datasets/results/a/b/c/d.yaml']) expect(parseRecordPath(p), p).toBeDefined();
    for (const p of ['benchmarks/x', 'benchmarks/x/results', 'benchmarks/x/benchmark.yaml/y', 'mlcubes/a/b/c.yaml', 'mlcubes/a/b/grants.yaml', 'mlcubes/a/b/grants/c/d.yaml', 'mlcubes/a/b/c/d.yaml', 'README.md', '']) expect(parseRecordPath(p), p).toBeUndefined();
    // A name ending in '.' is another name's on Windows, which drops the dot: `hospital-b.` is `hospital-b`.
    for (const p of ['datasets/a/hospital-b..yaml', 'mlcubes/a/net..yaml', 'benchmarks/x./benchmark.yaml', 'benchmarks/x/results/a/hospital-b./m/n.yaml', 'benchmarks/x/models/a/n..yaml']) expect(parseRecordPath(p), p).toBeUndefined();
    for (const p of ['datasets/a/hospital-b.v2.yaml', 'mlcubes/a/net_.yaml']) expect(parseRecordPath(p), p).toBeDefined();
  });
});
