import { describe, expect, it } from 'vitest';
import { exampleIdentity } from '../../examples/keys.ts';
import { openMetrics, sealMetrics } from '../envelope.ts';
import { formatFinding } from '../findings.ts';
import { paths } from '../layout.ts';
import type { ResultRecord } from '../records.ts';
import { checkSealedResults } from '../sealed-check.ts';
import { signResult } from '../signing.ts';
import { memoryTree } from '../trees.ts';
import { validateChange, validateRegistry } from '../validate.ts';
import {
  benchmark,
  committeeReaders,
  committeeRegistry,
  examplePerson,
  exampleSigner,
  P,
  result,
  SITE_LOGIN,
  view,
  without,
  withResult,
  yaml,
  type Files,
} from '../../testing/records.ts';

const POLICY = { publish: 'per-model', primary_metric: 'AUC', direction: 'higher', read: 'committee' } as const;
const NEW_COMMITTEE: [string, ...string[]] = ['bench-committee', 'carol', 'erin'];
const SITE = exampleIdentity(SITE_LOGIN).ageIdentity;

/** The readers a result of dora's must have once erin joined the committee. */
function newReaders() {
  return [...committeeReaders().filter((r) => !r.site), { login: 'erin', age_recipient: examplePerson('erin').age_recipient }, committeeReaders().find((r) => r.site)!];
}

/** The committee-only registry after erin joined the committee: the result still sealed to the old one. */
async function afterCommitteeChange(): Promise<Files> {
  return {
    ...(await committeeRegistry()),
    [P.benchmark]: yaml(benchmark({ committee: NEW_COMMITTEE, results_policy: POLICY })),
    [paths.person('erin')]: yaml(examplePerson('erin')),
  };
}

async function resultOf(files: Files): Promise<ResultRecord> {
  return ((await view(files).record(P.result))!.data as ResultRecord);
}

/** The result re-wrapped to the new readers by `by` (carol, a member), its content changed by `change`. */
async function rewrapped(base: Files, over: { by?: string; flag?: boolean; record?: Partial<ResultRecord>; content?: (c: Awaited<ReturnType<typeof openMetrics>> & object) => typeof c } = {}) {
  const was = await resultOf(base);
  const content = (await openMetrics(was.encrypted_metrics!, [exampleIdentity('carol').ageIdentity]))!;
  const envelope = await sealMetrics(over.content ? over.content(content) : content, newReaders());
  return signResult({ ...was, ...over.record, encrypted_metrics: envelope }, { ...exampleSigner(over.by ?? 'carol'), rewrapped: over.flag ?? true });
}

async function change(base: Files, head: Files, author: string): Promise<string[]> {
  const changed = [P.result];
  return (await validateChange({ base: memoryTree(base), head: memoryTree(head), changed, author })).map(formatFinding);
}

