import { describe, expect, it } from 'vitest';
import { paths } from '../layout.ts';
import { createView } from '../load.ts';
import { memoryTree } from '../trees.ts';
import { validateChange } from '../validate.ts';
import { formatFinding } from '../findings.ts';
import type { FileTree } from '../view.ts';
import { rule } from './references.ts';
import {
  P,
  benchmark,
  cube,
  dataset,
  datasetAssociation,
  examplePerson,
  result,
  SCHEMA_LINE,
  signedExample,
  ruleFindings,
  tutorialRegistry,
  without,
  yaml,
  type Files,
} from '../../testing/records.ts';

const { full, change } = ruleFindings(rule, { sorted: false });

describe('references', () => {
  it('passes the tutorial registry, where every id exists and every kind matches', async () => {
    expect(await full(tutorialRegistry())).toEqual([]);
  });

  it('reports every cube of a benchmark that is missing or of the wrong kind, at its field', async () => {
    const files = tutorialRegistry();
    files[P.benchmark] = yaml(
      benchmark({ reference_model: 'carol/chestxray-prep', data_evaluator_mlcube: 'carol/missing' }),
    );
    expect(await full(files)).toEqual([
      `${P.benchmark}:6:1 references reference_model must be a model cube, but carol/chestxray-prep is a data-preparator cube`,
      `${P.benchmark}:7:1 references data_evaluator_mlcube names the cube carol/missing, which does not exist: submit mlcubes/carol/missing.yaml first`,
    ]);
  });

  it("rejects a dataset prepared with a cube that is not a data preparator", async () => {
    const files = tutorialRegistry();
    files[P.dataset] = yaml(dataset({ data_preparation_mlcube: 'bob/resnet' }));
    expect(await full(files)).toEqual([
      `${P.datasetAssociation}:1:1 references dora/xrays was prepared with bob/resnet, but chestxray prepares data with carol/chestxray-prep: prepare the data with the benchmark's data preparator and submit it as a new dataset`,
      `${P.dataset}:3:1 references data_preparation_mlcube must be a data-preparator cube, but bob/resnet is a model cube`,
    ]);
  });

  it("rejects a dataset association when the dataset was prepared with another preparator", async () => {
    const files = tutorialRegistry();
    files['mlcubes/dora/own-prep.yaml'] = yaml(cube('data-preparator'));
    files[P.dataset] = yaml(dataset({ data_preparation_mlcube: 'dora/own-prep' }));
    expect(await full(files)).toEqual([
      `${P.datasetAssociation}:1:1 references dora/xrays was prepared with dora/own-prep, but chestxray prepares data with carol/chestxray-prep: prepare the data with the benchmark's data preparator and submit it as a new dataset`,
    ]);
  });

  it('rejects associations and results whose benchmark, model or dataset do not exist', async () => {
    const files = without(tutorialRegistry(), P.model, P.dataset, P.benchmark);
    expect(await full(files)).toEqual([
      `${P.datasetAssociation}:1:1 references the benchmark chestxray does not exist: there is no ${P.benchmark}`,
      `${P.datasetAssociation}:1:1 references the association with chestxray names the dataset dora/xrays, which does not exist: submit datasets/dora/xrays.yaml first`,
      `${P.modelAssociation}:1:1 references the benchmark chestxray does not exist: there is no ${P.benchmark}`,
      `${P.modelAssociation}:1:1 references the association with chestxray names the cube bob/resnet, which does not exist: submit mlcubes/bob/resnet.yaml first`,
      `${P.result}:2:1 references benchmark names the benchmark chestxray, which does not exist: there is no ${P.benchmark}`,
      `${P.result}:3:1 references model names the cube bob/resnet, which does not exist: submit mlcubes/bob/resnet.yaml first`,
      `${P.result}:4:1 references dataset names the dataset dora/xrays, which does not exist: submit datasets/dora/xrays.yaml first`,
    ]);
  });

  it('checks only the changed records of a change', async () => {
    const base = tutorialRegistry();
    base[P.benchmark] = yaml(benchmark({ reference_model: 'carol/gone' })); // already broken on main
    const head = { ...base, 'mlcubes/erin/unet.yaml': yaml(cube('model')) };
    expect(await change(base, head, 'erin')).toEqual([]);
  });

  it('refuses to delete a cube that a benchmark or an association still name', async () => {
    const base = tutorialRegistry();
    const deletePrep = without(base, P.prep);
    // The dataset prepared with it is not read: it names an operational preparator, which the
    // immutability rule never lets go.
    expect(await change(base, deletePrep, 'carol')).toEqual([
      `${P.prep}:1:1 references ${P.prep} cannot be deleted: the benchmark chestxray names it as its data_preparation_mlcube (${P.benchmark}:5); its committee points data_preparation_mlcube at another cube first`,
    ]);
    const deleteModel = without(base, P.model);
    expect(await change(base, deleteModel, 'bob')).toEqual([
      `${P.model}:1:1 references ${P.model} cannot be deleted: it is associated with the benchmark chestxray (${P.modelAssociation}); withdraw the association first`,
    ]);
  });

  it('refuses to delete a benchmark whose associations and results remain', async () => {
    const base = tutorialRegistry();
    expect(await change(base, without(base, P.benchmark), 'carol')).toEqual([
      `${P.benchmark}:1:1 references ${P.benchmark} cannot be deleted: 3 association and result files of chestxray would name it; withdraw its associations first (results are never deleted, so a benchmark with results stays)`,
    ]);
  });

  it('associates only operational cubes and datasets, in full validation and in a change', async () => {
    const files = tutorialRegistry();
    const dev = { ...files, [P.model]: yaml(cube('model', 'development', 'f')), [P.dataset]: yaml(dataset({ state: 'development' })) };
    const model = `${P.modelAssociation}:1:1 references the cube bob/resnet is still in development: only operational cubes are associated with benchmarks; its owner marks it operational (\`medperf-git mlcube submit --operational\`, after which its hashes never change), then asks again`;
    const data = `${P.datasetAssociation}:1:1 references the dataset dora/xrays is still in development: only operational datasets are associated with benchmarks; run \`medperf-git dataset set-operational -d dora/xrays\` first`;
    expect(await full(dev)).toEqual(expect.arrayContaining([model, data]));
    const base = without(dev, P.result, P.modelAssociation, P.datasetAssociation);
    expect(await change(base, without(dev, P.result, P.datasetAssociation), 'bob')).toEqual([model]);
    expect(await change(base, without(dev, P.result, P.modelAssociation), 'dora')).toEqual([data]);
    // Made operational in the same change, it associates.
    const both = { ...without(dev, P.result, P.datasetAssociation), [P.model]: yaml(cube('model', 'operational', 'f')) };
    expect(await change(base, both, 'bob')).toEqual([]);
  });
});

