// For random registries that validate, the site builds and every file parses: each page as HTML
// (parse5, the WHATWG parser, reporting no parse error), each JSON file as JSON, each badge as SVG
// markup. Metric names, primary metrics and record names are drawn to hurt: JavaScript member names
// (`constructor`, `__proto__`, `toString`, ...), names a reader might treat specially, and markup.
import fc from 'fast-check';
import { parse, parseFragment, type ParserError } from 'parse5';
import { describe, expect, it } from 'vitest';
import { benchmark, cube, dataset, datasetAssociation, examplePerson, modelAssociation, registryConfig, result, signedExample, yaml, type Files } from '../../testing/records.ts';
import { metricNames } from '../metrics.ts';
import { paths } from '../layout.ts';
import { memoryTree } from '../trees.ts';
import { validateRegistry } from '../validate.ts';
import { leaderboardsOfTree } from './folder.ts';
import { buildSite } from './index.ts';

/** Names a reader indexing plain objects would trip on, and ordinary ones. */
const TRICKY = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'length', 'then', 'prototype', 'name', '0', '1e3', 'NaN', 'Infinity', 'a.b'];
const metricName = fc.oneof(fc.constantFrom(...TRICKY), fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,12}$/));
const text = fc.oneof(
  fc.constantFrom('<script>alert(1)</script>', '"><img src=x onerror=alert(2)>', ']]>&amp;', 'constructor', '__proto__', 'naïve — ünïcode', '=SUM(1)'),
  fc.string({ minLength: 1, maxLength: 30 }).filter((s) => s.trim().length > 0),
);
/** Numbers in the plain decimal form records hold. */
const value = fc.integer({ min: -100_000, max: 100_000 }).map((n) => n / 1000);
const metrics = fc.dictionary(
  metricName,
  fc.oneof({ weight: 3, arbitrary: value }, { weight: 1, arbitrary: fc.dictionary(metricName, value, { minKeys: 1, maxKeys: 3 }) }),
  { minKeys: 1, maxKeys: 4 },
);

interface Shape {
  publish: string;
  direction: string;
  models: string[];
  datasets: string[];
  names: string[];
  scores: Array<Record<string, unknown> | undefined>;
  primary: string;
}

const registryArb: fc.Arbitrary<Shape> = fc.record({
  publish: fc.constantFrom('aggregate', 'per-model', 'per-dataset'),
  direction: fc.constantFrom('higher', 'lower'),
  models: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), { minLength: 1, maxLength: 3 }),
  datasets: fc.uniqueArray(fc.stringMatching(/^[a-z][a-z0-9-]{0,6}$/), { minLength: 1, maxLength: 3 }),
  names: fc.array(text, { minLength: 8, maxLength: 8 }),
  scores: fc.array(fc.option(metrics, { nil: undefined }), { minLength: 9, maxLength: 9 }),
  primary: fc.oneof(fc.constantFrom(...TRICKY), metricName),
});

/** A registry in the tutorial's shape: bob's models and dora's datasets on chestxray, with results. */
function registryOf(r: Shape): { files: Files; primaries: string[] } {
  const files: Files = {
    [paths.registry()]: yaml(registryConfig({ title: r.names[0]! })),
    [paths.cube('carol/chestxray-prep')]: yaml({ ...cube('data-preparator'), name: r.names[1]! }),
    [paths.cube('carol/chestxray-ref')]: yaml(cube('model')),
    [paths.cube('carol/chestxray-metrics')]: yaml(cube('metrics')),
  };
  const primaries: string[] = [];
  // The benchmark declares every name its results hold, and its primary metric; dora publishes keys.
  const tests = [modelAssociation(), datasetAssociation()].map((a) => a.compatibility_test?.metrics);
  const declared = new Set([r.primary, ...[...r.scores, ...tests].flatMap((m) => (m ? metricNames(m) : []))]);
  files[paths.benchmark('chestxray')] = yaml(
    benchmark({
      name: r.names[2]!,
      description: r.names[3]!,
      metric_names: [...declared],
      results_policy: { publish: r.publish as 'per-model', primary_metric: r.primary, direction: r.direction as 'higher' },
    }),
  );
  files[paths.person('dora')] = yaml(examplePerson('dora'));
  r.models.forEach((m, i) => {
    const id = `bob/${m}`;
    files[paths.cube(id)] = yaml({ ...cube('model', 'operational', 'f'), name: r.names[4 + (i % 2)]! });
    files[paths.modelAssociation('chestxray', id)] = yaml(modelAssociation());
  });
  r.datasets.forEach((d, j) => {
    const id = `dora/${d}`;
    files[paths.dataset(id)] = yaml(dataset({ name: r.names[6 + (j % 2)]! }));
    files[paths.datasetAssociation('chestxray', id)] = yaml(datasetAssociation());
    r.models.forEach((m, i) => {
      const scores = r.scores[i * 3 + j];
      if (!scores) return;
      const model = `bob/${m}`;
      const base = result({ model, dataset: id, metrics: scores as never });
      base.provenance.cubes.model!.id = model;
      files[paths.result('chestxray', id, model)] = yaml(signedExample(base));
      primaries.push(...Object.keys(scores));
    });
  });
  return { files, primaries };
}

