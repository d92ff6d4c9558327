import { armor } from 'age-encryption';
import { describe, expect, it } from 'vitest';
import { inspectEnvelope } from '../envelope.ts';
import { rule } from './confidential.ts';
import { rule as signature } from './signatures.ts';
import { validatorFor } from '../schemas.ts';
import {
  P,
  benchmark,
  committeeReaders,
  datasetAssociation,
  committeeRegistry,
  examplePerson,
  result,
  ruleFindings,
  sealedExample,
  signedExample,
  tutorialRegistry,
  without,
  withResult,
  yaml,
  type Files,
} from '../../testing/records.ts';

const findings = ruleFindings(rule, { sorted: true });
const signatures = ruleFindings(signature, { sorted: true });
const SUBMIT = 'dora submits it again with `medperf-git result submit -b chestxray`';

/** The armored text with the bytes of its binary form changed by `change`, armored again. */
function rearmored(text: string, change: (bytes: Uint8Array) => Uint8Array): string {
  return armor.encode(change(armor.decode(text)));
}

/** An envelope's header with its stanza lines rewritten (the payload kept). */
function withHeader(text: string, rewrite: (header: string) => string): string {
  return rearmored(text, (bytes) => {
    const raw = Buffer.from(bytes);
    const end = raw.indexOf('\n--- ') + 1;
    return Buffer.concat([Buffer.from(rewrite(raw.subarray(0, end).toString('latin1')), 'latin1'), raw.subarray(end)]);
  });
}

