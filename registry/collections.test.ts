import { describe, expect, it } from 'vitest';
import { associationAt, associationsOf, benchmarkContents, benchmarkNames, benchmarksOfModel, modelAssociationsOf } from './collections.ts';
import { modelAssociation, P, tutorialRegistry, view, yaml } from '../testing/records.ts';

const registry = () => ({
  ...tutorialRegistry(),
  'benchmarks/chestxray/models/alice/vit.yaml': yaml(modelAssociation({ priority: -1 })),
  'benchmarks/brain/models/alice/vit.yaml': yaml(modelAssociation()),
  'benchmarks/brain/README.md': 'not a record',
});

describe('the collection questions a view answers', () => {
  it('lists the benchmarks that have a benchmark.yaml', async () => {
    expect(await benchmarkNames(view(registry()))).toEqual(['chestxray']);
  });

  it('lists each benchmark folder by what it holds', async () => {
    expect(await benchmarkContents(view(registry()))).toEqual([
      ['brain', { models: ['alice/vit'], datasets: [], results: [] }],
      ['chestxray', { benchmark: P.benchmark, models: ['alice/vit', 'bob/resnet'], datasets: ['dora/xrays'], results: [P.result] }],
    ]);
    expect((await benchmarkContents(view(registry()), ['brain'])).map(([name]) => name)).toEqual(['brain']);
  });

  it("lists a benchmark's associations, and a model's benchmarks", async () => {
    expect((await associationsOf(view(registry()), 'chestxray')).map((a) => `${a.kind} ${a.entity}`)).toEqual(['dataset dora/xrays', 'model alice/vit', 'model bob/resnet']);
    expect((await modelAssociationsOf(view(registry()), 'chestxray')).map((a) => [a.model, a.record.data.priority])).toEqual([['alice/vit', -1], ['bob/resnet', 0]]);
    expect(await benchmarksOfModel(view(registry()), 'alice/vit')).toEqual(['brain', 'chestxray']);
  });

  it('reads an association off its path, and nothing else', () => {
    expect(associationAt(P.datasetAssociation)).toEqual({ benchmark: 'chestxray', kind: 'dataset', entity: 'dora/xrays', path: P.datasetAssociation });
    for (const path of [P.benchmark, P.result, P.model, 'benchmarks/chestxray/models/bob.yaml', 'README.md']) expect(associationAt(path)).toBeUndefined();
  });
});
