import { describe, expect, it } from 'vitest';
import { paths } from '../layout.ts';
import { rule } from './references.ts';
import {
  P,
  benchmark,
  cube,
  dataset,
  datasetAssociation,
  result,
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

  it('refuses to delete a cube that a benchmark, an association and a dataset still name', async () => {
    const base = tutorialRegistry();
    const deletePrep = without(base, P.prep);
    expect(await change(base, deletePrep, 'carol')).toEqual([
      `${P.prep}:1:1 references ${P.prep} cannot be deleted: the benchmark chestxray names it as its data_preparation_mlcube (${P.benchmark}:5); its committee points data_preparation_mlcube at another cube first`,
      `${P.prep}:1:1 references ${P.prep} cannot be deleted: the dataset dora/xrays was prepared with it (${P.dataset}:3); a data preparator stays as long as a dataset it prepared`,
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
