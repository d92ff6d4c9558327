// Committee-only results: under a benchmark whose results_policy.read is `committee`, a result's
// metrics travel as one armored age file (the envelope) instead of clear numbers. The record keeps
// benchmark, model, dataset, version and provenance in clear, and names in clear whom the envelope
// is encrypted to (`encrypted_metrics.recipients`): the data owner, every committee member (each
// with the age recipient of their people/<login>.yaml) and the registry's site recipient
// (registry.yaml site_recipient). Pure apart from age's own encryption: records and keys in,
// envelopes and verdicts out.
//
// What the envelope holds (canonical JSON, UTF-8): `{"metrics": ..., "signature": ...}`, where
// `signature` is the data owner's signature block over the result as it would read in clear (the
// record with `metrics` instead of `encrypted_metrics`, registry/signing.ts). The record's own
// signature covers the record as written, envelope included, so anyone can check it; the inner one
// lets whoever opens the envelope check that the numbers are the data owner's, also after a
// committee member re-wrapped the envelope to a new committee (which changes the ciphertext and
// so needs a new outer signature, by that member).
//
// What the format shows without a key: an age header is a list of stanzas, one per recipient,
// each with its type (`X25519` for an age1... recipient) and an ephemeral share that cannot be
// linked to a recipient without its identity. So a check without keys sees the count and the
// types of the stanzas, and compares the clear recipient list with the set the policy requires;
// which stanza opens for whom only a recipient can tell.
import { armor, Decrypter, Encrypter, identityToRecipient } from 'age-encryption';
import { MedperfError } from './errors.ts';
import type { BenchmarkRecord, Metrics, PersonRecord, ResultRecord } from './records.ts';
import { canonicalize, type ResultSignature } from './signing.ts';

export type EncryptedMetrics = NonNullable<ResultRecord['encrypted_metrics']>;
export type EnvelopeRecipient = EncryptedMetrics['recipients'][number];

/** The most characters an armored envelope may have (the result schema's bound too). */
export const MAX_ENVELOPE_CHARS = 131072;

/** What an envelope holds: the metrics and the data owner's signature over the result in clear. */
export interface SealedContent {
  metrics: Metrics;
  signature: ResultSignature;
}

export class EnvelopeError extends MedperfError {}

/** Whether a benchmark's results are read by its committee only. */
export function readByCommittee(bench: Pick<BenchmarkRecord, 'results_policy'>): boolean {
  return bench.results_policy.read === 'committee';
}

/** Who must read a result: its data owner, then the committee (each login once, case-insensitively). */
export function requiredReaders(dataOwner: string, committee: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const login of [dataOwner, ...committee]) {
    if (seen.has(login.toLowerCase())) continue;
    seen.add(login.toLowerCase());
    out.push(login);
  }
  return out;
}

/**
 * The recipients a result of `dataOwner` under a committee-only benchmark is encrypted to, from
 * the published records; `missing` names each reader who published no keys, `noSite` says that
 * registry.yaml names no site recipient. Both must be empty/false before anything is encrypted.
 */
export function requiredRecipients(input: {
  dataOwner: string;
  committee: readonly string[];
  person: (login: string) => PersonRecord | undefined;
  siteRecipient: string | undefined;
}): { recipients: EnvelopeRecipient[]; missing: string[]; noSite: boolean } {
  const recipients: EnvelopeRecipient[] = [];
  const missing: string[] = [];
  for (const login of requiredReaders(input.dataOwner, input.committee)) {
    const person = input.person(login);
    if (!person) missing.push(login);
    else recipients.push({ login, age_recipient: person.age_recipient });
  }
  if (input.siteRecipient) recipients.push({ site: true, age_recipient: input.siteRecipient });
  return { recipients, missing, noSite: !input.siteRecipient };
}