describe('references: provenance', () => {
  const main = tutorialRegistry();
  const prov = result().provenance;
  const withProvenance = (over: Partial<typeof prov>) => ({ ...main, [P.result]: yaml(result({ provenance: { ...prov, ...over } })) });

  it('passes a result whose every hash is what the registry says', async () => {
    expect(await full(main)).toEqual([]);
  });

  it('reports every way a provenance can disagree with the registry, at its field, saying what to do', async () => {
    const rerun = 'run the benchmark again with `medperf-git run`';
    const cases: Array<[string, Partial<typeof prov>, string[]]> = [
      ['no cubes at all', { cubes: {} }, [
        `provenance.cubes has no data_preparation_mlcube: a result names every cube that produced it, here the benchmark's data preparator carol/chestxray-prep; ${rerun}`,
        `provenance.cubes has no model: a result names every cube that produced it, here the result's model bob/resnet; ${rerun}`,
        `provenance.cubes has no data_evaluator_mlcube: a result names every cube that produced it, here the benchmark's metrics cube carol/chestxray-metrics; ${rerun}`,
      ]],
      ['a cube that does not exist', { cubes: { ...prov.cubes, model: { ...prov.cubes.model!, id: 'bob/ghost' } } }, [
        `provenance.cubes.model.id is bob/ghost, but the result's model is bob/resnet: a result is produced by the registered cubes; ${rerun}`,
      ]],
      ['another cube of the registry in a role', { cubes: { ...prov.cubes, data_evaluator_mlcube: { ...prov.cubes.data_evaluator_mlcube!, id: 'carol/chestxray-ref' } } }, [
        `provenance.cubes.data_evaluator_mlcube.id is carol/chestxray-ref, but the benchmark's metrics cube is carol/chestxray-metrics: a result is produced by the registered cubes; ${rerun}`,
      ]],
      ['a wrong config hash', { cubes: { ...prov.cubes, model: { ...prov.cubes.model!, config_sha256: '9'.repeat(64) } } }, [
        `provenance.cubes.model.config_sha256 is ${'9'.repeat(64)}, but the registry's bob/resnet has ${'f'.repeat(64)}: the result was not produced by the registered cube; ${rerun}`,
      ]],
      ['a wrong image', { cubes: { ...prov.cubes, data_preparation_mlcube: { ...prov.cubes.data_preparation_mlcube!, image: `sha256:${'0'.repeat(64)}` } } }, [
        `provenance.cubes.data_preparation_mlcube.image is sha256:${'0'.repeat(64)}, but the registry's carol/chestxray-prep has sha256:${'c'.repeat(64)}: the result was not produced by the registered cube; ${rerun}`,
      ]],
      ['a parameters hash left out', { cubes: { ...prov.cubes, model: (({ parameters_sha256: _p, ...rest }) => rest)(prov.cubes.model!) } }, [
        `provenance.cubes.model.parameters_sha256 is absent, but the registry's bob/resnet has ${'b'.repeat(64)}: the result was not produced by the registered cube; ${rerun}`,
      ]],
      ['an additional-files hash the cube does not have', { cubes: { ...prov.cubes, model: { ...prov.cubes.model!, additional_files_sha256: '3'.repeat(64) } } }, [
        `provenance.cubes.model.additional_files_sha256 is ${'3'.repeat(64)}, but the registry's bob/resnet has none: the result was not produced by the registered cube; ${rerun}`,
      ]],
      ["another dataset's generated_uid", { dataset_generated_uid: 'e'.repeat(64) }, [
        `provenance.dataset_generated_uid is ${'e'.repeat(64)}, but the registry's dora/xrays has ${'2'.repeat(64)}: a result is computed on the registered dataset`,
      ]],
    ];
    for (const [what, over, messages] of cases) {
      const found = (await full(withProvenance(over))).map((f) => f.replace(/^[^ ]+ references /, ''));
      expect(found, what).toEqual(messages);
      // A change adding the result is checked the same way.
      const base = without(main, P.result);
      const changed = (await change(base, withProvenance(over), 'dora')).map((f) => f.replace(/^[^ ]+ references /, ''));
      expect(changed, what).toEqual(messages);
    }
  });

  it('places each finding at the provenance field it names', async () => {
    const files = withProvenance({ dataset_generated_uid: 'e'.repeat(64) });
    const [finding] = await full(files);
    const line = files[P.result]!.split('\n').findIndex((l) => l.includes('dataset_generated_uid')) + 1;
    expect(finding).toMatch(new RegExp(`^${P.result}:${line}:\\d+ references `));
  });
});

