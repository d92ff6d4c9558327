import { describe, expect, it } from 'vitest';
import { rule } from './references.ts';
import {
  P,
  benchmark,
  cube,
  dataset,
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
      `${P.prep}:1:1 references ${P.prep} cannot be deleted: the benchmark chestxray names it as its data_preparation_mlcube`,
      `${P.prep}:1:1 references ${P.prep} cannot be deleted: the dataset dora/xrays was prepared with it`,
    ]);
    const deleteModel = without(base, P.model);
    expect(await change(base, deleteModel, 'bob')).toEqual([
      `${P.model}:1:1 references ${P.model} cannot be deleted: it is associated with the benchmark chestxray`,
    ]);
  });

  it('refuses to delete a benchmark whose associations and results remain', async () => {
    const base = tutorialRegistry();
    expect(await change(base, without(base, P.benchmark), 'carol')).toEqual([
      `${P.benchmark}:1:1 references ${P.benchmark} cannot be deleted: 3 association and result files of chestxray would name it`,
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
