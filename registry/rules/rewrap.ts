// A re-wrap: after a committee change, a current member of the benchmark's committee re-encrypts a
// committee-only result's envelope to the readers the policy requires now. The record keeps every
// field but `encrypted_metrics` (new recipients and age block, the same content inside) and
// `signature`, which becomes the member's, with `rewrapped: true`; the data owner's signature of the
// result in clear stays inside the envelope. The signature, ownership and immutability rules accept
// exactly that; the gate's sealed check opens both envelopes and refuses any other content.
import { sameLogin } from '../layout.ts';
import type { ResultRecord } from '../records.ts';
import { canonicalize } from '../signing.ts';
import type { RegistryView } from '../view.ts';

/** The record without what a re-wrap changes. */
function keptFields(record: ResultRecord): string | undefined {
  const { encrypted_metrics: _envelope, signature: _signature, ...rest } = record;
  return canonicalize(rest);
}

/** Whether `after` is `before` re-wrapped: both encrypted, equal but for the envelope and the signature, flagged `rewrapped`. */
export function isRewrapOf(before: ResultRecord, after: ResultRecord): boolean {
  if (!before.encrypted_metrics || !after.encrypted_metrics || after.signature?.rewrapped !== true) return false;
  const kept = keptFields(before);
  return kept !== undefined && kept === keptFields(after);
}

/** The committee of a benchmark as `view` holds it (none when it does not load). */
export async function committeeOn(view: RegistryView, benchmark: string): Promise<string[]> {
  return [...((await view.benchmark(benchmark))?.data.committee ?? [])];
}

/**
 * Whether a change's modification of a result is a re-wrap `author` may make: a member of the
 * benchmark's committee on the base, who signs the re-wrapped record themselves.
 */
export async function isCommitteeRewrap(base: RegistryView, benchmark: string, before: ResultRecord, after: ResultRecord, author: string): Promise<boolean> {
  if (!isRewrapOf(before, after) || !sameLogin(after.signature!.signed_by, author)) return false;
  return (await committeeOn(base, benchmark)).some((member) => sameLogin(member, author));
}
