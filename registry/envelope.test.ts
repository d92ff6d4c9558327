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
