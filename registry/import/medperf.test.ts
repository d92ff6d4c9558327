import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fixtureData } from '../../testing/medperf-fixtures.ts';
import { NAME } from '../layout.ts';
import { MissingLoginsError, pathSafeName, planImport, type ServerSnapshot } from './medperf.ts';

const logins = { admin: 'medperf-admin', testadmin: 'medperf-admin', testbo: 'bench-committee', testmo: 'model-owner', testdo: 'data-owner' };
const options = { logins, assetsUrl: 'https://example.org/assets/', medperfGitVersion: '0.1.0' };
const snapshot = () => fixtureData() as unknown as ServerSnapshot;

describe('planImport', () => {
  it('makes every name a path segment or refuses it, never a path', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 100 }), (name) => {
        const safe = pathSafeName(name);
        if (safe === undefined) return;
        expect(safe).toMatch(new RegExp(`^${NAME}$`));
        expect(safe).not.toContain('/');
        expect(safe).not.toContain('..');
      }),
    );
    expect(pathSafeName('Mock Brain Tumors Segmentation')).toBe('mock-brain-tumors-segmentation');
    expect(pathSafeName('../../etc/passwd')).toBe('etc-passwd');
    expect(pathSafeName('日本')).toBeUndefined();
  });

  it('gives the same records for the same server, whatever order its lists come in', () => {
    const a = planImport(snapshot(), options);
    const shuffled = snapshot();
    for (const list of Object.values(shuffled)) (list as unknown[]).reverse();
    const b = planImport(shuffled, options);
    const key = (p: typeof a) => p.records.map((r) => `${r.path} ${JSON.stringify(r.data)}`).sort();
    expect(key(b)).toEqual(key(a));
    expect(b.assets).toEqual(a.assets);
  });

  it('refuses to guess a login, naming every user it needs', () => {
    const error = (() => {
      try {
        planImport(snapshot(), { ...options, logins: { testbo: 'bench-committee' } });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MissingLoginsError);
    expect((error as MissingLoginsError).usernames).toEqual(['admin', 'testadmin', 'testdo', 'testmo']);
  });

  it('refuses entries whose fields are not what the API documents, with their server id', () => {
    const s = snapshot();
    (s.mlcubes[1] as unknown as Record<string, unknown>).owner = 'testbo';
    (s.results[0] as unknown as Record<string, unknown>).results = [0.7];
    const plan = planImport(s, options);
    expect(plan.report.refused).toContainEqual({ source: 'mlcube #2', reason: "the server's answer has owner not a number" });
    expect(plan.report.refused).toContainEqual({ source: 'result #1', reason: "the server's answer has results not an object" });
    expect(plan.records.map((r) => r.path)).not.toContain('mlcubes/bench-committee/chestxray_prep.yaml');
    // What needed the preparator is refused too, and says why.
    expect(plan.report.refused).toContainEqual({ source: 'benchmark #1', reason: 'its data preparator, mlcube #2, is not imported' });
  });

  it('refuses a dataset prepared with a preparator still in development, and what depends on it', () => {
    for (const state of ['DEVELOPMENT', undefined, 'SOMETHING']) {
      const s = snapshot();
      const prep = s.datasets[0]!.data_preparation_mlcube;
      const cube = s.mlcubes.find((c) => c.id === prep)! as unknown as Record<string, unknown>;
      if (state === undefined) delete cube.state;
      else cube.state = state;
      const plan = planImport(s, options);
      const source = `dataset #${s.datasets[0]!.id}`;
      expect(plan.report.refused, String(state)).toContainEqual({
        source,
        reason: `its data preparator, mlcube #${prep}, is still in development: medperf-git registers data prepared only with an operational preparator`,
      });
      expect(plan.records.filter((r) => r.kind === 'dataset'), String(state)).toEqual([]);
      expect(plan.records.filter((r) => r.kind === 'result'), String(state)).toEqual([]);
    }
  });

  it('carries REJECTED nowhere but the report, and PENDING as pull requests', () => {
    const s = snapshot();
    s.benchmarks[0]!.approval_status = 'PENDING';
    s.benchmarks[1]!.approval_status = 'REJECTED';
    const plan = planImport(s, options);
    expect(plan.report.rejected).toContainEqual({ source: 'benchmark #2', reason: 'benchmark "Mock Brain Tumors Segmentation" was rejected on the server' });
    const statuses = Object.fromEntries(plan.records.map((r) => [r.path, r.status]));
    expect(statuses['benchmarks/chestxray/benchmark.yaml']).toBe('PENDING');
    // An approved association of a pending benchmark waits for the benchmark.
    expect(statuses['benchmarks/chestxray/models/model-owner/chestxray_mobilenet.yaml']).toBe('PENDING');
    expect(statuses['mlcubes/bench-committee/chestxray_cnn.yaml']).toBe('APPROVED');
  });
});
