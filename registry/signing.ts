// Signed results: every result record carries an Ed25519 signature by its data owner, made with
// the signing key the data owner published in people/<login>.yaml. Pure: records and keys in,
// records and verdicts out; reading keys from disk and from the registry is the CLI's part.
//
// What is signed (the canonical content of a result), precisely:
//   1. the record's data as parsed (the YAML's values; comments and key order play no part),
//      with the fields `signature.ed25519` and `signature.proof` left out (the rest of
//      `signature`, who signed and with which version of their key, is signed too);
//   2. serialized as RFC 8785 JSON (JCS): object keys sorted by UTF-16 code units, no
//      whitespace, strings and numbers as ECMAScript's JSON.stringify writes them;
//   3. encoded as UTF-8 and prefixed with the line `medperf-git result signature v1\n`, so a
//      signature of a result can never be taken for a signature of anything else.
// A result signed on its own carries the Ed25519 signature (RFC 8032, pure) of those bytes.
//
// Results signed together (a results pull request holds every model's result on a dataset) carry
// one signature, of a Merkle tree over them, so a registry of 100,000 results verifies one
// signature per pull request, not per result:
//   - a leaf is SHA-256(0x00 || the record's canonical bytes above), an inner node
//     SHA-256(0x01 || the smaller child || the larger), bytes compared in order (so a proof needs
//     no left or right), and a level's odd last node goes up unchanged;
//   - the signature is Ed25519 over `medperf-git result batch signature v2\n` followed by the 32
//     bytes of the root, and each record's `signature.proof` lists, leaf upwards, the hashes that
//     lead from its leaf to the root (hex). The 0x00 and 0x01 prefixes keep a node from passing
//     for a record; whoever holds one record and its proof learns nothing of the others.
// Signatures are written in base64.
import { createPrivateKey, hash, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { configure } from 'safe-stable-stringify';
import type { ResultRecord } from './records.ts';

/**
 * RFC 8785 canonical JSON (JCS): what every signature and every comparison of record content is
 * made over. For JSON data, safe-stable-stringify's deterministic output is exactly JCS: keys
 * sorted by UTF-16 code units, no whitespace, strings and numbers as JSON.stringify writes them
 * (registry/signing.test.ts holds it to the reference implementation); it is about twice as fast
 * and allocates far less, which a full validation of 100,000 results feels. `strict`: a value that
 * has no JSON form (NaN, Infinity, a function, a bigint) throws rather than being written as null.
 */
export const canonicalize: (value: unknown) => string | undefined = configure({ deterministic: true, strict: true, bigint: false, circularValue: Error });

export const RESULT_SIGNATURE_CONTEXT = 'medperf-git result signature v1\n';
const BATCH_SIGNATURE_CONTEXT = Buffer.from('medperf-git result batch signature v2\n', 'utf8');

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

/** The text of canonicalResultBytes, before its UTF-8 encoding. */
function canonicalResultText(record: ResultRecord): string {
  const { signature, ...rest } = record;
  // The rest is a fresh object: the signature block goes back in without its value and proof.
  const content: typeof rest & { signature?: unknown } = rest;
  if (signature) {
    const { ed25519: _value, proof: _proof, ...who } = signature;
    content.signature = who;
  }
  const json = canonicalize(content);
  if (json === undefined) throw new Error('a result record has no canonical form');
  return RESULT_SIGNATURE_CONTEXT + json;
}

/** The bytes a result's signature is made over, or its Merkle leaf is made of (see the top of this file). */
export function canonicalResultBytes(record: ResultRecord): Buffer {
  return Buffer.from(canonicalResultText(record), 'utf8');
}

// Nodes are handled as lowercase hex, as proofs write them (hex order is byte order). One-shot
// hashing into one reused buffer: a full validation hashes every result's leaf and its proof.
// The 0x00 byte, then the canonical bytes: hashed from the text, whose UTF-8 is those bytes.
const leafHash = (record: ResultRecord): string => hash('sha256', '\u0000' + canonicalResultText(record), 'hex');
const inner = Buffer.alloc(65, 1);
function nodeHash(a: string, b: string): string {
  inner.write(a < b ? a : b, 1, 'hex');
  inner.write(a < b ? b : a, 33, 'hex');
  return hash('sha256', inner, 'hex');
}

/** The Merkle root of some leaves and, for each leaf, the hashes that lead from it to the root. */
function merkleTree(leaves: string[]): { root: string; proofs: string[][] } {
  const proofs: string[][] = leaves.map(() => []);
  // Which leaves sit under each node of the current level.
  let level = leaves.map((hash, i) => ({ hash, under: [i] }));
  while (level.length > 1) {
    const next: typeof level = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1];
      if (!right) {
        next.push(left);
        continue;
      }
      for (const leaf of left.under) proofs[leaf]!.push(right.hash);
      for (const leaf of right.under) proofs[leaf]!.push(left.hash);
      next.push({ hash: nodeHash(left.hash, right.hash), under: [...left.under, ...right.under] });
    }
    level = next;
  }
  return { root: level[0]!.hash, proofs };
}