function parseErrors(html: string, fragment = false): string[] {
  const errors: string[] = [];
  const onParseError = (e: ParserError) => errors.push(`${e.code} at ${e.startLine}:${e.startCol}`);
  if (fragment) parseFragment(html, { onParseError });
  else parse(html, { onParseError });
  return errors;
}

describe('site build over random registries', () => {
  it('builds every registry that validates, and every page, JSON file and badge parses', async () => {
    let built = 0;
    let refused = 0;
    await fc.assert(
      fc.asyncProperty(registryArb, async (r) => {
        const { files } = registryOf(r);
        const tree = memoryTree(files);
        const findings = await validateRegistry(tree);
        if (findings.length) {
          // Whatever validation refuses never reaches a reader; it says so at a place in a file.
          refused++;
          for (const f of findings) expect(f.path in files || f.path === 'registry.yaml').toBe(true);
          return;
        }
        built++;
        const { boards, title } = await leaderboardsOfTree(tree, 'memory');
        const site = buildSite(boards, { title, recordBase: 'https://github.com/org/registry/blob/main/', generatedAt: '2026-12-01T00:00:00Z' });
        expect(site.get('index.html')).toBeDefined();
        for (const [path, content] of site) {
          if (path.endsWith('.html')) expect(parseErrors(content), path).toEqual([]);
          else if (path.endsWith('.json')) expect(() => JSON.parse(content), path).not.toThrow();
          else if (path.endsWith('.svg')) {
            expect(parseErrors(content, true), path).toEqual([]);
            expect(content.trimStart().startsWith('<svg'), path).toBe(true);
          }
        }
      }),
      { numRuns: 60, seed: 9 },
    );
    // Both sides were walked: registries that build and registries validation refuses.
    expect(built).toBeGreaterThan(10);
    expect(refused).toBeGreaterThan(0);
  });

  it('refuses a JavaScript member name as a metric key anywhere, and ranks nothing on one as the primary metric', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty']) {
      const base = registryOf({
        publish: 'per-dataset',
        direction: 'higher',
        models: ['m1'],
        datasets: ['d1'],
        names: Array.from({ length: 8 }, (_, i) => `name ${i}`),
        scores: [{ AUC: 0.5, nested: { [name]: 0.25 } }, ...Array.from({ length: 8 }, () => undefined)],
        primary: name,
      });
      const findings = await validateRegistry(memoryTree(base.files));
      expect(findings.map((f) => f.message).join('\n'), name).toContain(`${name} is a reserved name`);
      // As the primary metric (a value, not a key) it validates, and no model has it.
      const ok = registryOf({ publish: 'per-model', direction: 'higher', models: ['m1'], datasets: ['d1'], names: Array.from({ length: 8 }, (_, i) => `n${i}`), scores: [{ AUC: 0.5 }], primary: name });
      expect(await validateRegistry(memoryTree(ok.files)), name).toEqual([]);
      const { boards } = await leaderboardsOfTree(memoryTree(ok.files), 'memory');
      expect(boards[0]!.rows.map((row) => row.primary), name).toEqual([null]);
      const site = buildSite(boards, { title: 't' });
      for (const [path, content] of site) if (path.endsWith('.html')) expect(parseErrors(content), path).toEqual([]);
    }
  });
});
