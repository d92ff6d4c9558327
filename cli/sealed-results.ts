// What this machine can read of a committee-only result: the registry holds its metrics encrypted
// (registry/envelope.ts), and whoever holds a recipient's identity (cli/keys.ts: the acting
// login's identity in the state directory) opens them. Opened metrics are shown only when the data
// owner's signature of the result in clear verifies with the key they published; a tampered
// envelope or signature is refused, never shown.
import { clearResult, EnvelopeError, openMetrics } from '../registry/envelope.ts';
import { MedperfError } from '../registry/errors.ts';
import { paths } from '../registry/layout.ts';
import type { Metrics, ResultRecord } from '../registry/records.ts';
import { signingKeyAt } from '../registry/rules/signatures.ts';
import { cachedSigningKey, verifyResultSignature } from '../registry/signing.ts';
import type { RegistryView } from '../registry/view.ts';
import { readIdentity } from './keys.ts';

/** What a reader sees of a result: its metrics, or why they stay encrypted. */
export type ResultReading = { metrics: Metrics; encrypted: boolean } | { metrics?: undefined; encrypted: true; closed: 'no-identity' | 'not-a-recipient' };

/** The words for a result the reader cannot open. */
export const ENCRYPTED_FOR_THE_COMMITTEE = 'encrypted for the committee';

/** The age identities the acting login holds on this machine (none without keys). */
export async function readerIdentities(stateDir: string, login: string): Promise<string[]> {
  if (!login) return [];
  const identity = await readIdentity(stateDir, login);
  return identity ? [identity.ageIdentity] : [];
}

/**
 * A result as `identities` read it: clear metrics as they are; encrypted ones opened when they can
 * be, and shown only when the data owner's signature inside verifies (else an error: refused).
 */
export async function readResult(view: RegistryView, path: string, record: ResultRecord, identities: string[]): Promise<ResultReading> {
  if (!record.encrypted_metrics) return { metrics: record.metrics ?? {}, encrypted: false };
  if (!identities.length) return { encrypted: true, closed: 'no-identity' };
  let content;
  try {
    content = await openMetrics(record.encrypted_metrics, identities);
  } catch (error) {
    if (error instanceof EnvelopeError) throw new MedperfError(error.code, `${path}: ${error.message}; it is refused, and nothing of it is shown`);
    throw error;
  }
  if (!content) return { encrypted: true, closed: 'not-a-recipient' };
  const owner = path.split('/')[3] ?? '';
  const signer = content.signature.signed_by;
  const person = await view.person(signer);
  const text = person && signingKeyAt(person.data, content.signature.key_version);
  const key = text === undefined || text === null ? undefined : cachedSigningKey(text);
  if (signer.toLowerCase() !== owner.toLowerCase() || !key || !verifyResultSignature(clearResult(record, content), key)) {
    throw new MedperfError(
      'signature-invalid',
      `${path}: the metrics in its envelope are not signed by its data owner ${owner} with a key of ${paths.person(owner)}: they were changed after they were signed; they are refused, and not shown`,
    );
  }
  return { metrics: content.metrics, encrypted: true };
}
