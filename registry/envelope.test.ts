import { armor } from 'age-encryption';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { exampleIdentity } from '../examples/keys.ts';
import { clearResult, inspectEnvelope, openMetrics, recipientDifference, requiredRecipients } from './envelope.ts';
import { verifyResultSignature } from './signing.ts';
import { committeeReaders, examplePerson, result, sealedExample, SITE_LOGIN } from '../testing/records.ts';

describe('the envelope of committee-only metrics', () => {
  it('opens for each recipient and gives back the metrics and the data owner signature of the result in clear', async () => {
    const sealed = await sealedExample();
    expect(inspectEnvelope(sealed.encrypted_metrics!.age)).toEqual({ ok: true, stanzaTypes: ['X25519', 'X25519', 'X25519', 'X25519'] });
    for (const login of ['dora', 'bench-committee', 'carol', SITE_LOGIN]) {
      const content = await openMetrics(sealed.encrypted_metrics!, [exampleIdentity(login).ageIdentity]);
      expect(content?.metrics).toEqual(result().metrics);
      const clear = clearResult(sealed, content!);
      expect(clear).toEqual({ ...result(), signature: content!.signature });
      expect(verifyResultSignature(clear, exampleIdentity('dora').signing.publicKey)).toBe(true);
    }
  });

  it('refuses a header that carries anything but X25519 shares, wrapped keys and the MAC, which anyone can read', async () => {
    const sealed = await sealedExample();
    const bytes = armor.decode(sealed.encrypted_metrics!.age);
    const headerEnd = Buffer.from(bytes).indexOf('\n--- ') + 1;
    const header = Buffer.from(bytes.subarray(0, headerEnd)).toString('latin1');
    const rest = Buffer.from(bytes.subarray(headerEnd));
    const b64 = (t: string) => Buffer.from(t).toString('base64').replace(/=+$/, '');
    const text = b64('Jane Roe, MRN 88123, DOB 1961-04-02');
    const [first, body] = header.split('\n').slice(1, 3) as [string, string];
    const variants: Array<[string, string, string]> = [
      ['a stanza of text after the real ones', header + `-> X25519 ${b64('Jane Roe MRN 88123 DOB 19610402')}\n${b64('ward 3B, pneumothorax left')}\n`, 'an X25519 stanza'],
      ['text as an extra argument', header.replace(first, `${first} ${text}`), 'an X25519 stanza'],
      ['a share of text', header.replace(first, `-> X25519 ${text}`), 'an X25519 stanza'],
      ['a wrapped key of text, on two lines', header.replace(`${first}\n${body}\n`, `${first}\n${text.slice(0, 64).padEnd(64, 'A')}\n${text.slice(0, 10)}\n`), 'an X25519 stanza'],
      ['a share whose spare bits hold data', header.replace(first, first.slice(0, -1) + 'B'), 'an X25519 stanza'],
      ['a line of text after a wrapped key', header.replace(`${first}\n${body}\n`, `${first}\n${body}\n${text.slice(0, 64)}\n`), 'an X25519 stanza'],
      ['a blank line after a wrapped key', header.replace(`${first}\n${body}\n`, `${first}\n${body}\n\n`), 'an X25519 stanza'],
      ['text after the last stanza, before the MAC', header + `${text.slice(0, 64)}\n`, 'an X25519 stanza'],
    ];
    for (const [what, changed, problem] of variants) {
      const age = armor.encode(new Uint8Array([...Buffer.from(changed, 'latin1'), ...rest]));
      const shape = inspectEnvelope(age);
      expect(shape.ok, what).toBe(false);
      expect((shape as { problem: string }).problem, what).toContain(problem);
    }
    const mac = armor.encode(new Uint8Array([...Buffer.from(header, 'latin1'), ...Buffer.from(rest.toString('latin1').replace(/^--- \S+/, `--- ${text}`), 'latin1')]));
    expect(inspectEnvelope(mac)).toEqual({ ok: false, problem: 'its MAC line is not a 32-byte MAC' });
  });

  it('says nothing to whoever is not a recipient, and refuses a tampered envelope', async () => {
    const sealed = await sealedExample();
    expect(await openMetrics(sealed.encrypted_metrics!, [exampleIdentity('mallory').ageIdentity])).toBeUndefined();
    expect(await openMetrics(sealed.encrypted_metrics!, [])).toBeUndefined();
    const bytes = armor.decode(sealed.encrypted_metrics!.age);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: bytes.length - 1 }), fc.integer({ min: 1, max: 255 }), async (at, xor) => {
        const flipped = Uint8Array.from(bytes);
        flipped[at]! ^= xor;
        const opened = openMetrics({ ...sealed.encrypted_metrics!, age: armor.encode(flipped) }, [exampleIdentity('carol').ageIdentity]);
        await expect(opened).rejects.toThrow(/the encrypted metrics (do not decrypt|cannot be read)/);
      }),
      { numRuns: 60 },
    );
  });

  it('names the readers once each, data owner first, and the site last', () => {
    const person = (login: string) => (login === 'nobody' ? undefined : examplePerson(login));
    const site = examplePerson(SITE_LOGIN).age_recipient;
    const req = requiredRecipients({ dataOwner: 'dora', committee: ['bench-committee', 'carol', 'DORA'], person, siteRecipient: site });
    expect(req).toEqual({ recipients: committeeReaders(), missing: [], noSite: false });
    expect(requiredRecipients({ dataOwner: 'dora', committee: ['nobody'], person, siteRecipient: undefined })).toMatchObject({ missing: ['nobody'], noSite: true });
    expect(recipientDifference(committeeReaders().reverse(), committeeReaders())).toEqual({ missing: [], extra: [] });
  });
});
