// Signed results: every result record carries an Ed25519 signature by its data owner, made with
// the signing key the data owner published in people/<login>.yaml. Pure: records and keys in,
// records and verdicts out; reading keys from disk and from the registry is the CLI's part.
//
// What is signed (the canonical content of a result), precisely:
//   1. the record's data as parsed (the YAML's values; comments and key order play no part),
//      with the single field `signature.ed25519` left out (the rest of `signature`, who signed
//      and with which version of their key, is signed too);
//   2. serialized as RFC 8785 JSON (JCS): object keys sorted by UTF-16 code units, no
//      whitespace, strings and numbers as ECMAScript's JSON.stringify writes them;
//   3. encoded as UTF-8 and prefixed with the line `medperf-git result signature v1\n`, so a
//      signature of a result can never be taken for a signature of anything else.
// The signature is Ed25519 (RFC 8032, pure) over those bytes, written in base64.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import type { ResultRecord } from './records.ts';

// canonicalize is CommonJS (module.exports = fn); under NodeNext its default import is that function.
type Canonicalize = (value: unknown) => string | undefined;
/** RFC 8785 canonical JSON: what every signature and every comparison of record content is made over. */
export const canonicalize: Canonicalize =
  (canonicalizeModule as unknown as { default?: Canonicalize }).default ?? (canonicalizeModule as unknown as Canonicalize);

export const RESULT_SIGNATURE_CONTEXT = 'medperf-git result signature v1\n';

/** The signature block of a result record. */
export type ResultSignature = NonNullable<ResultRecord['signature']>;

/** Who signs, with what: the login, the version of people/<login>.yaml holding the key, the private key. */
export interface ResultSigner {
  login: string;
  keyVersion: number;
  privateKey: KeyObject;
  /** Set when the signer vouches for results imported from a MedPerf server, not for their own run. */
  imported?: boolean;
  /** Set when a committee member re-encrypts a result's metrics to the committee as it is now. */
  rewrapped?: boolean;
}

/** The bytes a result's signature is made over (see the top of this file). */
export function canonicalResultBytes(record: ResultRecord): Buffer {
  const { signature, ...rest } = record;
  const content: Record<string, unknown> = { ...rest };
  if (signature) {
    const { ed25519: _value, ...who } = signature;
    content.signature = who;
  }
  const json = canonicalize(content);
  if (json === undefined) throw new Error('a result record has no canonical form');
  return Buffer.from(RESULT_SIGNATURE_CONTEXT + json, 'utf8');
}

/** The record with its signature by `signer` (any signature it had is replaced). */
export function signResult(record: ResultRecord, signer: ResultSigner): ResultRecord {
  const { signature: _old, ...rest } = record;
  const block: ResultSignature = {
    signed_by: signer.login,
    key_version: signer.keyVersion,
    ...(signer.imported ? { imported: true } : {}),
    ...(signer.rewrapped ? { rewrapped: true } : {}),
    ed25519: '',
  };
  const unsigned: ResultRecord = { ...rest, signature: block };
  const value = sign(null, canonicalResultBytes(unsigned), signer.privateKey).toString('base64');
  return { ...rest, signature: { ...block, ed25519: value } };
}

/** Whether the record's signature verifies with `publicKey`; false for any malformed signature. */
export function verifyResultSignature(record: ResultRecord, publicKey: KeyObject): boolean {
  const value = record.signature?.ed25519;
  if (!value) return false;
  const bytes = Buffer.from(value, 'base64');
  if (bytes.length !== 64 || bytes.toString('base64') !== value) return false;
  try {
    return verify(null, canonicalResultBytes(record), publicKey, bytes);
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Ed25519 keys as records write them: the raw 32-byte public key in base64 (44 characters).

/** A public signing key as written in people/<login>.yaml. */
export function encodeSigningKey(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x) throw new Error('not an Ed25519 public key');
  return Buffer.from(jwk.x, 'base64url').toString('base64');
}

/** The KeyObject of a written public signing key; undefined when it is not one. */
export function decodeSigningKey(text: string): KeyObject | undefined {
  const raw = Buffer.from(text, 'base64');
  if (raw.length !== 32 || raw.toString('base64') !== text) return undefined;
  try {
    return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** A fresh Ed25519 key pair. */
export function generateSigningKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ed25519');
}

/** RFC 8410's PKCS#8 prefix of an Ed25519 private key, before its 32-byte seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');

/** The Ed25519 key pair of a 32-byte seed (RFC 8032: the seed is the private key). */
export function signingKeyFromSeed(seed: Uint8Array): { privateKey: KeyObject; publicKey: KeyObject } {
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes');
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/**
 * Decoded public keys by their text, per tree: a full validation reads one data owner's key for
 * thousands of results and decodes it once. Held only as long as the tree is, so one validation
 * never reuses the work of another.
 */
const decoded = new WeakMap<object, Map<string, KeyObject | undefined>>();

export function cachedSigningKey(tree: object, text: string): KeyObject | undefined {
  let keys = decoded.get(tree);
  if (!keys) decoded.set(tree, (keys = new Map()));
  if (keys.has(text)) return keys.get(text);
  const key = decodeSigningKey(text);
  keys.set(text, key);
  return key;
}