describe('confidential rule', () => {
  it('passes a sealed result under a committee-only benchmark, over a registry and in a change, and its signature covers the envelope', async () => {
    const base = await committeeRegistry();
    expect(await findings.full(base)).toEqual([]);
    expect(await findings.change(without(base, P.result), base, 'dora')).toEqual([]);
    expect(await signatures.full(base)).toEqual([]);
    const sealed = (await sealedExample()).encrypted_metrics!;
    const other = await sealedExample();
    // Another envelope under the first one's signature does not verify.
    const swapped = { ...(await sealedExample()), encrypted_metrics: { ...sealed, age: other.encrypted_metrics!.age } };
    expect((await signatures.full(withResult(base, swapped))).join('\n')).toContain('the signature does not verify');
  });

  it('leaves clear-text benchmarks as they were: clear metrics pass, encrypted ones are refused', async () => {
    expect(await findings.full(tutorialRegistry())).toEqual([]);
    const sealed = await sealedExample();
    const out = await findings.full(withResult({ ...tutorialRegistry(), [P.registry]: (await committeeRegistry())[P.registry]! }, sealed));
    expect(out).toEqual([expect.stringMatching(new RegExp(`^${P.result}:\\d+:\\d+ confidential the benchmark chestxray publishes its results in clear \\(results_policy.read is public\\), so a result holds its metrics in clear, not encrypted; ${SUBMIT.replace(/[`.]/g, '\\$&')}$`))]);
  });

  it('refuses metrics in clear under a committee-only policy, whoever signed them', async () => {
    const base = await committeeRegistry();
    const clear = withResult(base, signedExample(result()));
    const expected = `the results of chestxray are read by its committee only (results_policy.read: committee), so a result holds its metrics encrypted (encrypted_metrics), never in clear; ${SUBMIT}, which encrypts them`;
    expect(await findings.full(clear)).toEqual([expect.stringContaining(`confidential ${expected}`)]);
    expect(await findings.change(without(base, P.result), clear, 'dora')).toEqual([expect.stringContaining(expected)]);
  });

  it('refuses a missing or an extra recipient, named in clear or only in the header', async () => {
    const base = await committeeRegistry();
    const readers = committeeReaders();
    const mallory = { login: 'mallory', age_recipient: examplePerson('mallory').age_recipient };
    const variants: Array<{ recipients: typeof readers; named?: typeof readers; says: string[] }> = [
      { recipients: readers.filter((r) => r.login !== 'carol'), says: [`not encrypted to carol (${readers[2]!.age_recipient})`] },
      { recipients: readers.filter((r) => !r.site), says: ['not encrypted to the site ('] },
      { recipients: [...readers, mallory], says: [`encrypted to mallory (${mallory.age_recipient}), who may not read it`] },
      { recipients: [...readers.slice(0, 3), { site: true, age_recipient: examplePerson('mallory').age_recipient }], says: ['not encrypted to the site (', `encrypted to the site (${mallory.age_recipient}), who may not read it`] },
      // Encrypted to mallory too, but the clear list names only the required set.
      { recipients: [...readers, mallory], named: readers, says: ['the encrypted metrics are encrypted to 5 recipients, but the record names 4 recipients'] },
      // The clear list names carol twice, the header has one stanza more than the set.
      { recipients: [...readers, readers[2]!], says: ['a recipient is named twice'] },
    ];
    for (const v of variants) {
      const sealed = await sealedExample(result(), v.recipients);
      if (v.named) sealed.encrypted_metrics!.recipients = v.named as never;
      const out = (await findings.change(without(base, P.result), withResult(base, sealed), 'dora')).join('\n');
      for (const s of v.says) expect(out).toContain(s);
      expect(out).toContain(SUBMIT);
    }
  });

  it('refuses a recipient stanza of another type, a damaged armor and an envelope over the size bound', async () => {
    const base = await committeeRegistry();
    const good = await sealedExample();
    const age = good.encrypted_metrics!.age;
    const scrypt = withHeader(age, (h) => h.replace(/-> X25519 (\S+)/, '-> scrypt c2FsdHNhbHRzYWx0c2FsdA 18'));
    const plugin = withHeader(age, (h) => h.replace(/-> X25519 (\S+)/, '-> piv-p256 abcd $1'));
    const cases: Array<[string, string]> = [
      [scrypt, 'the encrypted metrics have 1 recipient stanza of type scrypt: a result is encrypted to X25519 recipients only'],
      [plugin, 'the encrypted metrics have 1 recipient stanza of type piv-p256'],
      [age.replace('-----END AGE ENCRYPTED FILE-----', '-----END PGP MESSAGE-----'), 'is not'],
      [age.replace(/\n[A-Za-z0-9+/]{10}/, '\n'), 'the encrypted metrics are not an armored age file'],
      [rearmored(age, (b) => Buffer.concat([Buffer.from('age-encryption.org/v2'), Buffer.from(b).subarray(21)])), 'its header does not start with age-encryption.org/v1'],
    ];
    for (const [text, says] of cases) {
      const tampered = signedExample({ ...good, encrypted_metrics: { ...good.encrypted_metrics!, age: text } });
      const out = [...(await findings.full(withResult(base, tampered))), ...(validatorFor('result')(tampered) ? [] : ['schema: is not'])].join('\n');
      expect(out).toContain(says);
    }
    // Oversize: the schema bounds the text (a record that fails its schema is no record for the
    // other rules), and so does the envelope's reader.
    const long = `-----BEGIN AGE ENCRYPTED FILE-----\n${'QUFB\n'.repeat(30000)}-----END AGE ENCRYPTED FILE-----\n`;
    const oversize = signedExample({ ...good, encrypted_metrics: { ...good.encrypted_metrics!, age: long } });
    const validate = validatorFor('result');
    expect(validate(oversize)).toBe(false);
    expect(validate.errors!.map((e) => `${e.instancePath} ${e.message}`)).toContain('/encrypted_metrics/age must NOT have more than 131072 characters');
    expect(inspectEnvelope(long)).toEqual({ ok: false, problem: 'it takes 150068 characters, more than 131072' });
  });

  it("refuses a dataset association that publishes the reference model's metrics under a committee-only policy", async () => {
    const base = await committeeRegistry();
    const expected = `confidential the results of chestxray are read by its committee only, so a dataset association publishes no metrics of the reference model on the data owner's data`;
    expect(await findings.change(without(base, P.datasetAssociation), base, 'dora')).toEqual([]);
    // The clear-text fixture's association publishes AUC.
    const loud = { ...base, [P.datasetAssociation]: tutorialRegistry()[P.datasetAssociation]! };
    expect(await findings.change(without(base, P.datasetAssociation), loud, 'dora')).toEqual([expect.stringContaining(expected)]);
    expect(await findings.full(tutorialRegistry())).toEqual([]);
  });

  it('fails closed when a reader has no published keys or the registry names no site recipient', async () => {
    const base = await committeeRegistry();
    expect(await findings.full(without(base, 'people/carol.yaml'))).toEqual([
      expect.stringContaining('confidential the recipients cannot be checked, so the result cannot be accepted: carol published no keys'),
    ]);
    const noSite = { ...base, [P.registry]: tutorialRegistry()[P.registry]! };
    expect(await findings.full(noSite)).toEqual([expect.stringContaining('registry.yaml names no site_recipient')]);
  });

  it('the schema takes a result with either metrics or encrypted metrics, never both nor neither', async () => {
    const validate = validatorFor('result');
    const sealed = await sealedExample();
    expect(validate(sealed)).toBe(true);
    expect(validate(result())).toBe(true);
    expect(validate({ ...sealed, metrics: { AUC: 0.84 } })).toBe(false);
    const { metrics: _m, ...neither } = result();
    expect(validate(neither)).toBe(false);
    expect(validate({ ...sealed, encrypted_metrics: { ...sealed.encrypted_metrics!, recipients: [{ login: 'dora', site: true, age_recipient: examplePerson('dora').age_recipient }] } })).toBe(false);
    expect(validate({ ...sealed, encrypted_metrics: { ...sealed.encrypted_metrics!, age: 'AUC: 0.84' } })).toBe(false);
  });
});

describe('a committee-only benchmark', () => {
  it('the record names its readers in clear, and no metric number', async () => {
    const text = (await committeeRegistry())[P.result]!;
    expect(text).not.toContain('0.84');
    expect(text).toContain('encrypted_metrics:\n  recipients:\n    - login: dora\n');
    expect(text).toContain('-----BEGIN AGE ENCRYPTED FILE-----');
    expect(benchmark().results_policy.read).toBeUndefined();
  });
});