describe("references: an association's compatibility test names the registry's cubes and data", () => {
  const main = tutorialRegistry();
  const { cubes } = result().provenance;
  const again = 'run the compatibility test again (`medperf-git dataset associate`, or `medperf-git mlcube associate` for a model)';
  const dsTest = datasetAssociation().compatibility_test;
  const withDatasetTest = (over: Partial<typeof dsTest>) => ({ ...main, [P.datasetAssociation]: yaml(datasetAssociation({ compatibility_test: { ...dsTest, ...over } })) });
  // The reference model carol/chestxray-ref is the fixture's cube of digit 'a', as the others.
  const ran = { ...cubes, model: { ...cubes.model!, id: 'carol/chestxray-ref', config_sha256: 'a'.repeat(64) } };
  const text = Buffer.from('Jane Roe MRN 88123 DOB 19610402 ').toString('hex');

  it("passes a test naming the benchmark's cubes and the dataset, and one from a MedPerf server naming no cubes", async () => {
    expect(await full(withDatasetTest({ cubes: ran }))).toEqual([]);
    expect(await full(main)).toEqual([]);
  });

  it('refuses a hash that is not the registry\'s, in a dataset\'s or a model\'s association, in full and in a change, at its field', async () => {
    const cases: Array<[string, Files, string[]]> = [
      ['text in the hashes of a dataset\'s test', withDatasetTest({ cubes: { ...ran, data_preparation_mlcube: { ...ran.data_preparation_mlcube!, config_sha256: text, image: `sha256:${text}` } } }), [
        `${P.datasetAssociation}:10:7 references compatibility_test.cubes.data_preparation_mlcube.config_sha256 is ${text}, but the registry's carol/chestxray-prep has ${'a'.repeat(64)}: the compatibility test was not produced by the registered cube; ${again}`,
        `${P.datasetAssociation}:12:7 references compatibility_test.cubes.data_preparation_mlcube.image is sha256:${text}, but the registry's carol/chestxray-prep has sha256:${'c'.repeat(64)}: the compatibility test was not produced by the registered cube; ${again}`,
      ]],
      ['text as the generated_uid of a dataset\'s test', withDatasetTest({ dataset_generated_uid: text }), [
        `${P.datasetAssociation}:5:3 references compatibility_test.dataset_generated_uid is ${text}, but the registry's dora/xrays has ${'2'.repeat(64)}: a dataset's compatibility test runs on the registered dataset`,
      ]],
      ['a dataset\'s test run with another model than the reference model', withDatasetTest({ cubes }), [
        `${P.datasetAssociation}:14:7 references compatibility_test.cubes.model.id is bob/resnet, but the benchmark's reference model is carol/chestxray-ref: a compatibility test is produced by the registered cubes; ${again}`,
      ]],
      ['a model\'s test on other data than the demo data', { ...main, [P.modelAssociation]: main[P.modelAssociation]!.replace('e'.repeat(64), text) }, [
        `${P.modelAssociation}:5:3 references compatibility_test.dataset_generated_uid is ${text}, but chestxray's demo data has ${'e'.repeat(64)}: a model's compatibility test runs on the benchmark's demo data`,
      ]],
    ];
    for (const [what, files, messages] of cases) {
      expect(await full(files), what).toEqual(messages);
      expect(await change(main, files, what.includes('model') && !what.includes('reference') ? 'bob' : 'dora'), what).toEqual(messages);
    }
  });
});