/** A recipient as one comparable word: `login:<login> <age1...>` (logins case-insensitive), or `site <age1...>`. */
export function recipientKey(r: EnvelopeRecipient): string {
  return `${r.site ? 'site' : `login:${(r.login ?? '').toLowerCase()}`} ${r.age_recipient}`;
}

/** A recipient as a person reads it. */
export function recipientLabel(r: EnvelopeRecipient): string {
  return r.site ? `the site (${r.age_recipient})` : `${r.login} (${r.age_recipient})`;
}

/** How `actual` differs from `required`: who is missing from it, and who is there without being required. */
export function recipientDifference(actual: readonly EnvelopeRecipient[], required: readonly EnvelopeRecipient[]): { missing: EnvelopeRecipient[]; extra: EnvelopeRecipient[] } {
  const want = new Set(required.map(recipientKey));
  const have = new Set(actual.map(recipientKey));
  return { missing: required.filter((r) => !have.has(recipientKey(r))), extra: actual.filter((r) => !want.has(recipientKey(r))) };
}

/** The bytes an envelope encrypts: equal for equal content. */
export function sealedText(content: SealedContent): string {
  const json = canonicalize({ metrics: content.metrics, signature: content.signature });
  if (json === undefined) throw new Error('sealed content has no canonical form');
  return json;
}

/** Encrypts the content to every recipient, as one armored age file. */
export async function sealMetrics(content: SealedContent, recipients: readonly EnvelopeRecipient[]): Promise<EncryptedMetrics> {
  if (!recipients.length) throw new Error('an envelope needs a recipient');
  const encrypter = new Encrypter();
  for (const r of recipients) encrypter.addRecipient(r.age_recipient);
  const age = armor.encode(await encrypter.encrypt(sealedText(content)));
  if (age.length > MAX_ENVELOPE_CHARS) throw new EnvelopeError('envelope-too-large', `the encrypted metrics take ${age.length} characters, more than a result may hold (${MAX_ENVELOPE_CHARS})`);
  return { recipients: recipients.map((r) => ({ ...r })) as EncryptedMetrics['recipients'], age };
}

/** What an armored envelope shows without a key: its stanzas' types, or why it is not an age file. */
export type EnvelopeShape = { ok: true; stanzaTypes: string[] } | { ok: false; problem: string };

const AGE_VERSION_LINE = 'age-encryption.org/v1';
/** 32 bytes in age's unpadded base64, canonical: its last character carries 4 bits and two zero bits. */
const KEY_32 = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]$/;

/** Reads an armored envelope's header: armor (by age's own decoder), version line, stanzas, MAC line. */
export function inspectEnvelope(text: string): EnvelopeShape {
  if (text.length > MAX_ENVELOPE_CHARS) return { ok: false, problem: `it takes ${text.length} characters, more than ${MAX_ENVELOPE_CHARS}` };
  let bytes: Uint8Array;
  try {
    bytes = armor.decode(text);
  } catch (error) {
    return { ok: false, problem: `it is not an armored age file (${(error as Error).message})` };
  }
  // The header is text up to the line that starts with `---`; the payload after it is binary.
  const stanzaTypes: string[] = [];
  let at = 0;
  const nextLine = (): string | undefined => {
    const end = bytes.indexOf(0x0a, at);
    if (end < 0) return undefined;
    const line = Buffer.from(bytes.subarray(at, end)).toString('latin1');
    at = end + 1;
    return line;
  };
  if (nextLine() !== AGE_VERSION_LINE) return { ok: false, problem: `its header does not start with ${AGE_VERSION_LINE}` };
  for (let line = nextLine(); ; line = nextLine()) {
    if (line === undefined) return { ok: false, problem: 'its header has no MAC line (---)' };
    if (line.startsWith('--- ')) {
      if (!KEY_32.test(line.slice(4))) return { ok: false, problem: 'its MAC line is not a 32-byte MAC' };
      break;
    }
    if (line.startsWith('-> ')) {
      const args = line.slice(3).split(' ');
      if (!args[0]) return { ok: false, problem: 'a stanza of its header has no type' };
      stanzaTypes.push(args[0]);
      // Anyone reads the header: an X25519 stanza is its 32-byte share and its 32-byte wrapped
      // file key (its body's one and last line), exactly, so nothing else (text in base64) rides in it.
      if (args[0] === 'X25519' && (args.length !== 2 || !KEY_32.test(args[1]!) || !KEY_32.test(nextLine() ?? ''))) {
        return { ok: false, problem: 'an X25519 stanza of its header is not a 32-byte share and a 32-byte wrapped key' };
      }
      continue;
    }
    // A stanza's body: base64 lines of at most 64 characters, the last one shorter. An X25519
    // stanza's body has ended: nothing but the next stanza or the MAC line follows it.
    if (stanzaTypes.at(-1) === 'X25519') return { ok: false, problem: 'an X25519 stanza of its header is not a 32-byte share and a 32-byte wrapped key' };
    if (!stanzaTypes.length || !/^[A-Za-z0-9+/]{0,64}$/.test(line)) return { ok: false, problem: 'its header is not an age header' };
  }
  if (!stanzaTypes.length) return { ok: false, problem: 'its header names no recipient' };
  return { ok: true, stanzaTypes };
}

