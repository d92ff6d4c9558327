import { describe, expect, it } from 'vitest';
import { formatFinding, sortFindings } from '../findings.ts';
import { rule } from './result-preconditions.ts';
import {
  P,
  SCHEMA_LINE,
  benchmark,
  changeContext,
  dataset,
  fullContext,
  result,
  tutorialRegistry,
  without,
  yaml,
} from '../../testing/records.ts';

const COMMITTEE = 'the committee of chestxray (bench-committee, carol)';

describe('result-preconditions', () => {
  it('accepts a result whose model and dataset are approved for an operational benchmark', async () => {
    expect(await rule.check(await fullContext(tutorialRegistry()))).toEqual([]);
    const main = without(tutorialRegistry(), P.result);
    const change = changeContext(main, tutorialRegistry(), 'dora');
    expect(await rule.check(change)).toEqual([]);
  });

  it('says which association is missing and how to get it approved', async () => {
    const main = without(tutorialRegistry(), P.result, P.modelAssociation, P.datasetAssociation);
    const head = { ...main, [P.result]: yaml(result(), SCHEMA_LINE('result')) };
    expect(sortFindings(await rule.check(changeContext(main, head, 'dora'))).map(formatFinding)).toEqual([
      `${P.result}:3:1 result-preconditions the model bob/resnet is not associated with chestxray: its owner runs \`medperf-git mlcube associate -b chestxray -m bob/resnet\`, then ask ${COMMITTEE} to approve the association`,
      `${P.result}:4:1 result-preconditions the dataset dora/xrays is not associated with chestxray: run \`medperf-git dataset associate -b chestxray -d dora/xrays\`, then ask ${COMMITTEE} to approve the association`,
    ]);
  });

  it('does not count an association added in the same change as approved', async () => {
    const main = without(tutorialRegistry(), P.result, P.datasetAssociation);
    const head = tutorialRegistry();
    expect((await rule.check(changeContext(main, head, 'dora'))).map(formatFinding)).toEqual([
      `${P.result}:4:1 result-preconditions the dataset dora/xrays is not approved for chestxray yet: its association ${P.datasetAssociation} is part of this change; ask ${COMMITTEE} to approve it on its own pull request, then submit the result`,
    ]);
  });

  it('needs an operational dataset and an operational benchmark', async () => {
    const files = tutorialRegistry();
    files[P.dataset] = yaml(dataset({ state: 'development' }));
    files[P.benchmark] = yaml(benchmark({ state: 'development' }));
    expect(sortFindings(await rule.check(await fullContext(files))).map(formatFinding)).toEqual([
      `${P.result}:2:1 result-preconditions the benchmark chestxray is still in development: results are accepted once ${COMMITTEE} makes it operational`,
      `${P.result}:4:1 result-preconditions the dataset dora/xrays is still in development: results are accepted for operational datasets only; run \`medperf-git dataset set-operational -d dora/xrays\` first`,
    ]);
  });
});