describe('references: deleting what results depend on', () => {
  const main = tutorialRegistry();
  it('an association with results is not deleted, model or dataset, alone or with the other', async () => {
    const modelGone = `${P.modelAssociation}:1:1 references ${P.modelAssociation} cannot be deleted: 1 result of the association would name nothing approved (${P.result}); results are never deleted, so the association stays`;
    const modelMoved = `${P.modelAssociation}:1:1 references ${P.modelAssociation} cannot be moved to benchmarks/chestxray/models/bob/resnet2.yaml (ids come from paths, so a move deletes ${P.modelAssociation}): 1 result of the association would name nothing approved (${P.result}); results are never deleted, so the association stays`;
    const datasetGone = `${P.datasetAssociation}:1:1 references ${P.datasetAssociation} cannot be deleted: 1 result of the association would name nothing approved (${P.result}); results are never deleted, so the association stays`;
    expect(await change(main, without(main, P.modelAssociation), 'bob')).toEqual([modelGone]);
    expect(await change(main, without(main, P.datasetAssociation), 'dora')).toEqual([datasetGone]);
    expect(await change(main, without(main, P.modelAssociation, P.datasetAssociation), 'carol')).toEqual([datasetGone, modelGone]);
    // Moved (deleted here, added elsewhere): the same.
    const moved = { ...without(main, P.modelAssociation), 'benchmarks/chestxray/models/bob/resnet2.yaml': main[P.modelAssociation]! };
    expect(await change(main, moved, 'bob')).toContain(modelMoved);
    // Without results, an association is withdrawn freely.
    const noResult = without(main, P.result);
    expect(await change(noResult, without(noResult, P.modelAssociation), 'bob')).toEqual([]);
  });

  it("counts a model's results across every dataset of the benchmark, and names a few", async () => {
    const files: Files = { ...tutorialRegistry() };
    for (const d of ['d1', 'd2', 'd3', 'd4']) {
      files[paths.dataset(`dora/${d}`)] = yaml(dataset({ generated_uid: '2'.repeat(64) }));
      files[paths.datasetAssociation('chestxray', `dora/${d}`)] = yaml(datasetAssociation());
      files[paths.result('chestxray', `dora/${d}`, 'bob/resnet')] = yaml(result({ dataset: `dora/${d}` }));
    }
    const [finding] = await change(files, without(files, P.modelAssociation), 'bob');
    expect(finding).toBe(
      `${P.modelAssociation}:1:1 references ${P.modelAssociation} cannot be deleted: 5 results of the association would name nothing approved (` +
        `${paths.result('chestxray', 'dora/d1', 'bob/resnet')}, ${paths.result('chestxray', 'dora/d2', 'bob/resnet')}, ${paths.result('chestxray', 'dora/d3', 'bob/resnet')} and 2 more); results are never deleted, so the association stays`,
    );
  });
});

