// signature: every result is signed by its data owner, with the signing key they published in
// people/<login>.yaml, over the record's canonical content (registry/signing.ts).
//
// Which key: the signature names the version of people/<signed_by>.yaml whose key made it. In a
// change (a pull request) a result is new or a new version, so it must be signed with the key
// that is current on the base: keys are published on their own pull request first, and a rotated
// key signs nothing new. Over a whole registry, every result verifies with the key of the version
// it names: the current one, or one of the record's `earlier_signing_keys`, which the immutability
// rule keeps append-only, so a rotation never breaks the results signed before it.
//
// A result imported from a MedPerf server was never signed by its data owner: the registry admin
// who imported it signs it, with `imported: true`, vouching that it is what the server held. An
// admin who later leaves the admins is kept in registry.yaml's former_admins (the immutability
// rule sees to it), and the results they imported keep verifying.
//
// A committee-only result re-wrapped after a committee change (rules/rewrap.ts) is signed by the
// current committee member who re-encrypted it, with `rewrapped: true`; the data owner's signature
// stays inside the envelope, where whoever opens it checks it.
//
// Fails closed: a key that cannot be read (the person's record does not load, or names no such
// version) is a finding, never a pass.
import type { Finding } from '../findings.ts';
import { paths } from '../layout.ts';
import type { PersonRecord } from '../records.ts';
import { cachedSigningKey, verifyResultSignature } from '../signing.ts';
import type { LoadedRecord, RegistryView, Rule } from '../view.ts';
import { includesLogin } from './ownership.ts';
import { committeeOn } from './rewrap.ts';
import { findingAt, memoized, orList } from './util.ts';

/** The signing key a version of a person's record published, or undefined when it has no such version. */
export function signingKeyAt(person: PersonRecord, version: number): string | undefined {
  if (version === person.version) return person.signing_key;
  return person.earlier_signing_keys?.find((k) => k.version === version)?.signing_key;
}

/** What the data owner runs to sign a result, for messages. */
function howToSign(benchmark: string): string {
  return `\`medperf-git keys init\` and \`medperf-git keys publish\` once (merged), then \`medperf-git result submit -b ${benchmark}\`, which signs it`;
}

export const rule: Rule = {
  id: 'signature',
  async check(ctx) {
    // Keys and who may sign come from the base in a change (the change cannot vouch for itself),
    // from the tree itself in a full validation.
    const keys: RegistryView = memoized(ctx.base ?? ctx.head);
    const head = memoized(ctx.head);
    const out: Finding[] = [];
    // Who may vouch for an imported result: a current admin; over a whole registry also a former
    // admin (registry.yaml's former_admins), whose imports stay valid. A change adds results, and a
    // former admin signs no new one.
    let importers: Promise<{ admins: string[]; former: string[] } | undefined> | undefined;
    for (const path of ctx.changed) {
      const rec = (await ctx.head.record(path)) as LoadedRecord<'result'> | undefined;
      if (rec?.where.kind !== 'result') continue;
      const report = (pointer: string, message: string) => out.push(findingAt('signature', path, rec as LoadedRecord, pointer, message));
      const { owner, benchmark, dataset } = rec.where;
      const sig = rec.data.signature;
      if (!sig) {
        report('', `the result is not signed: every result is signed by its data owner; ${owner} runs ${howToSign(benchmark)}`);
        continue;
      }

      const dataOwners = [owner, ...((await keys.dataset(dataset))?.data.owners ?? [])];
      if (!includesLogin(dataOwners, sig.signed_by)) {
        importers ??= keys.registryConfig().then((c) => c && { admins: c.admins, former: ctx.base ? [] : (c.former_admins ?? []) });
        const vouching = await importers;
        const registryAdmins = vouching?.admins;
        const committee = sig.rewrapped ? await committeeOn(keys, benchmark) : [];
        const importedByAdmin = sig.imported && vouching && (includesLogin(vouching.admins, sig.signed_by) || includesLogin(vouching.former, sig.signed_by));
        const rewrappedByMember = sig.rewrapped && rec.data.encrypted_metrics && includesLogin(committee, sig.signed_by);
        if (!importedByAdmin && !rewrappedByMember) {
          report(
            '/signature/signed_by',
            `the result is signed by ${sig.signed_by}, but results are signed by their data owner (${orList(dataOwners)})` +
              (sig.imported
                ? ` or, for a result imported from a MedPerf server, by a registry admin${registryAdmins ? ` (${registryAdmins.join(', ')})` : ''}` +
                  (ctx.base ? '' : ` or a former admin listed in registry.yaml's former_admins${vouching?.former.length ? ` (${vouching.former.join(', ')})` : ''}`)
                : '') +
              (sig.rewrapped ? ` or, for encrypted metrics re-wrapped to a new committee, by a member of the committee of ${benchmark}${committee.length ? ` (${committee.join(', ')})` : ''}` : '') +
              `; ${owner} runs ${howToSign(benchmark)}`,
          );
          continue;
        }
      }

      const personPath = paths.person(sig.signed_by);
      const person = await keys.person(sig.signed_by);
      if (!person) {
        if (await keys.tree.has(personPath)) {
          report('/signature', `${personPath} does not load, so the signature cannot be checked: fix ${personPath} first (\`medperf-git validate\` says what is wrong)`);
        } else if (ctx.base && (await head.tree.has(personPath))) {
          report('/signature', `${sig.signed_by}'s keys (${personPath}) are part of this change: keys are published on their own pull request first (\`medperf-git keys publish\`); submit the result once it is merged`);
        } else {
          report('/signature', `${sig.signed_by} has published no keys (${personPath}), so the signature cannot be checked; ${sig.signed_by} runs ${howToSign(benchmark)}`);
        }
        continue;
      }
      const current = person.data.version;
      if (ctx.base && sig.key_version !== current) {
        report(
          '/signature/key_version',
          sig.key_version < current
            ? `the result is signed with version ${sig.key_version} of ${personPath}, but version ${current} replaced it: a new result is signed with the current key; ${owner} signs it again with \`medperf-git result submit -b ${benchmark}\``
            : `the result names version ${sig.key_version} of ${personPath}, which is at version ${current}: publish the key first (\`medperf-git keys publish\`), then submit the result`,
        );
        continue;
      }
      const text = signingKeyAt(person.data, sig.key_version);
      const key = text === undefined ? undefined : cachedSigningKey((ctx.base ?? ctx.head).tree, text);
      if (!key) {
        report(
          '/signature/key_version',
          text === undefined
            ? `the result names version ${sig.key_version} of ${personPath}, which holds no signing key of that version (it is at version ${current}), so the signature cannot be checked`
            : `the signing key of version ${sig.key_version} in ${personPath} is not an Ed25519 public key, so the signature cannot be checked`,
        );
        continue;
      }
      if (!verifyResultSignature(rec.data, key)) {
        report(
          '/signature/ed25519',
          `the signature does not verify with ${sig.signed_by}'s key (version ${sig.key_version} of ${personPath}): the record was changed after it was signed, or signed with another key; ` +
            `${owner} signs it again with \`medperf-git result submit -b ${benchmark}\``,
        );
      }
    }
    return out;
  },
};
