// What this machine can read of a committee-only result: the acting login's identity in the state
// directory (cli/keys.ts), given to registry/sealed-check.ts readResult, which opens an envelope
// and shows its metrics only when the data owner's signature inside verifies.
import { readIdentity } from './keys.ts';

export { ENCRYPTED_FOR_THE_COMMITTEE, readResult, type ResultReading } from '../registry/sealed-check.ts';

/** The age identities the acting login holds on this machine (none without keys). */
export async function readerIdentities(stateDir: string, login: string): Promise<string[]> {
  if (!login) return [];
  const identity = await readIdentity(stateDir, login);
  return identity ? [identity.ageIdentity] : [];
}
