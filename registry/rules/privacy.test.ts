import { describe, expect, it } from 'vitest';
import { rule } from './privacy.ts';
import { P, SCHEMA_LINE, dataset, datasetAssociation, result, ruleFindings, tutorialRegistry, yaml, type Files } from '../../testing/records.ts';

const { full } = ruleFindings(rule, { sorted: true });

describe('privacy', () => {
  it('passes results and statistics made of numbers and hashes, with the editor line', async () => {
    expect(await full(tutorialRegistry())).toEqual([]);
  });

  it('rejects a result with an extra free-text field, in privacy terms', async () => {
    const files = tutorialRegistry();
    files[P.result] = yaml({ ...result(), notes: 'patient 1234 had a pacemaker' }, SCHEMA_LINE('result'));
    expect(await full(files)).toEqual([
      `${P.result}:32:1 privacy notes is not a field of a result: results carry numbers and hashes only, and free text could carry patient data out of the hospital; remove it`,
    ]);
  });

  it('rejects text where metrics carry numbers, free-text metric names and fields hidden in provenance', async () => {
    const files = tutorialRegistry();
    const r = result();
    files[P.result] = yaml(
      {
        ...r,
        metrics: { AUC: 'about 0.8', per_class: { effusion: { AUC: 0.8, 'seen on John Doe': 1 } }, flags: [1, 2] },
        provenance: { ...r.provenance, host: 'ward-3-pc' },
      },
      SCHEMA_LINE('result'),
    );
    expect(await full(files)).toEqual([
      `${P.result}:6:3 privacy metrics.AUC is text, not a number: metrics carry numbers only, so nothing else leaves the hospital`,
      `${P.result}:10:7 privacy a name under metrics.per_class.effusion is not a metric name: names are up to 64 letters, digits and _ . : + - (^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,63}$), so they cannot carry free text`,
      `${P.result}:11:3 privacy metrics.flags is a list, not a number: metrics carry numbers only, so nothing else leaves the hospital`,
      `${P.result}:36:3 privacy host is not a field of provenance of a result: results carry numbers and hashes only, and free text could carry patient data out of the hospital; remove it`,
    ]);
  });

  it("rejects every comment in a result but the editor's first line", async () => {
    const files = tutorialRegistry();
    const text = yaml(result(), SCHEMA_LINE('result'))
      .replace('partial: false', 'partial: false # 3 cases failed: ids 17, 21, 40')
      .replace('metrics:', '# scanner: GE Revolution, ward 3\nmetrics:');
    files[P.result] = text;
    expect(await full(files)).toEqual([
      `${P.result}:5:1 privacy comments are not allowed in a result: a comment could carry data out of the hospital; remove it (only the leading \`# yaml-language-server: $schema=...\` line may stay)`,
      `${P.result}:11:16 privacy comments are not allowed in a result: a comment could carry data out of the hospital; remove it (only the leading \`# yaml-language-server: $schema=...\` line may stay)`,
    ]);
  });

  it('rejects text in dataset statistics, and any text field a dataset does not have', async () => {
    const files = tutorialRegistry();
    files[P.dataset] = yaml({ ...dataset({ statistics: { cases: 120, sites: 'St. Mary, ward 3' } as never }), patients: 'see list' });
    expect(await full(files)).toEqual([
      `${P.dataset}:8:3 privacy statistics.sites is text, not a number: statistics carry numbers only, so nothing else leaves the hospital`,
      `${P.dataset}:11:1 privacy patients is not a field of a dataset: the only text a dataset publishes is its name, description and location, as its owner typed and confirmed them; remove it`,
    ]);
  });

  it("rejects text in an association's compatibility-test metrics, computed on the data owner's data", async () => {
    const files = tutorialRegistry();
    const test = datasetAssociation().compatibility_test;
    files[P.datasetAssociation] = yaml({
      ...datasetAssociation(),
      compatibility_test: { ...test, metrics: { AUC: 0.8, worst_case: 'case 17' }, site: 'ward 3' },
    });
    expect(await full(files)).toEqual([
      `${P.datasetAssociation}:5:5 privacy compatibility_test.metrics.worst_case is text, not a number: metrics carry numbers only, so nothing else leaves the hospital`,
      `${P.datasetAssociation}:8:3 privacy site is not a field of compatibility_test of a dataset association: dataset associations carry numbers and hashes only, and free text could carry patient data out of the hospital; remove it`,
    ]);
  });
});
