// Results signed together: one Ed25519 signature over a Merkle root, each record with its proof.
import referenceCanonicalize from 'canonicalize';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleIdentity, exampleSigner } from '../examples/keys.ts';
import type { ResultRecord } from './records.ts';
import { validatorFor } from './schemas.ts';
import { canonicalize, signResult, signResults, verifyResultSignature } from './signing.ts';
import { P, result, ruleFindings, tutorialRegistry, withResult } from '../testing/records.ts';
import { rule } from './rules/signatures.ts';

const key = exampleIdentity('dora').signing.publicKey;
const dora = exampleSigner('dora');
/** n results of dora's dataset, each of another model. */
const batch = (n: number, auc = 0.8): ResultRecord[] =>
  Array.from({ length: n }, (_, i) => result({ model: `bob/model-${i}`, metrics: { AUC: auc, F1: i / 100 } }));
const proofOf = (r: ResultRecord) => r.signature!.proof!;
const withProof = (r: ResultRecord, proof: string[]) => ({ ...r, signature: { ...r.signature!, proof } }) as ResultRecord;

describe('canonical JSON', () => {
  // The reference RFC 8785 implementation (CommonJS: its default import is the function).
  const reference = ((referenceCanonicalize as unknown as { default?: unknown }).default ?? referenceCanonicalize) as (v: unknown) => string;

  it('is byte for byte what the reference RFC 8785 implementation writes, for any JSON value', () => {
    // Any string (lone surrogates, control characters, quotes), any key (__proto__ and the like
    // included), any finite number (-0, exponents, the largest and smallest doubles).
    const value = fc.letrec((tie) => ({
      any: fc.oneof({ depthSize: 'small' }, fc.constant(null), fc.boolean(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ unit: 'binary' }), tie('array'), tie('object')),
      array: fc.array(tie('any'), { maxLength: 5 }),
      object: fc.dictionary(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('__proto__', 'constructor', 'length', 'toJSON', '0', '10', '9')), tie('any'), { maxKeys: 6 }),
    })).any;
    fc.assert(
      fc.property(value, (v) => {
        expect(canonicalize(v)).toBe(reference(v));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses what JSON cannot write rather than writing null', () => {
    for (const bad of [NaN, Infinity, -Infinity, { metrics: { AUC: NaN } }, [1, Infinity], () => 1, 1n]) {
      expect(() => canonicalize(bad)).toThrow();
    }
  });
});

describe('results signed together', () => {
  it('gives every result of a batch one signature and its own proof, each verifying on its own', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 40 }), (n) => {
        const signed = signResults(batch(n), dora);
        expect(new Set(signed.map((r) => r.signature!.ed25519)).size).toBe(1);
        for (const r of signed) {
          expect(proofOf(r).length).toBeGreaterThan(0);
          expect(proofOf(r).length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
          expect(verifyResultSignature(r, key)).toBe(true);
        }
      }),
      { numRuns: 20 },
    );
  });

  it('signs a result alone as before: no proof, its own signature', () => {
    const [alone] = signResults(batch(1), dora);
    expect(alone!.signature!.proof).toBeUndefined();
    expect(alone).toEqual(signResult(batch(1)[0]!, dora));
    expect(verifyResultSignature(alone!, key)).toBe(true);
    expect(signResults([], dora)).toEqual([]);
  });

  it('refuses a result of a batch changed after signing, and only that one', () => {
    const signed = signResults(batch(5), dora);
    const changes: Array<(r: ResultRecord) => ResultRecord> = [
      (r) => ({ ...r, metrics: { ...r.metrics, AUC: 0.99 } }),
      (r) => ({ ...r, model: 'bob/model-9' }),
      (r) => ({ ...r, version: 2 }),
      (r) => ({ ...r, signature: { ...r.signature!, imported: true } }),
      (r) => ({ ...r, signature: { ...r.signature!, key_version: 2 } }),
    ];
    for (const change of changes) {
      const tampered = signed.map((r, i) => (i === 2 ? change(r) : r));
      expect(tampered.map((r) => verifyResultSignature(r, key))).toEqual([true, true, false, true, true]);
    }
  });

  it('refuses a proof that was altered, cut, lengthened, taken from another result or from another batch', () => {
    const signed = signResults(batch(6), dora);
    const other = signResults(batch(6, 0.5), dora);
    const r = signed[1]!;
    const proof = proofOf(r);
    const flip = (h: string) => (h[0] === 'a' ? 'b' : 'a') + h.slice(1);
    const variants: string[][] = [
      [flip(proof[0]!), ...proof.slice(1)],
      proof.slice(0, -1),
      [...proof, proof[0]!],
      [...proof].reverse(),
      proofOf(signed[4]!),
      proofOf(other[1]!),
    ];
    for (const v of variants) expect(verifyResultSignature(withProof(r, v), key)).toBe(false);
    // Without its proof, the record is read as signed alone, and the batch's signature is not its own.
    const { proof: _dropped, ...alone } = r.signature!;
    expect(verifyResultSignature({ ...r, signature: alone }, key)).toBe(false);
    // The signature of one batch with the proof of another.
    expect(verifyResultSignature({ ...other[1]!, signature: { ...other[1]!.signature!, ed25519: r.signature!.ed25519 } }, key)).toBe(false);
    // Malformed proofs are a refusal, not an exception.
    for (const bad of [[], ['not hex'], Array(33).fill(proof[0]!), [proof[0]!.toUpperCase()]]) {
      expect(verifyResultSignature(withProof(r, bad), key)).toBe(false);
    }
  });

  it('refuses a batch signed by another key', () => {
    const signed = signResults(batch(3), exampleSigner('bob'));
    for (const r of signed) expect(verifyResultSignature({ ...r, signature: { ...r.signature!, signed_by: 'dora' } }, key)).toBe(false);
  });

  it('has the schema refuse a proof that is empty, too long or not hex hashes', () => {
    const validate = validatorFor('result');
    const r = signResults(batch(2), dora)[0]!;
    expect(validate(r)).toBe(true);
    for (const proof of [[], Array(33).fill(proofOf(r)[0]!), ['abc'], [proofOf(r)[0]!.toUpperCase()], [1]]) {
      expect(validate(withProof(r, proof as string[]))).toBe(false);
    }
  });

  it('passes the signature rule for a result signed with others, and names the field when its proof was altered', async () => {
    const findings = ruleFindings(rule, { sorted: true });
    const signed = signResults([result(), ...batch(3)], dora)[0]!;
    expect(await findings.full(withResult(tutorialRegistry(), signed))).toEqual([]);
    const proof = proofOf(signed);
    const altered = await findings.full(withResult(tutorialRegistry(), withProof(signed, [proof[1]!, proof[0]!])));
    expect(altered).toHaveLength(1);
    expect(altered[0]).toMatch(new RegExp(`^${P.result}:\\d+:3 signature the signature does not verify with dora's key \\(version 1 of people/dora.yaml\\)`));
  });
});
