import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityFromSeed, personRecordFor } from '../identity.ts';
import type { ResultRecord } from '../records.ts';
import { canonicalResultBytes, RESULT_SIGNATURE_CONTEXT, signResult } from '../signing.ts';
import { validatorFor } from '../schemas.ts';
import { exampleIdentity } from '../../examples/keys.ts';
import { rule as immutability } from './immutability.ts';
import { rule as ownership } from './ownership.ts';
import { rule } from './signatures.ts';
import {
  P,
  SCHEMA_LINE,
  examplePerson,
  exampleSigner,
  registryConfig,
  result,
  ruleFindings,
  signedExample,
  tutorialRegistry,
  without,
  withResult,
  yaml,
  type Files,
} from '../../testing/records.ts';

const findings = ruleFindings(rule, { sorted: true });
const HOW = 'dora runs `medperf-git keys init` and `medperf-git keys publish` once (merged), then `medperf-git result submit -b chestxray`, which signs it';
const DOES_NOT_VERIFY = (version = 1) =>
  `${P.result}:35:3 signature the signature does not verify with dora's key (version ${version} of people/dora.yaml): the record was changed after it was signed, or signed with another key; dora signs it again with \`medperf-git result submit -b chestxray\``;

/** dora's keys rotated once: version 2 with a new key, version 1's key kept. */
function rotated(): { files: Files; v2: ReturnType<typeof identityFromSeed> } {
  const v2 = identityFromSeed(new Uint8Array(64).fill(9));
  const person = personRecordFor(v2.keys, examplePerson('dora'))!;
  return { files: { ...tutorialRegistry(), [P.person]: yaml(person) }, v2 };
}