/** The bytes a batch's signature is made over. */
const batchSigned = (root: string) => Buffer.concat([BATCH_SIGNATURE_CONTEXT, Buffer.from(root, 'hex')]);

/**
 * The records, each with a signature by `signer` (any signature they had is replaced): a record
 * alone is signed by itself; several are signed together, with one signature over their Merkle
 * root and each record's proof.
 */
export function signResults(records: readonly ResultRecord[], signer: ResultSigner): ResultRecord[] {
  const block = {
    signed_by: signer.login,
    key_version: signer.keyVersion,
    ...(signer.imported ? { imported: true as const } : {}),
    ...(signer.rewrapped ? { rewrapped: true as const } : {}),
  };
  if (records.length === 0) return [];
  const unsigned = records.map(({ signature: _old, ...rest }) => ({ ...rest, signature: { ...block, ed25519: '' } }) as ResultRecord);
  if (unsigned.length === 1) {
    const value = sign(null, canonicalResultBytes(unsigned[0]!), signer.privateKey).toString('base64');
    return [{ ...unsigned[0]!, signature: { ...block, ed25519: value } }];
  }
  const { root, proofs } = merkleTree(unsigned.map(leafHash));
  const value = sign(null, batchSigned(root), signer.privateKey).toString('base64');
  return unsigned.map((r, i) => ({ ...r, signature: { ...block, proof: proofs[i] as ResultSignature['proof'], ed25519: value } }));
}

/** The record with its own signature by `signer` (any signature it had is replaced). */
export function signResult(record: ResultRecord, signer: ResultSigner): ResultRecord {
  return signResults([record], signer)[0]!;
}

/**
 * Verdicts on batch signatures already checked, per key: a registry's results signed together
 * share one signature and root, verified once. Ed25519 verification is deterministic, so a verdict
 * holds for as long as the key object lives (keys are decoded per tree: cachedSigningKey).
 */
const batchVerdicts = new WeakMap<KeyObject, Map<string, boolean>>();

/** Whether the record's signature verifies with `publicKey`; false for any malformed signature. */
export function verifyResultSignature(record: ResultRecord, publicKey: KeyObject): boolean {
  const value = record.signature?.ed25519;
  if (!value) return false;
  /** The signature's bytes, when it is 64 bytes written in canonical base64. */
  const signature = () => {
    const bytes = Buffer.from(value, 'base64');
    return bytes.length === 64 && bytes.toString('base64') === value ? bytes : undefined;
  };
  try {
    const proof = record.signature!.proof;
    if (proof === undefined) {
      const bytes = signature();
      return bytes !== undefined && verify(null, canonicalResultBytes(record), publicKey, bytes);
    }
    if (!Array.isArray(proof) || proof.length === 0 || proof.length > 32) return false;
    let root = leafHash(record);
    for (const step of proof) {
      if (typeof step !== 'string' || !/^[a-f0-9]{64}$/.test(step)) return false;
      root = nodeHash(root, step);
    }
    let verdicts = batchVerdicts.get(publicKey);
    if (!verdicts) batchVerdicts.set(publicKey, (verdicts = new Map()));
    // The verdict on this signature text and root (the text is checked with the verdict).
    const key = `${value} ${root}`;
    let ok = verdicts.get(key);
    if (ok === undefined) {
      const bytes = signature();
      ok = bytes !== undefined && verify(null, batchSigned(root), publicKey, bytes);
      verdicts.set(key, ok);
    }
    return ok;
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
