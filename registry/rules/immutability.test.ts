import { describe, expect, it } from 'vitest';
import { rule } from './immutability.ts';
import {
  P,
  SCHEMA_LINE,
  benchmark,
  cube,
  dataset,
  fullContext,
  registryConfig,
  result,
  ruleFindings,
  tutorialRegistry,
  without,
  yaml,
  type Files,
} from '../../testing/records.ts';

const findings = ruleFindings(rule, { sorted: true });
const change = (base: Files, head: Files) => findings.change(base, head, 'someone');

const rerun = (over: Parameters<typeof result>[0]) => yaml(result(over), SCHEMA_LINE('result'));

describe('immutability', () => {
  const base = tutorialRegistry();

  it('allows what keeps results reproducible: new records, development edits, description edits, reruns', async () => {
    expect(await rule.check(await fullContext(base))).toEqual([]);
    const dev = { ...base, [P.model]: yaml(cube('model', 'development')) };
    const head = { ...dev };
    head[P.model] = yaml(cube('model', 'operational', '7')); // a development cube may change, then go operational
    head[P.prep] = yaml({ ...cube('data-preparator'), description: 'now documented' });
    head[P.dataset] = yaml(dataset({ description: 'retyped' }));
    head[P.result] = rerun({
      version: 2,
      metrics: { AUC: 0.86 },
      provenance: { ...result().provenance, executed_at: '2026-11-21T09:00:00Z' },
    });
    head['mlcubes/erin/unet.yaml'] = yaml(cube('model'));
    expect(await change(dev, head)).toEqual([]);
  });

  it("rejects every changed hash of an operational cube, and its return to development", async () => {
    const c = cube('model', 'operational', 'f');
    const head = {
      ...base,
      [P.model]: yaml({
        ...c,
        mlcube: { ...c.mlcube!, sha256: '0'.repeat(64) },
        image: { digest: `sha256:${'1'.repeat(64)}` },
        state: 'development',
      }),
    };
    const f = 'f'.repeat(64);
    expect(await change(base, head)).toEqual([
      `${P.model}:5:3 immutability mlcube.sha256 of an operational cube never changes (was ${f}, now ${'0'.repeat(64)}): submit a new cube instead`,
      `${P.model}:10:3 immutability image.digest of an operational cube never changes (was sha256:${'c'.repeat(64)}, now sha256:${'1'.repeat(64)}): submit a new cube instead`,
      `${P.model}:11:1 immutability an operational cube never goes back to development`,
    ]);
  });

  it("rejects a changed hash of an operational dataset and a benchmark's return to development", async () => {
    const head = {
      ...base,
      [P.dataset]: yaml(dataset({ generated_uid: '3'.repeat(64) })),
      [P.benchmark]: yaml(benchmark({ state: 'development' })),
    };
    expect(await change(base, head)).toEqual([
      `${P.benchmark}:16:1 immutability an operational benchmark never goes back to development`,
      `${P.dataset}:5:1 immutability generated_uid of an operational dataset never changes (was ${'2'.repeat(64)}, now ${'3'.repeat(64)}): submit a new dataset instead`,
    ]);
  });

  it('never deletes an operational cube or dataset, nor any result', async () => {
    const head = without(base, P.model, P.dataset, P.result);
    expect(await change(base, head)).toEqual([
      `${P.result}:1:1 immutability results are append-only: ${P.result} may not be deleted; submit a new version instead`,
      `${P.dataset}:1:1 immutability an operational dataset is never deleted: results and benchmarks depend on ${P.dataset}`,
      `${P.model}:1:1 immutability an operational cube is never deleted: results and benchmarks depend on ${P.model}`,
    ]);
    const dev = { ...base, 'mlcubes/bob/draft.yaml': yaml(cube('model', 'development')) };
    expect(await change(dev, base)).toEqual([]);
  });

  it('rejects a silent edit of a result: same version, same execution time', async () => {
    const head = { ...base, [P.result]: rerun({ metrics: { AUC: 0.99 } }) };
    expect(await change(base, head)).toEqual([
      `${P.result}:8:1 immutability results are append-only: a rerun of version 1 must be version 2, not 1`,
      `${P.result}:28:3 immutability results are append-only: a new version needs the time of its new run, but provenance.executed_at is still 2026-11-20T10:00:00Z`,
    ]);
  });

  it('starts every new result at version 1, so a version carries nothing a data owner chose', async () => {
    const main = without(base, P.result);
    for (const version of [2, 7, 88123196104, 19610402]) {
      const head = { ...main, [P.result]: yaml(result({ version })) };
      const line = head[P.result]!.split('\n').findIndex((l) => l.startsWith('version:')) + 1;
      expect(await change(main, head), String(version)).toEqual([
        `${P.result}:${line}:1 immutability a new result is version 1 (its reruns are 2, 3, ...), not ${version}: set version: 1`,
      ]);
    }
    expect(await change(main, { ...main, [P.result]: yaml(result({ version: 1 })) })).toEqual([]);
  });
  it("keeps every admin who leaves in former_admins, which never shrinks, so their imports still verify", async () => {
    const config = (over: Parameters<typeof registryConfig>[0]) => ({ ...base, [P.registry]: yaml(registryConfig(over)) });
    // admins: admin1, admin2 on the base.
    expect(await change(base, config({ admins: ['admin2'], former_admins: ['admin1'] }))).toEqual([]);
    expect(await change(base, config({ admins: ['admin1', 'admin2', 'admin3'] }))).toEqual([]);
    expect(await change(base, config({ admins: ['ADMIN1', 'admin2'] }))).toEqual([]);
    expect(await change(base, config({ admins: ['admin3'] }))).toEqual([
      `${P.registry}:2:1 immutability admin1, admin2 leave the admins: add them to former_admins, which keeps the results an admin imported from a MedPerf server verifying (a former admin approves nothing and signs no new result)`,
    ]);
    expect(await change(base, config({ admins: ['admin2'], former_admins: ['someone-else'] }))).toEqual([
      `${P.registry}:2:1 immutability admin1 leaves the admins: add it to former_admins, which keeps the results an admin imported from a MedPerf server verifying (a former admin approves nothing and signs no new result)`,
    ]);
    const left = config({ admins: ['admin2'], former_admins: ['admin1', 'admin0'] });
    // A former admin may become an admin again; dropping one otherwise is refused, however it is written.
    expect(await change(left, config({ admins: ['admin2', 'admin1'], former_admins: ['admin0'] }))).toEqual([]);
    expect(await change(left, config({ admins: ['admin2'], former_admins: ['Admin0', 'ADMIN1', 'admin4'] }))).toEqual([]);
    expect(await change(left, config({ admins: ['admin2'], former_admins: ['admin1'] }))).toEqual([
      `${P.registry}:4:1 immutability former_admins only grows: results imported by admin0 are verified with it; keep that login in former_admins`,
    ]);
    expect(await change(left, config({ admins: ['admin2'] }))).toEqual([
      `${P.registry}:1:1 immutability former_admins only grows: results imported by admin1, admin0 are verified with it; keep those logins in former_admins`,
    ]);
  });
});