describe('references: deleting or moving what others name', () => {
  const main = tutorialRegistry();
  const deleted = (path: string) => `${path}:1:1 references ${path} cannot be deleted: `;

  it('refuses to delete a dataset that an association or results name, alone or with them', async () => {
    const associated = `${deleted(P.dataset)}it is associated with the benchmark chestxray (${P.datasetAssociation}); withdraw the association first`;
    const results = `${deleted(P.dataset)}results of the benchmark chestxray were computed on it (benchmarks/chestxray/results/dora/xrays/); results are never deleted, so the dataset stays`;
    expect(await change(main, without(main, P.dataset), 'dora')).toEqual([associated, results]);
    // With its association (and even with the result: immutability refuses that on its own).
    expect(await change(main, without(main, P.dataset, P.datasetAssociation), 'dora')).toContain(results);
    const noResult = without(main, P.result);
    expect(await change(noResult, without(noResult, P.dataset), 'dora')).toEqual([associated]);
    expect(await change(noResult, without(noResult, P.dataset, P.datasetAssociation), 'dora')).toEqual([]);
  });

  it('refuses to delete a cube in every role a benchmark gives it, and the model of an association', async () => {
    for (const [path, field] of [[P.prep, 'data_preparation_mlcube'], [P.ref, 'reference_model'], [P.metrics, 'data_evaluator_mlcube']] as const) {
      const found = await change(main, without(main, path), 'carol');
      expect(found.some((f) => f.startsWith(deleted(path)) && f.includes(`names it as its ${field} (${P.benchmark}:`)), path).toBe(true);
    }
    // The association goes too: its result still holds it, and that is the association's finding.
    const both = await change(main, without(main, P.model, P.modelAssociation), 'bob');
    expect(both).toEqual([expect.stringContaining(`${deleted(P.modelAssociation)}1 result of the association`)]);
  });

  it('says a record was moved when the change adds its bytes under another id', async () => {
    for (const [from, to] of [
      [P.model, 'mlcubes/bob/resnet-v2.yaml'],
      [P.model, 'mlcubes/robert/resnet.yaml'],
      [P.metrics, 'mlcubes/carol/metrics.yaml'],
      [P.dataset, 'datasets/dora/xrays-2.yaml'],
    ] as const) {
      const found = await change(main, { ...without(main, from), [to]: main[from]! }, 'carol');
      expect(found.filter((f) => f.startsWith(`${from}:1:1 references ${from} cannot be moved to ${to} (ids come from paths, so a move deletes ${from}): `)), from).not.toEqual([]);
    }
  });

  it('refuses to delete registry.yaml in a change', async () => {
    expect(await change(main, without(main, P.registry), 'admin1')).toEqual([
      `${deleted(P.registry)}every registry has a registry.yaml naming its admins; keep it (its admins change it in place)`,
    ]);
  });

  it('lets a change delete what nothing names', async () => {
    const spare = { ...main, 'mlcubes/bob/spare.yaml': yaml(cube('model', 'development', 'e')), 'datasets/dora/spare.yaml': yaml(dataset({ state: 'development' })) };
    expect(await change(spare, without(spare, 'mlcubes/bob/spare.yaml', 'datasets/dora/spare.yaml'), 'bob')).toEqual([]);
  });
});