describe('signature rule', () => {
  const base = tutorialRegistry();
  const without_ = (files: Files) => without(files, P.result);

  it('passes results signed by their data owner, over a registry and in a change', async () => {
    expect(await findings.full(base)).toEqual([]);
    expect(await findings.change(without_(base), base, 'dora')).toEqual([]);
  });

  it('refuses an unsigned result, saying what to run', async () => {
    const head = withResult(base, result());
    const expected = [`${P.result}:2:1 signature the result is not signed: every result is signed by its data owner; ${HOW}`];
    expect(await findings.full(head)).toEqual(expected);
    expect(await findings.change(without_(base), head, 'dora')).toEqual(expected);
  });

  it('refuses a result changed after it was signed, whatever changed', async () => {
    const signed = signedExample(result());
    const variants: Array<(r: ResultRecord) => ResultRecord> = [
      (r) => ({ ...r, metrics: { ...r.metrics, AUC: 0.99 } }),
      (r) => ({ ...r, partial: true }),
      (r) => ({ ...r, provenance: { ...r.provenance, executed_at: '2026-11-21T10:00:00Z' } }),
      (r) => ({ ...r, signature: { ...r.signature!, key_version: 1, imported: true } }),
    ];
    for (const change of variants) {
      expect(await findings.full(withResult(base, change(signed)))).toEqual([DOES_NOT_VERIFY()]);
    }
    await fc.assert(
      fc.asyncProperty(fc.double({ min: 0, max: 1, noNaN: true }).filter((n) => n !== 0.84 && !Object.is(n, -0)), async (auc) => {
        const tampered = { ...signed, metrics: { ...signed.metrics, AUC: auc } };
        expect(await findings.full(withResult(base, tampered))).toEqual([DOES_NOT_VERIFY()]);
      }),
      { numRuns: 25 },
    );
  });

  it('refuses a tampered signature', async () => {
    const signed = signedExample(result());
    const value = signed.signature!.ed25519;
    for (const i of [0, 40, 85]) {
      const flipped = value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1);
      expect(await findings.full(withResult(base, { ...signed, signature: { ...signed.signature!, ed25519: flipped } }))).toEqual([DOES_NOT_VERIFY()]);
    }
  });

  it("refuses a result signed with someone else's key under the data owner's name", async () => {
    for (const login of ['mallory', 'bob', 'admin1']) {
      const forged = signResult(result(), { ...exampleSigner(login), login: 'dora' });
      expect(await findings.full(withResult(base, forged))).toEqual([DOES_NOT_VERIFY()]);
    }
  });

  it('refuses a result signed by anyone but its data owner, unless an admin vouches for an import', async () => {
    const people = { ...base, 'people/mallory.yaml': yaml(examplePerson('mallory')), 'people/admin1.yaml': yaml(examplePerson('admin1')) };
    const byMallory = withResult(people, signedExample(result(), 'mallory'));
    expect(await findings.full(byMallory)).toEqual([
      `${P.result}:33:3 signature the result is signed by mallory, but results are signed by their data owner (dora); ${HOW}`,
    ]);
    const importedByMallory = withResult(people, signResult(result(), exampleSigner('mallory', 1, true)));
    expect(await findings.full(importedByMallory)).toEqual([
      `${P.result}:33:3 signature the result is signed by mallory, but results are signed by their data owner (dora) or, for a result imported from a MedPerf server, by a registry admin (admin1, admin2) or a former admin listed in registry.yaml's former_admins; ${HOW}`,
    ]);
    const importedByAdmin = withResult(people, signResult(result(), exampleSigner('admin1', 1, true)));
    expect(await findings.full(importedByAdmin)).toEqual([]);
    // An admin signing without saying it is an import is refused: admins do not sign data owners' runs.
    expect(await findings.full(withResult(people, signedExample(result(), 'admin1')))).toHaveLength(1);
  });

  it("keeps a former admin's imports valid, and lets a former admin sign no new one", async () => {
    const people = { ...base, 'people/admin1.yaml': yaml(examplePerson('admin1')) };
    const imported = withResult(people, signResult(result(), exampleSigner('admin1', 1, true)));
    // admin1 left the admins and is kept in former_admins (immutability sees to it): the import stays valid.
    const left = { ...imported, [P.registry]: yaml(registryConfig({ admins: ['admin2'], former_admins: ['admin1'] })) };
    expect(await findings.full(left)).toEqual([]);
    // Written in another case, the login is the same.
    expect(await findings.full({ ...left, [P.registry]: yaml(registryConfig({ admins: ['admin2'], former_admins: ['Admin1'] })) })).toEqual([]);
    // Left without a trace, the import has no signer the registry vouches for.
    expect(await findings.full({ ...imported, [P.registry]: yaml(registryConfig({ admins: ['admin2'] })) })).toEqual([
      `${P.result}:33:3 signature the result is signed by admin1, but results are signed by their data owner (dora) or, for a result imported from a MedPerf server, by a registry admin (admin2) or a former admin listed in registry.yaml's former_admins; ${HOW}`,
    ]);
    // A change adds results: a former admin's new import is refused, naming the current admins only.
    const leftBase = without(left, P.result);
    expect(await findings.change(leftBase, left, 'admin1')).toEqual([
      `${P.result}:33:3 signature the result is signed by admin1, but results are signed by their data owner (dora) or, for a result imported from a MedPerf server, by a registry admin (admin2); ${HOW}`,
    ]);
  });

  it('refuses a result whose signer published no keys, or publishes them in the same change, and fails closed on keys it cannot read', async () => {
    const noKeys = without(base, P.person);
    expect(await findings.full(noKeys)).toEqual([
      `${P.result}:32:1 signature dora has published no keys (people/dora.yaml), so the signature cannot be checked; ${HOW}`,
    ]);
    expect(await findings.change(without(noKeys, P.result), base, 'dora')).toEqual([
      `${P.result}:32:1 signature dora's keys (people/dora.yaml) are part of this change: keys are published on their own pull request first (\`medperf-git keys publish\`); submit the result once it is merged`,
    ]);
    for (const broken of ['version: one\n', 'signing_key: [\n', '']) {
      expect(await findings.full({ ...base, [P.person]: broken })).toEqual([
        `${P.result}:32:1 signature people/dora.yaml does not load, so the signature cannot be checked: fix people/dora.yaml first (\`medperf-git validate\` says what is wrong)`,
      ]);
    }
    const unknownVersion = withResult(base, signedExample(result(), 'dora', 3));
    expect(await findings.full(unknownVersion)).toEqual([
      `${P.result}:34:3 signature the result names version 3 of people/dora.yaml, which holds no signing key of that version (it is at version 1), so the signature cannot be checked`,
    ]);
  });

  it('verifies results signed before a rotation with the key they name, and new ones only with the current key', async () => {
    const { files, v2 } = rotated();
    const v2Signer = { login: 'dora', keyVersion: 2, privateKey: v2.signing.privateKey };
    // The old result (version 1's key) still verifies over the registry; a rerun signed with the new key too.
    expect(await findings.full(files)).toEqual([]);
    const rerun = signResult({ ...result(), version: 2, provenance: { ...result().provenance, executed_at: '2026-11-22T10:00:00Z' } }, v2Signer);
    expect(await findings.full(withResult(files, rerun))).toEqual([]);
    expect(await findings.change(files, withResult(files, rerun), 'dora')).toEqual([]);
    // A new result signed with the replaced key is refused; so is one claiming version 2 with the old key.
    const stale = signedExample({ ...result(), version: 2, provenance: { ...result().provenance, executed_at: '2026-11-22T10:00:00Z' } });
    expect(await findings.change(files, withResult(files, stale), 'dora')).toEqual([
      `${P.result}:34:3 signature the result is signed with version 1 of people/dora.yaml, but version 2 replaced it: a new result is signed with the current key; dora signs it again with \`medperf-git result submit -b chestxray\``,
    ]);
    const claimed = signResult(result(), { ...exampleSigner('dora'), keyVersion: 2 });
    expect(await findings.full(withResult(files, claimed))).toEqual([DOES_NOT_VERIFY(2)]);
  });

  it('signs the canonical content: key order and YAML form do not matter, the signature block does', () => {
    const r = signedExample(result());
    const reordered = JSON.parse(JSON.stringify({ signature: r.signature, provenance: r.provenance, version: r.version, partial: r.partial, metrics: r.metrics, dataset: r.dataset, model: r.model, benchmark: r.benchmark })) as ResultRecord;
    expect(canonicalResultBytes(reordered)).toEqual(canonicalResultBytes(r));
    const text = canonicalResultBytes(r).toString('utf8');
    expect(text.startsWith(RESULT_SIGNATURE_CONTEXT + '{"benchmark":"chestxray","dataset":"dora/xrays","metrics":{"AUC":0.84,')).toBe(true);
    expect(text).toContain('"signature":{"key_version":1,"signed_by":"dora"}');
    expect(text).not.toContain(r.signature!.ed25519);
  });
});

