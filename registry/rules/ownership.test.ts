import { describe, expect, it } from 'vitest';
import { rule } from './ownership.ts';
import {
  P,
  benchmark,
  cube,
  dataset,
  fullContext,
  datasetAssociation,
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
      `${P.datasetAssociation}:1:1 ownership initiated_by never changes: it was dora, who asked for this association; set it back to dora`,
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

  describe('fails closed when the base cannot be read', () => {
    const outsider = (main: Files) => ({ ...main, '.github/workflows/x.yml': 'on: push\n', CODEOWNERS: '* @mallory\n' });
    for (const [what, bytes] of [
      ['fails its schema', yaml({ title: 'x', admins: 'admin1' })],
      ['has an unknown field', yaml({ ...registryConfig(), owner: 'mallory' })],
      ['is not YAML', 'admins: [unclosed\n'],
    ] as const) {
      it(`registry.yaml on main ${what}: no one is shown to own the registry's files`, async () => {
        const main = { ...base, [P.registry]: bytes };
        const message = 'registry.yaml on the base does not load, so its admins cannot be read: fix registry.yaml on main first';
        expect(await change(main, outsider(main), 'mallory')).toEqual([
          `.github/workflows/x.yml:1:1 ownership mallory may not add .github/workflows/x.yml: ${message}`,
          `CODEOWNERS:1:1 ownership mallory may not add CODEOWNERS: ${message}`,
        ]);
        // Not even a listed admin can be recognised, so no change to registry.yaml passes as theirs.
        expect(await change(main, { ...main, [P.registry]: yaml(registryConfig()) }, 'admin1')).toEqual([
          `registry.yaml:1:1 ownership admin1 may not change registry.yaml: ${message}`,
        ]);
      });
    }

    it("a benchmark.yaml on main that does not load gives its associations no committee, never the change's own", async () => {
      const main = { ...base, [P.benchmark]: yaml({ ...benchmark(), committee: 'x' }) };
      const head = { ...main, [P.benchmark]: yaml(benchmark({ committee: ['mallory'] })), [P.modelAssociation]: yaml(modelAssociation({ priority: 9 })) };
      expect(await change(main, head, 'mallory')).toEqual([
        `${P.benchmark}:1:1 ownership mallory may not change ${P.benchmark}: it belongs to the committee of chestxray () and the registry admins (admin1, admin2)`,
        `${P.modelAssociation}:1:1 ownership mallory may not change ${P.modelAssociation}: it belongs to bob or the committee of chestxray ()`,
      ]);
    });
  });

  describe('initiated_by names who asks for an association', () => {
    const bare = without(base, P.result, P.modelAssociation, P.datasetAssociation);
    it('is the author of the change that adds it, in any case of the login, and nobody else', async () => {
      for (const [said, author] of [['bob', 'carol'], ['carol', 'bob'], ['bob-2', 'bob'], ['mallory', 'bob']] as const) {
        const head = { ...bare, [P.modelAssociation]: yaml(modelAssociation({ initiated_by: said })) };
        expect(await change(bare, head, author)).toContainEqual(
          `${P.modelAssociation}:1:1 ownership initiated_by is ${said}, but ${author} opens this association: initiated_by names who asks, so set it to ${author}`,
        );
      }
      expect(await change(bare, { ...bare, [P.modelAssociation]: yaml(modelAssociation({ initiated_by: 'Bob' })) }, 'bob')).toEqual([]);
      expect(await change(bare, { ...bare, [P.datasetAssociation]: yaml(datasetAssociation({ initiated_by: 'dora' })) }, 'dora')).toEqual([]);
      expect(await change(bare, { ...bare, [P.datasetAssociation]: yaml(datasetAssociation({ initiated_by: 'dora' })) }, 'carol')).toEqual([
        `${P.datasetAssociation}:1:1 ownership initiated_by is dora, but carol opens this association: initiated_by names who asks, so set it to carol`,
      ]);
    });

    it('never changes afterwards: the committee setting a priority keeps the name', async () => {
      expect(await change(base, { ...base, [P.modelAssociation]: yaml(modelAssociation({ priority: 2 })) }, 'carol')).toEqual([]);
      expect(await change(base, { ...base, [P.modelAssociation]: yaml(modelAssociation({ priority: 2, initiated_by: 'carol' })) }, 'carol')).toEqual([
        `${P.modelAssociation}:1:1 ownership initiated_by never changes: it was bob, who asked for this association; set it back to bob`,
      ]);
    });
  });
});
