import { armor } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { exampleIdentity } from '../examples/keys.ts';
import { sealedResult, sealMetrics } from './envelope.ts';
import { formatFinding } from './findings.ts';
import type { Metrics, ResultRecord } from './records.ts';
import { checkSealedResults } from './sealed-check.ts';
import { memoryTree } from './trees.ts';
import { committeeReaders, committeeRegistry, P, result, SCHEMA_LINE, SITE_LOGIN, signedExample, without, yaml, type Files } from '../testing/records.ts';

const SITE = exampleIdentity(SITE_LOGIN).ageIdentity;

/** A sealed result whose envelope holds `metrics`, with dora's inner signature of `signedMetrics` (default: the same). */
async function sealedWith(metrics: unknown, signedMetrics: Metrics = metrics as Metrics, recipients = committeeReaders()): Promise<ResultRecord> {
  const inner = signedExample(result({ metrics: signedMetrics }));
  const envelope = await sealMetrics({ metrics: metrics as Metrics, signature: inner.signature! }, recipients);
  return signedExample(sealedResult(result(), envelope));
}

async function check(head: Files, identities = [SITE]) {
  const base = without(await committeeRegistry(), P.result);
  const findings = await checkSealedResults({ base: memoryTree(base), head: memoryTree(head), changed: [P.result], author: 'dora', identities });
  return findings.map(formatFinding);
}

const withResult = async (r: ResultRecord): Promise<Files> => ({ ...(await committeeRegistry()), [P.result]: yaml(r, SCHEMA_LINE('result')) });

describe('the privileged check of encrypted results', () => {
  it('passes what the data owner sealed and signed', async () => {
    expect(await check(await committeeRegistry())).toEqual([]);
  });

  it('applies the numbers-only rules inside the envelope, and never shows a decrypted number', async () => {
    const variants: Array<[unknown, string]> = [
      [{ AUC: 0.8461, Dice: 0.7123 }, 'in the encrypted metrics (declared-names):'],
      [{ AUC: 0.8461, per_class: { effusion: { AUC: 'Jane Doe, 0.7123' } } }, 'in the encrypted metrics (privacy): metrics.per_class.effusion.AUC is text, not a number'],
      [{ AUC: 0.8461, 'patient name': 0.7123 }, 'in the encrypted metrics (privacy): a name under metrics is not a metric name'],
    ];
    for (const [metrics, says] of variants) {
      const out = (await check(await withResult(await sealedWith(metrics)))).join('\n');
      expect(out).toContain(says);
      expect(out).toMatch(new RegExp(`^${P.result}:\\d+:\\d+ confidential `));
      expect(out).not.toContain('0.8461');
      expect(out).not.toContain('0.7123');
      expect(out).not.toContain('Jane Doe');
    }
  });

  it("refuses numbers the data owner did not sign, a tampered envelope, and one the site's key does not open", async () => {
    const forged = (await check(await withResult(await sealedWith({ AUC: 0.9, per_class: { effusion: { AUC: 0.8 } } }, result().metrics!)))).join('\n');
    expect(forged).toContain("in the encrypted metrics (signature): the signature does not verify with dora's key");
    expect(forged).not.toContain('0.9');

    const good = await sealedWith(result().metrics);
    const bytes = armor.decode(good.encrypted_metrics!.age);
    bytes[bytes.length - 5]! ^= 1;
    const tampered = signedExample({ ...good, encrypted_metrics: { ...good.encrypted_metrics!, age: armor.encode(bytes) } });
    expect((await check(await withResult(tampered))).join('\n')).toContain('the encrypted metrics do not decrypt: the envelope was changed after it was made');

    const notForSite = await sealedWith(result().metrics, result().metrics, committeeReaders().filter((r) => !r.site));
    expect((await check(await withResult(notForSite))).join('\n')).toContain("the encrypted metrics are not encrypted to the site's key, so they cannot be checked");
  });

  it('fails closed without the site key', async () => {
    expect((await check(await committeeRegistry(), [])).join('\n')).toContain('the encrypted metrics cannot be checked: this check holds no site key');
  });
});