describe('references: a dataset names an operational data preparator', () => {
  const main = tutorialRegistry();
  const message = (prep: string) =>
    `references the data preparator ${prep} is still in development: data is prepared only with an operational preparator, whose hashes never change; its owner marks it operational (\`medperf-git mlcube submit --operational\`), then the dataset is submitted`;

  it('refuses a preparator in development, in full validation and in a change, and passes an operational one', async () => {
    const devPrep = { ...main, [P.prep]: yaml(cube('data-preparator', 'development')) };
    expect(await full(devPrep)).toEqual([`${P.dataset}:3:1 ${message('carol/chestxray-prep')}`]);
    const own = { ...main, 'mlcubes/dora/own-prep.yaml': yaml(cube('data-preparator', 'development', '7')) };
    for (const state of ['development', 'operational'] as const) {
      const head = { ...own, 'datasets/dora/more.yaml': yaml(dataset({ data_preparation_mlcube: 'dora/own-prep', state })) };
      expect(await change(own, head, 'dora'), state).toEqual([`datasets/dora/more.yaml:3:1 ${message('dora/own-prep')}`]);
    }
    expect(await change(main, { ...main, 'datasets/dora/more.yaml': yaml(dataset()) }, 'dora')).toEqual([]);
  });

  it('deletes a cube without reading a single dataset, however many the registry holds', async () => {
    const files: Files = { ...tutorialRegistry(), 'mlcubes/bob/spare.yaml': yaml(cube('data-preparator', 'development', 'e')) };
    for (let i = 0; i < 200; i++) files[`datasets/owner-${i}/data.yaml`] = yaml(dataset({ generated_uid: '2'.repeat(64) }));
    const reads: string[] = [];
    const counted = (f: Files): FileTree => {
      const tree = memoryTree(f);
      const spy = <T extends (...a: never[]) => unknown>(fn: T) =>
        ((...a: Parameters<T>) => {
          if (String(a[0]).startsWith('datasets/')) reads.push(String(a[0]));
          return fn.apply(tree, a);
        }) as unknown as T;
      return Object.assign(Object.create(tree) as FileTree, { read: spy(tree.read), readLimited: spy((tree as { readLimited: (p: string, l: number) => unknown }).readLimited), readLimitedSync: spy((tree as { readLimitedSync: (p: string, l: number) => unknown }).readLimitedSync) });
    };
    for (const gone of ['mlcubes/bob/spare.yaml', P.prep, P.model]) {
      reads.length = 0;
      const head = without(files, gone);
      await rule.check({ base: createView(counted(files)), head: createView(counted(head)), changed: [gone], author: 'carol' });
      expect(reads, gone).toEqual([]);
    }
    // The operational preparator's datasets are what the immutability rule keeps it for.
    const all = (await validateChange({ base: memoryTree(files), head: memoryTree(without(files, P.prep)), author: 'carol' })).map(formatFinding);
    expect(all).toContain(`${P.prep}:1:1 immutability an operational cube is never deleted: results and benchmarks depend on ${P.prep}`);
  });
});