describe('published keys', () => {
  const base = tutorialRegistry();
  const immutable = ruleFindings(immutability, { sorted: true });
  const owners = ruleFindings(ownership, { sorted: true });

  it('belong to their login alone', async () => {
    const head = { ...base, 'people/bob.yaml': yaml(examplePerson('bob')) };
    expect(await owners.change(base, head, 'bob')).toEqual([]);
    for (const who of ['mallory', 'admin1', 'carol']) {
      expect(await owners.change(base, head, who)).toEqual([`people/bob.yaml:1:1 ownership ${who} may not add people/bob.yaml: only bob publishes their own keys`]);
    }
    expect(await owners.change(base, { ...base, [P.person]: yaml(rotated().files[P.person]) }, 'admin1')).toEqual([
      'people/dora.yaml:1:1 ownership admin1 may not change people/dora.yaml: only dora publishes their own keys',
    ]);
  });

  it('rotate as the next version keeping every earlier signing key, and are never deleted', async () => {
    const { files } = rotated();
    expect(await immutable.change(base, files, 'dora')).toEqual([]);
    const next = identityFromSeed(new Uint8Array(64).fill(3));
    const v2 = personRecordFor(next.keys, examplePerson('dora'))!;
    const wrongVersion = { ...v2, version: 5 };
    expect(await immutable.change(base, { ...base, [P.person]: yaml(wrongVersion) }, 'dora')).toEqual([
      'people/dora.yaml:1:1 immutability keys rotate as a new version: the version after 1 is 2, not 5',
    ]);
    const dropped = { ...v2, earlier_signing_keys: undefined };
    expect(await immutable.change(base, { ...base, [P.person]: yaml(dropped) }, 'dora')).toEqual([
      'people/dora.yaml:1:1 immutability earlier_signing_keys keeps every earlier signing key so results signed with them still verify: it must list version 1 with their keys as published (`medperf-git keys publish` writes it)',
    ]);
    const swapped = { ...v2, earlier_signing_keys: [{ version: 1, signing_key: next.keys.signing_key }] };
    expect(await immutable.change(base, { ...base, [P.person]: yaml(swapped) }, 'dora')).toHaveLength(1);
    expect(await immutable.change(base, without(base, P.person), 'dora')).toEqual([
      'people/dora.yaml:1:1 immutability published keys are never deleted: results signed with them are verified with people/dora.yaml; rotate with `medperf-git keys init --rotate` and `medperf-git keys publish` instead',
    ]);
  });

  it("registry.yaml may name the site's recipient, an age recipient and nothing else", () => {
    const validate = validatorFor('registry');
    expect(validate(registryConfig({ site_recipient: examplePerson('site').age_recipient }))).toBe(true);
    for (const bad of [exampleIdentity('site').ageIdentity, 'age1short', examplePerson('site').signing_key]) {
      expect(validate(registryConfig({ site_recipient: bad }))).toBe(false);
    }
  });

  it('publish public halves only: no private key material in a person record or a signed result', () => {
    const id = identityFromSeed(new Uint8Array(64).fill(5));
    const texts = [yaml(personRecordFor(id.keys)), yaml(signResult(result(), { login: 'dora', keyVersion: 1, privateKey: id.signing.privateKey }), SCHEMA_LINE('result')), yaml(registryConfig())];
    const seed = Buffer.from(new Uint8Array(32).fill(5));
    for (const text of texts) {
      expect(text).not.toMatch(/AGE-SECRET-KEY|PRIVATE KEY/i);
      for (const encoding of ['base64', 'base64url', 'hex'] as const) expect(text).not.toContain(seed.toString(encoding));
    }
  });
});