/**
 * Opens an envelope with any of `identities` (AGE-SECRET-KEY-1...): the content, or undefined when
 * none of them is a recipient (named in the record's clear list, when given). A damaged or tampered envelope, or content that is not what an
 * envelope holds, is an EnvelopeError: it is never read as numbers.
 */
export async function openMetrics(envelope: Pick<EncryptedMetrics, 'age'> & Partial<Pick<EncryptedMetrics, 'recipients'>>, identities: readonly string[]): Promise<SealedContent | undefined> {
  const shape = inspectEnvelope(envelope.age);
  if (!shape.ok) throw new EnvelopeError('envelope-damaged', `the encrypted metrics cannot be read: ${shape.problem}`);
  if (!identities.length) return undefined;
  const decrypter = new Decrypter();
  for (const identity of identities) decrypter.addIdentity(identity);
  let text: string;
  try {
    text = await decrypter.decrypt(armor.decode(envelope.age), 'text');
  } catch (error) {
    const message = (error as Error).message;
    if (/no identity matched/i.test(message)) {
      // Not for these identities, unless the record names one of them: then its stanza was changed.
      const mine = new Set(await Promise.all(identities.map((i) => identityToRecipient(i))));
      if (!envelope.recipients?.some((r) => mine.has(r.age_recipient))) return undefined;
    }
    throw new EnvelopeError('envelope-damaged', `the encrypted metrics do not decrypt: the envelope was changed after it was made (${message})`);
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch {
    throw new EnvelopeError('envelope-content', 'the encrypted metrics decrypt to something that is not JSON');
  }
  if (!isSealedContent(content)) throw new EnvelopeError('envelope-content', 'the encrypted metrics decrypt to something other than metrics and a signature');
  return content;
}

function isSealedContent(value: unknown): value is SealedContent {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const v = value as Record<string, unknown>;
  const keys = Object.keys(v).sort().join(',');
  return keys === 'metrics,signature' && Boolean(v.metrics) && typeof v.metrics === 'object' && !Array.isArray(v.metrics) && Boolean(v.signature) && typeof v.signature === 'object';
}

/** The record in clear: its metrics from the envelope, signed as the data owner signed it in clear. */
export function clearResult(record: ResultRecord, content: SealedContent): ResultRecord {
  const { encrypted_metrics: _sealed, signature: _outer, ...rest } = record;
  return { ...rest, metrics: content.metrics, signature: content.signature };
}

/** The record as it is written under a committee-only policy: the envelope instead of the metrics. */
export function sealedResult(record: ResultRecord, envelope: EncryptedMetrics): ResultRecord {
  const { metrics: _clear, signature: _signature, ...rest } = record;
  return { ...rest, encrypted_metrics: envelope };
}