describe('references: an edit is checked against what reads the record, as a deletion is', () => {
  const main = tutorialRegistry();
  const fixCube = 'a cube keeps what benchmarks, associations and results were made with: submit the changed cube as a new cube instead';
  const fixDataset = 'a dataset keeps what its associations and results were computed on: submit the changed data as a new dataset instead';
  const fixBenchmark = 'a benchmark keeps the cubes its associations and results were made with: a benchmark with other cubes is a new benchmark';
  const line = (files: Files, path: string, text: string) => files[path]!.split('\n').findIndex((l) => l.includes(text)) + 1;

  it("refuses an edit of a cube's hashes, kind or state that its benchmark's results or associations were made with", async () => {
    // A metrics cube still in development: the version rule lets its hashes change, its results do not.
    const base = { ...main, [P.metrics]: yaml(cube('metrics', 'development')) };
    const edited = (over: Partial<ReturnType<typeof cube>>) => ({ ...base, [P.metrics]: yaml({ ...cube('metrics', 'development'), ...over }) });
    const cases: Array<[string, Files, string, string]> = [
      ['mlcube hash', edited({ mlcube: { url: 'https://example.org/mlcube.yaml', sha256: '9'.repeat(64) } }), 'mlcube.sha256', `provenance.cubes.data_evaluator_mlcube.config_sha256 is ${'a'.repeat(64)}, but the registry's carol/chestxray-metrics has ${'9'.repeat(64)}`],
      ['image digest', edited({ image: { digest: `sha256:${'8'.repeat(64)}` } }), 'image.digest', `provenance.cubes.data_evaluator_mlcube.image is sha256:${'c'.repeat(64)}, but the registry's carol/chestxray-metrics has sha256:${'8'.repeat(64)}`],
      ['parameters hash', edited({ parameters: { url: 'https://example.org/parameters.yaml', sha256: '7'.repeat(64) } }), 'parameters.sha256', `provenance.cubes.data_evaluator_mlcube.parameters_sha256 is ${'b'.repeat(64)}, but the registry's carol/chestxray-metrics has ${'7'.repeat(64)}`],
      ['kind', edited({ kind: 'model' }), 'kind', `${P.benchmark}:7: data_evaluator_mlcube must be a metrics cube, but carol/chestxray-metrics is a model cube`],
    ];
    for (const [what, head, field, broken] of cases) {
      const found = await change(base, head, 'carol');
      expect(found, what).toHaveLength(1);
      expect(found[0], what).toMatch(new RegExp(`^${P.metrics}:\\d+:\\d+ references changing ${field.replace('.', '\\.')} breaks what reads ${P.metrics}: `));
      expect(found[0], what).toContain(broken);
      expect(found[0], what).toContain(fixCube);
    }
    // A model cube's state: its association holds only operational cubes.
    const devModel = { ...main, [P.model]: yaml(cube('model', 'development', 'f')) };
    expect(await change(main, devModel, 'bob')).toEqual([
      `${P.model}:${line(devModel, P.model, 'state')}:1 references changing state breaks what reads ${P.model}: ${P.modelAssociation}:1: the cube bob/resnet is still in development: only operational cubes are associated with benchmarks; its owner marks it operational (\`medperf-git mlcube submit --operational\`, after which its hashes never change), then asks again; ${fixCube}`,
    ]);
  });

  it("refuses an edit of a dataset's generated_uid, preparator or state that its associations and results were made with", async () => {
    const otherPrep = { ...main, 'mlcubes/carol/prep-2.yaml': yaml(cube('data-preparator', 'operational', '4')) };
    const cases: Array<[string, Partial<ReturnType<typeof dataset>>, string, string]> = [
      ['generated_uid', { generated_uid: '6'.repeat(64) }, 'generated_uid', `${P.datasetAssociation}:5: compatibility_test.dataset_generated_uid is ${'2'.repeat(64)}, but the registry's dora/xrays has ${'6'.repeat(64)}: a dataset's compatibility test runs on the registered dataset (and 1 more finding in what reads it)`],
      ['preparator', { data_preparation_mlcube: 'carol/prep-2' }, 'data_preparation_mlcube', `${P.datasetAssociation}:1: dora/xrays was prepared with carol/prep-2, but chestxray prepares data with carol/chestxray-prep`],
      ['state', { state: 'development' }, 'state', `${P.datasetAssociation}:1: the dataset dora/xrays is still in development`],
    ];
    for (const [what, over, field, broken] of cases) {
      const head = { ...otherPrep, [P.dataset]: yaml(dataset(over)) };
      const found = await change(otherPrep, head, 'dora');
      expect(found, what).toHaveLength(1);
      expect(found[0], what).toMatch(new RegExp(`^${P.dataset}:${line(head, P.dataset, field.split('.')[0]!)}:\\d+ references changing ${field} breaks what reads ${P.dataset}: `));
      expect(found[0], what).toContain(broken);
      expect(found[0], what).toContain(fixDataset);
    }
  });

  it("refuses an edit of a benchmark's cubes that its associations and results were made with, and passes one that breaks nothing", async () => {
    const more = {
      ...main,
      'mlcubes/carol/metrics-2.yaml': yaml(cube('metrics', 'operational', '5')),
      'mlcubes/carol/prep-2.yaml': yaml(cube('data-preparator', 'operational', '4')),
      'mlcubes/carol/ref-2.yaml': yaml(cube('model', 'operational', '3')),
    };
    const edit = (over: Partial<ReturnType<typeof benchmark>>) => ({ ...more, [P.benchmark]: yaml(benchmark(over)) });
    const metrics = await change(more, edit({ data_evaluator_mlcube: 'carol/metrics-2' }), 'carol');
    expect(metrics).toEqual([
      `${P.benchmark}:7:1 references changing data_evaluator_mlcube breaks what reads ${P.benchmark}: ${P.result}:${line(more, P.result, 'id: carol/chestxray-metrics')}: provenance.cubes.data_evaluator_mlcube.id is carol/chestxray-metrics, but the benchmark's metrics cube is carol/metrics-2: a result is produced by the registered cubes; run the benchmark again with \`medperf-git run\`; ${fixBenchmark}`,
    ]);
    const prep = await change(more, edit({ data_preparation_mlcube: 'carol/prep-2' }), 'carol');
    expect(prep).toEqual([
      `${P.benchmark}:5:1 references changing data_preparation_mlcube breaks what reads ${P.benchmark}: ${P.datasetAssociation}:1: dora/xrays was prepared with carol/chestxray-prep, but chestxray prepares data with carol/prep-2: prepare the data with the benchmark's data preparator and submit it as a new dataset (and 1 more finding in what reads it); ${fixBenchmark}`,
    ]);
    // The reference model is read by no result, nor by an association whose test names no cubes; the description by nothing.
    expect(await change(more, edit({ reference_model: 'carol/ref-2' }), 'carol')).toEqual([]);
    expect(await change(more, edit({ description: 'Now with a description.' }), 'carol')).toEqual([]);
  });

  it("refuses an edit of a dataset's owners that drops the one who signed its results", async () => {
    const shared = {
      ...main,
      [P.dataset]: yaml(dataset({ owners: ['erin'] })),
      [paths.person('erin')]: yaml(examplePerson('erin')),
      [P.result]: yaml(signedExample(result(), 'erin'), SCHEMA_LINE('result')),
    };
    expect(await full(shared)).toEqual([]);
    for (const owners of [undefined, ['frank'], ['ERIN2']]) {
      const head = { ...shared, [P.dataset]: yaml(dataset(owners ? { owners } : {})) };
      const found = await change(shared, head, 'dora');
      expect(found, String(owners)).toHaveLength(1);
      expect(found[0], String(owners)).toMatch(new RegExp(`^${P.dataset}:\\d+:1 references changing owners breaks what reads ${P.dataset}: ${P.result}:\\d+: the result is signed by erin, but results are signed by their data owner `));
      expect(found[0], String(owners)).toContain(fixDataset);
    }
    // Adding an owner breaks nothing.
    expect(await change(shared, { ...shared, [P.dataset]: yaml(dataset({ owners: ['erin', 'frank'] })) }, 'dora')).toEqual([]);
  });

  it('says only what the edit breaks: not what was broken already, nor a reader changed in the same change', async () => {
    const broken = {
      ...main,
      [P.result]: yaml(result({ provenance: { ...result().provenance, dataset_generated_uid: '6'.repeat(64) } })),
      [P.datasetAssociation]: yaml(datasetAssociation({ compatibility_test: { ...datasetAssociation().compatibility_test, dataset_generated_uid: '6'.repeat(64) } })),
    };
    expect(await change(broken, { ...broken, [P.dataset]: yaml(dataset({ generated_uid: '7'.repeat(64) })) }, 'dora')).toEqual([
      // The result's own problem stays (it was broken before): nothing new is said.
    ]);
    const noResult = without(without(main, P.result), P.datasetAssociation);
    expect(await change(noResult, { ...noResult, [P.dataset]: yaml(dataset({ generated_uid: '7'.repeat(64) })) }, 'dora')).toEqual([]);
    // The result changed too (a new version on the new data): it is judged on its own, and agrees.
    const prov = { ...result().provenance, dataset_generated_uid: '7'.repeat(64), executed_at: '2026-11-21T10:00:00Z' };
    const rerun = {
      ...main,
      [P.dataset]: yaml(dataset({ generated_uid: '7'.repeat(64) })),
      [P.result]: yaml(result({ version: 2, provenance: prov })),
      [P.datasetAssociation]: yaml(datasetAssociation({ compatibility_test: { ...datasetAssociation().compatibility_test, dataset_generated_uid: '7'.repeat(64) } })),
    };
    expect(await change(main, rerun, 'dora')).toEqual([]);
  });
});
