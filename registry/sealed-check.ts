// The privileged check of committee-only results: what the confidential rule cannot see without a
// key. The Action's gate mode holds the site key (a repository secret, never printed); it opens
// each changed result's envelope as data, lays the result in clear over the pull request's tree,
// and runs the same rules a clear result meets: privacy (numbers only, known fields), declared
// names (the benchmark's metric names only) and signature (the data owner's signature of the
// result in clear, made with the key published on the base). Its findings are placed at the
// envelope of the record as written, and never hold a decrypted number: any number of the opened
// metrics in a message is blanked before it is returned. A damaged or tampered envelope, or one
// the site key does not open, is a finding: the check fails closed. A committee member's re-wrap
// (rules/rewrap.ts) must hold exactly what the base's envelope held: both are opened and compared.
import { clearResult, EnvelopeError, openMetrics, readByCommittee, sealedText } from './envelope.ts';
import { MedperfError } from './errors.ts';
import { paths } from './layout.ts';
import type { Metrics, ResultRecord } from './records.ts';
import { signingKeyAt } from './rules/signatures.ts';
import { cachedSigningKey, verifyResultSignature, type ResultSignature } from './signing.ts';
import type { RegistryView } from './view.ts';
import type { Finding } from './findings.ts';
import { createView } from './load.ts';
import { flattenMetrics } from './metrics.ts';
import { recordYaml } from './record-yaml.ts';
import { rule as declaredNames } from './rules/declared-names.ts';
import { rule as privacy } from './rules/privacy.ts';
import { rule as signature } from './rules/signatures.ts';
import { isRewrapOf } from './rules/rewrap.ts';
import { findingAt } from './rules/util.ts';
import { overlayTree } from './trees.ts';
import type { FileTree, LoadedRecord, Rule } from './view.ts';

/** The rules a result in clear meets, which its envelope hides from the validate job. */
const CLEAR_RULES: Rule[] = [privacy, declaredNames, signature];

/** What opened envelopes are checked with: the site's identity, when the workflow gives it. */
export interface SealedCheckInput {
  base: FileTree;
  head: FileTree;
  changed: string[];
  author?: string;
  /** age identities (AGE-SECRET-KEY-1...); none means the check cannot decide. */
  identities: string[];
  /** How the site key is given to this check, for the finding when there is none. */
  keyHolder?: string;
}

/** The changed results that hold encrypted metrics under a committee-only benchmark of the base. */
export async function sealedResultPaths(input: Pick<SealedCheckInput, 'base' | 'head' | 'changed'>): Promise<string[]> {
  const head = createView(input.head);
  const base = createView(input.base);
  const out: string[] = [];
  for (const path of input.changed) {
    const rec = await head.record(path);
    if (rec?.where.kind !== 'result' || !(rec as LoadedRecord<'result'>).data.encrypted_metrics) continue;
    const bench = (await base.benchmark(rec.where.benchmark)) ?? (await head.benchmark(rec.where.benchmark));
    if (bench && readByCommittee(bench.data)) out.push(path);
  }
  return out;
}

/** Every finding about what the changed envelopes hold; none when they hold what a clear result may. */
export async function checkSealedResults(input: SealedCheckInput): Promise<Finding[]> {
  const sealed = await sealedResultPaths(input);
  if (!sealed.length) return [];
  const head = createView(input.head);
  const base = createView(input.base);
  const out: Finding[] = [];
  const clear = new Map<string, Buffer | null>();
  const numbers = new Set<string>();
  const at = new Map<string, LoadedRecord<'result'>>();
  for (const path of sealed) {
    const rec = (await head.record(path)) as LoadedRecord<'result'>;
    at.set(path, rec);
    const report = (message: string) => out.push(findingAt('confidential', path, rec as LoadedRecord, '/encrypted_metrics/age', message));
    if (!input.identities.length) {
      report(`the encrypted metrics cannot be checked: this check holds no site key (${input.keyHolder ?? 'the workflow gives the gate the site key secret'}); a registry admin sets it, then the check runs again`);
      continue;
    }
    try {
      const content = await openMetrics(rec.data.encrypted_metrics!, input.identities);
      if (!content) {
        report(`the encrypted metrics are not encrypted to the site's key, so they cannot be checked; ${rec.where.owner} submits the result again with \`medperf-git result submit -b ${rec.where.benchmark}\``);
        continue;
      }
      const was = (await base.record(path)) as LoadedRecord<'result'> | undefined;
      if (was && isRewrapOf(was.data, rec.data)) {
        // A re-wrap holds what the base's envelope held (checked when it was merged), and nothing else.
        const before = await openMetrics(was.data.encrypted_metrics!, input.identities);
        if (!before) report('the encrypted metrics on the base are not encrypted to the site\'s key, so a re-wrap of them cannot be checked; it is refused');
        else if (sealedText(before) !== sealedText(content)) report('a re-wrap must not change the metrics: the envelope must hold exactly the metrics and the data owner\'s signature the registry holds; it is refused');
        continue;
      }
      for (const value of flattenMetrics(content.metrics).values()) numbers.add(String(value));
      clear.set(path, Buffer.from(recordYaml('result', path, clearResult(rec.data, content))));
    } catch (error) {
      if (!(error instanceof EnvelopeError)) throw error;
      report(`${error.message}; it is refused`);
    }
  }
  if (clear.size) {
    const ctx = { base, head: createView(overlayTree(input.head, clear)), changed: [...clear.keys()], author: input.author };
    for (const rule of CLEAR_RULES) {
      for (const f of await rule.check(ctx)) {
        const rec = at.get(f.path);
        if (!rec) continue;
        const finding = findingAt('confidential', f.path, rec as LoadedRecord, '/encrypted_metrics/age', `in the encrypted metrics (${f.rule}): ${f.message}`);
        out.push({ ...finding, message: blankNumbers(finding.message, numbers) });
      }
    }
  }
  return out;
}

/** The message with every decrypted number written as `<number>`, longest first. */
function blankNumbers(message: string, numbers: Set<string>): string {
  let out = message;
  for (const n of [...numbers].sort((a, b) => b.length - a.length)) {
    if (n.length < 2) continue;
    out = out.split(n).join('<number>');
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reading a committee-only result with an identity: `result ls`/`result view` (a reader's
// identity) and the site (the site key) alike.

/** What a reader sees of a result: its metrics, or why they stay encrypted. */
export type ResultReading = { metrics: Metrics; encrypted: boolean; signature?: ResultSignature } | { metrics?: undefined; encrypted: true; closed: 'no-identity' | 'not-a-recipient' };

/** The words for a result the reader cannot open. */
export const ENCRYPTED_FOR_THE_COMMITTEE = 'encrypted for the committee';

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
  const key = text === undefined || text === null ? undefined : cachedSigningKey(view.tree, text);
  if (signer.toLowerCase() !== owner.toLowerCase() || !key || !verifyResultSignature(clearResult(record, content), key)) {
    throw new MedperfError(
      'signature-invalid',
      `${path}: the metrics in its envelope are not signed by its data owner ${owner} with a key of ${paths.person(owner)}: they were changed after they were signed; they are refused, and not shown`,
    );
  }
  // The data owner's signature inside: who vouches for the numbers, also after a re-wrap.
  return { metrics: content.metrics, encrypted: true, signature: content.signature };
}
