import { describe, expect, it } from 'vitest';
import { rule } from './ownership.ts';
import {
  P,
  benchmark,
  cube,
  dataset,
  fullContext,
  modelAssociation,
  registryConfig,
  result,
  ruleFindings,
  tutorialRegistry,
  without,
  yaml,
  type Files,
} from '../../testing/records.ts';

const { change } = ruleFindings(rule, { sorted: false });

describe('ownership', () => {
  const base = tutorialRegistry();

  it('has nothing to say about full validation, which has no author', async () => {
    expect(await rule.check(await fullContext(base))).toEqual([]);
  });

  it("lets owners change their own records, committees their associations, admins the registry", async () => {
    const head = { ...base };
    head[P.model] = yaml({ ...cube('model', 'development', 'f'), description: 'ResNet-50' });
    expect(await change(base, head, 'bob')).toEqual([]);
    expect(await change(base, { ...base, [P.modelAssociation]: yaml(modelAssociation({ priority: 3 })) }, 'carol')).toEqual([]);
    expect(await change(base, { ...base, [P.benchmark]: yaml(benchmark({ description: 'v2' })) }, 'admin2')).toEqual([]);
    expect(await change(base, { ...base, [P.registry]: yaml(registryConfig({ title: 'New' })) }, 'admin1')).toEqual([]);
    expect(await change(base, { ...base, 'benchmarks/lungs/benchmark.yaml': yaml(benchmark()) }, 'erin')).toEqual([]);
    expect(await change(base, { ...base, [P.result]: yaml(result({ version: 2 })) }, 'dora')).toEqual([]);
    // Logins are case-insensitive on GitHub.
    expect(await change(base, { ...base, [P.dataset]: yaml(dataset({ description: 'x' })) }, 'Dora')).toEqual([]);
  });

  it("reports every path of a change the author does not own, in one go", async () => {
    const head = without(base, P.result);
    head[P.prep] = yaml({ ...cube('data-preparator'), description: 'edited' });
    head['datasets/dora/other.yaml'] = yaml(dataset());
    head[P.datasetAssociation] = yaml({ initiated_by: 'mallory', compatibility_test: { metrics: {}, dataset_generated_uid: 'e'.repeat(64), medperf_git_version: '0.1.0' } });
    head[P.benchmark] = yaml(benchmark({ committee: ['mallory'] }));
    head[P.registry] = yaml(registryConfig({ admins: ['mallory'] }));
    head['.github/workflows/validate.yml'] = 'on: push\n';
    expect(await change(base, head, 'mallory')).toEqual([
      `.github/workflows/validate.yml:1:1 ownership mallory may not add .github/workflows/validate.yml: only the registry admins (admin1, admin2) may change it`,
      `${P.benchmark}:1:1 ownership mallory may not change ${P.benchmark}: it belongs to the committee of chestxray (bench-committee, carol) and the registry admins (admin1, admin2)`,
      `${P.datasetAssociation}:1:1 ownership mallory may not change ${P.datasetAssociation}: it belongs to dora or the committee of chestxray (bench-committee, carol)`,
      `${P.result}:1:1 ownership mallory may not delete ${P.result}: it belongs to the data owner dora`,
      `datasets/dora/other.yaml:1:1 ownership mallory may not add datasets/dora/other.yaml: it belongs to dora`,
      `${P.prep}:1:1 ownership mallory may not change ${P.prep}: it belongs to carol`,
      `registry.yaml:1:1 ownership mallory may not change registry.yaml: only the registry admins (admin1, admin2) may change it`,
    ]);
  });

  it("uses the base record's owners, so nobody makes a record theirs by listing themselves", async () => {
    const shared = { ...base, [P.model]: yaml({ ...cube('model'), owners: ['erin'] }) };
    const edit = { ...shared, [P.model]: yaml({ ...cube('model', 'operational', '9'), owners: ['erin'] }) };
    expect(await change(shared, edit, 'erin')).toEqual([]);
    const grab = { ...base, [P.model]: yaml({ ...cube('model'), owners: ['mallory'] }) };
    expect(await change(base, grab, 'mallory')).toEqual([
      `${P.model}:1:1 ownership mallory may not change ${P.model}: it belongs to bob`,
    ]);
  });

  it("lets the registry's first change set up registry.yaml and its workflows", async () => {
    const first = { [P.registry]: yaml(registryConfig()), '.github/workflows/validate.yml': 'on: pull_request\n' };
    expect(await change({}, first, 'founder')).toEqual([]);
  });
});
