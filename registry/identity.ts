// A person's identity: an age X25519 identity (decryption; its recipient is public) and an Ed25519
// signing key, and the record that publishes their public halves (people/<login>.yaml). Pure:
// keys in, texts and records out; the CLI stores the private halves (cli/keys.ts).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { bech32 } from '@scure/base';
import type { PersonRecord } from './records.ts';
import { encodeSigningKey, signingKeyFromSeed } from './signing.ts';

/** RFC 8410's PKCS#8 prefix of an X25519 private key, before its 32 bytes. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** age's encoding of an X25519 identity: `AGE-SECRET-KEY-1...`, bech32 of the 32 secret bytes. */
export function ageIdentityText(secret: Uint8Array): string {
  return bech32.encode('AGE-SECRET-KEY-', bech32.toWords(secret), false).toUpperCase();
}

/** The age recipient (`age1...`) of an X25519 secret. */
export function ageRecipientOf(secret: Uint8Array): string {
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, secret]), format: 'der', type: 'pkcs8' });
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x!;
  return bech32.encode('age', bech32.toWords(Buffer.from(x, 'base64url')), false);
}

/** The 32 secret bytes of an `AGE-SECRET-KEY-1...` text; undefined when it is not one. */
export function ageSecretOf(identity: string): Uint8Array | undefined {
  try {
    const { prefix, words } = bech32.decode(identity.toLowerCase() as `${string}1${string}`, false);
    const bytes = bech32.fromWords(words);
    return prefix === 'age-secret-key-' && bytes.length === 32 ? Uint8Array.from(bytes) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The site keys of a secret's text, as an age identity file holds them: one identity per line
 * (the new one first while a rotation is under way), blank and `#` lines left out. Undefined when
 * a line is not an age identity.
 */
export function siteKeysOf(text: string): string[] | undefined {
  const keys = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return keys.every((k) => ageSecretOf(k)) ? keys : undefined;
}

/** The public halves a person publishes. */
export interface PublicKeys {
  age_recipient: string;
  signing_key: string;
}

/** The public halves of an identity. */
export function publicKeysOf(ageSecret: Uint8Array, signingPublicKey: KeyObject): PublicKeys {
  return { age_recipient: ageRecipientOf(ageSecret), signing_key: encodeSigningKey(signingPublicKey) };
}

/**
 * The record that publishes `keys`: version 1, or, when the published record holds other keys, the
 * next version keeping every earlier signing key (a rotation). Undefined when `published` holds
 * these keys already.
 */
export function personRecordFor(keys: PublicKeys, published?: PersonRecord): PersonRecord | undefined {
  if (!published) return { version: 1, ...keys };
  if (published.age_recipient === keys.age_recipient && published.signing_key === keys.signing_key) return undefined;
  return {
    version: published.version + 1,
    ...keys,
    earlier_signing_keys: [...(published.earlier_signing_keys ?? []), { version: published.version, signing_key: published.signing_key }],
  };
}

/** A whole identity made from 64 bytes of seed (32 for age, 32 for Ed25519): for examples and tests. */
export function identityFromSeed(seed: Uint8Array): { ageSecret: Uint8Array; ageIdentity: string; signing: { privateKey: KeyObject; publicKey: KeyObject }; keys: PublicKeys } {
  if (seed.length !== 64) throw new Error('an identity seed is 64 bytes');
  const ageSecret = seed.slice(0, 32);
  const signing = signingKeyFromSeed(seed.slice(32));
  return { ageSecret, ageIdentity: ageIdentityText(ageSecret), signing, keys: publicKeysOf(ageSecret, signing.publicKey) };
}