describe('re-wrapping committee-only results after a committee change', () => {
  it('accepts a current member re-wrapping to the new committee with the same content, and the whole registry is clean afterwards', async () => {
    const base = await afterCommitteeChange();
    expect((await validateRegistry(memoryTree(base))).map(formatFinding).join('\n')).toContain('erin');
    const head = withResult(base, await rewrapped(base));
    expect(await change(base, head, 'carol')).toEqual([]);
    expect(await checkSealedResults({ base: memoryTree(base), head: memoryTree(head), changed: [P.result], author: 'carol', identities: [SITE] })).toEqual([]);
    expect((await validateRegistry(memoryTree(head))).map(formatFinding)).toEqual([]);
    // The new member reads the numbers.
    const now = await resultOf(head);
    expect((await openMetrics(now.encrypted_metrics!, [exampleIdentity('erin').ageIdentity]))?.metrics).toEqual(result().metrics);
  });

  it('after a member leaves: a remaining member re-wraps without them; the one who left may not', async () => {
    const base = { ...(await committeeRegistry()), [P.benchmark]: yaml(benchmark({ committee: ['bench-committee'], results_policy: POLICY })) };
    expect((await validateRegistry(memoryTree(base))).map(formatFinding).join('\n')).toContain('carol');
    const was = await resultOf(base);
    const content = (await openMetrics(was.encrypted_metrics!, [exampleIdentity('bench-committee').ageIdentity]))!;
    const readers = committeeReaders().filter((r) => r.login !== 'carol');
    const by = async (login: string) => signResult({ ...was, encrypted_metrics: await sealMetrics(content, readers) }, { ...exampleSigner(login), rewrapped: true });
    const head = withResult(base, await by('bench-committee'));
    expect(await change(base, head, 'bench-committee')).toEqual([]);
    expect(await checkSealedResults({ base: memoryTree(base), head: memoryTree(head), changed: [P.result], author: 'bench-committee', identities: [SITE] })).toEqual([]);
    expect((await validateRegistry(memoryTree(head))).map(formatFinding)).toEqual([]);
    expect(await openMetrics((await resultOf(head)).encrypted_metrics!, [exampleIdentity('carol').ageIdentity])).toBeUndefined();
    const left = (await change(base, withResult(base, await by('carol')), 'carol')).join('\n');
    expect(left).toContain(`ownership carol may not change ${P.result}`);
    expect(left).toContain('by a member of the committee of chestxray (bench-committee)');
  });

  it('refuses a re-wrap by someone not on the committee, whoever signs it', async () => {
    const base = await afterCommitteeChange();
    for (const by of ['mallory', 'model-owner']) {
      const out = (await change(base, withResult(base, await rewrapped(base, { by })), by)).join('\n');
      expect(out).toContain(`ownership ${by} may not change ${P.result}`);
      expect(out).toContain(`the result is signed by ${by}, but results are signed by their data owner (dora) or, for encrypted metrics re-wrapped to a new committee, by a member of the committee of chestxray (bench-committee, carol, erin)`);
    }
  });

  it('refuses a member changing anything else than the envelope and the signature', async () => {
    const base = await afterCommitteeChange();
    const was = await resultOf(base);
    const variants: Array<[Partial<ResultRecord>, string]> = [
      [{ version: 2 }, 'immutability'],
      [{ provenance: { ...was.provenance, executed_at: '2030-01-01T00:00:00Z' } }, 'ownership carol may not change'],
      [{ partial: true }, 'ownership carol may not change'],
      [{ version: 2, provenance: { ...was.provenance, executed_at: '2030-01-01T00:00:00Z' } }, 'ownership carol may not change'],
    ];
    for (const [record, says] of variants) {
      expect((await change(base, withResult(base, await rewrapped(base, { record })), 'carol')).join('\n')).toContain(says);
    }
  });

  it('refuses a re-wrap without the flag, or signed by a member who is not the author', async () => {
    const base = await afterCommitteeChange();
    const unflagged = (await change(base, withResult(base, await rewrapped(base, { flag: false })), 'carol')).join('\n');
    expect(unflagged).toContain(`ownership carol may not change ${P.result}`);
    expect(unflagged).toContain('immutability');
    expect(unflagged).toContain('the result is signed by carol, but results are signed by their data owner (dora)');
    const otherSigner = (await change(base, withResult(base, await rewrapped(base, { by: 'bench-committee' })), 'carol')).join('\n');
    expect(otherSigner).toContain(`ownership carol may not change ${P.result}`);
    expect(otherSigner).toContain('immutability');
  });

  it('never lets a re-wrap add or delete a result', async () => {
    const base = await afterCommitteeChange();
    const added = (await change(without(base, P.result), withResult(base, await rewrapped(base)), 'carol')).join('\n');
    expect(added).toContain(`ownership carol may not add ${P.result}`);
    const deleted = (await change(base, without(base, P.result), 'carol')).join('\n');
    expect(deleted).toContain(`ownership carol may not delete ${P.result}`);
    expect(deleted).toContain('results are append-only');
  });

  it('the sealed check refuses a re-wrap whose content differs, showing no number, and fails closed without the site key', async () => {
    const base = await afterCommitteeChange();
    const variants = [
      (c: { metrics: ResultRecord['metrics'] & object; signature: NonNullable<ResultRecord['signature']> }) => ({ ...c, metrics: { ...c.metrics, AUC: 0.9931 } }),
      (c: { metrics: ResultRecord['metrics'] & object; signature: NonNullable<ResultRecord['signature']> }) => ({ ...c, signature: signResult(result({ metrics: { AUC: 0.9931 } }), exampleSigner('dora')).signature! }),
      (c: { metrics: ResultRecord['metrics'] & object; signature: NonNullable<ResultRecord['signature']> }) => ({ ...c, metrics: {} }),
    ];
    for (const content of variants) {
      const head = withResult(base, await rewrapped(base, { content: content as never }));
      // The rules without a key cannot tell; the gate's check with the site key does.
      expect(await change(base, head, 'carol')).toEqual([]);
      const out = (await checkSealedResults({ base: memoryTree(base), head: memoryTree(head), changed: [P.result], author: 'carol', identities: [SITE] })).map(formatFinding).join('\n');
      expect(out).toMatch(new RegExp(`^${P.result}:\\d+:\\d+ confidential a re-wrap must not change the metrics`));
      expect(out).not.toContain('0.99');
      const keyless = (await checkSealedResults({ base: memoryTree(base), head: memoryTree(head), changed: [P.result], author: 'carol', identities: [] })).map(formatFinding).join('\n');
      expect(keyless).toContain('this check holds no site key');
    }
  });
});
