// confidential: a result holds its metrics as its benchmark's results_policy.read says. Under
// `public` they are in clear and never encrypted; under `committee` they are one armored age file
// (registry/envelope.ts) and never in clear, encrypted to exactly the data owner, the committee and
// the registry's site recipient. Without a key this rule sees what the age format shows: the
// armor, the header's stanzas (their count and type: only X25519, which is what people/ and
// registry.yaml publish) and the recipient list the record names in clear, which must be the
// required set, with the keys published now. A dataset association of such a benchmark publishes
// no compatibility-test metrics (the reference model's numbers on the data owner's data). What the
// envelope holds is checked by the Action's
// privileged check, which holds the site key.
//
// The policy, the committee and the keys come from the base in a change (the change cannot vouch
// for itself), from the tree itself in a full validation. Fails closed: a reader without published
// keys, or a registry without a site recipient, is a finding, never a pass.
import { inspectEnvelope, readByCommittee, recipientDifference, recipientLabel, requiredRecipients } from '../envelope.ts';
import type { Finding } from '../findings.ts';
import type { PersonRecord } from '../records.ts';
import type { LoadedRecord, RegistryView, Rule } from '../view.ts';
import { findingAt, memoized } from './util.ts';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const rule: Rule = {
  id: 'confidential',
  async check(ctx) {
    const keys: RegistryView = memoized(ctx.base ?? ctx.head);
    const head = memoized(ctx.head);
    const out: Finding[] = [];
    let site: Promise<string | undefined> | undefined;
    for (const path of ctx.changed) {
      const loaded = await ctx.head.record(path);
      if (loaded?.where.kind === 'dataset-association') {
        // The reference model's metrics on the data owner's data are per-dataset numbers too.
        const assoc = loaded as LoadedRecord<'dataset-association'>;
        const bench = (await keys.benchmark(assoc.where.benchmark)) ?? (await head.benchmark(assoc.where.benchmark));
        if (bench && readByCommittee(bench.data) && Object.keys(assoc.data.compatibility_test.metrics).length) {
          out.push(
            findingAt(
              'confidential',
              path,
              loaded,
              '/compatibility_test/metrics',
              `the results of ${assoc.where.benchmark} are read by its committee only, so a dataset association publishes no metrics of the reference model on the data owner's data (they reach the committee encrypted with the results); ${assoc.where.owner} asks again with \`medperf-git dataset associate -b ${assoc.where.benchmark}\`, which leaves them out`,
            ),
          );
        }
        continue;
      }
      const rec = loaded as LoadedRecord<'result'> | undefined;
      if (rec?.where.kind !== 'result') continue;
      const report = (pointer: string, message: string) => out.push(findingAt('confidential', path, rec as LoadedRecord, pointer, message));
      const { owner, benchmark } = rec.where;
      const bench = (await keys.benchmark(benchmark)) ?? (await head.benchmark(benchmark));
      if (!bench) continue; // a missing benchmark is the references rule's finding
      const submit = `${owner} submits it again with \`medperf-git result submit -b ${benchmark}\``;
      const sealed = rec.data.encrypted_metrics;
      if (!readByCommittee(bench.data)) {
        if (sealed) {
          report('/encrypted_metrics', `the benchmark ${benchmark} publishes its results in clear (results_policy.read is public), so a result holds its metrics in clear, not encrypted; ${submit}`);
        }
        continue;
      }
      if (!sealed) {
        report(
          rec.data.metrics ? '/metrics' : '',
          `the results of ${benchmark} are read by its committee only (results_policy.read: committee), so a result holds its metrics encrypted (encrypted_metrics), never in clear; ${submit}, which encrypts them`,
        );
        continue;
      }

      const shape = inspectEnvelope(sealed.age);
      if (!shape.ok) {
        report('/encrypted_metrics/age', `the encrypted metrics are not an armored age file: ${shape.problem}; ${submit}`);
        continue;
      }
      const others = shape.stanzaTypes.filter((t) => t !== 'X25519');
      if (others.length) {
        report(
          '/encrypted_metrics/age',
          `the encrypted metrics have ${plural(others.length, 'recipient stanza')} of type ${[...new Set(others)].join(', ')}: a result is encrypted to X25519 recipients only (age1..., as people/ and registry.yaml publish them); ${submit}`,
        );
      }
      if (shape.stanzaTypes.length !== sealed.recipients.length) {
        report(
          '/encrypted_metrics/age',
          `the encrypted metrics are encrypted to ${plural(shape.stanzaTypes.length, 'recipient')}, but the record names ${plural(sealed.recipients.length, 'recipient')}: every recipient is named, once; ${submit}`,
        );
      }

      const readers = new Map<string, PersonRecord | undefined>();
      for (const login of [owner, ...bench.data.committee]) readers.set(login.toLowerCase(), (await keys.person(login))?.data);
      site ??= keys.registryConfig().then((c) => c?.site_recipient);
      const required = requiredRecipients({ dataOwner: owner, committee: bench.data.committee, person: (l) => readers.get(l.toLowerCase()), siteRecipient: await site });
      if (required.missing.length || required.noSite) {
        const why = [
          ...(required.missing.length ? [`${required.missing.join(', ')} published no keys (people/<login>.yaml; \`medperf-git keys init\` and \`medperf-git keys publish\`)`] : []),
          ...(required.noSite ? ['registry.yaml names no site_recipient'] : []),
        ];
        report('/encrypted_metrics/recipients', `the recipients cannot be checked, so the result cannot be accepted: ${why.join(', and ')}`);
        continue;
      }
      const { missing, extra } = recipientDifference(sealed.recipients, required.recipients);
      const duplicated = sealed.recipients.length !== new Set(sealed.recipients.map((r) => `${r.site ? 'site' : r.login?.toLowerCase()}`)).size;
      if (missing.length || extra.length || duplicated) {
        const parts = [
          ...(missing.length ? [`not encrypted to ${missing.map(recipientLabel).join(', ')}`] : []),
          ...(extra.length ? [`encrypted to ${extra.map(recipientLabel).join(', ')}, who may not read it`] : []),
          ...(duplicated ? ['a recipient is named twice'] : []),
        ];
        report(
          '/encrypted_metrics/recipients',
          `a result of ${benchmark} is encrypted to exactly its data owner, the committee (${bench.data.committee.join(', ')}) and the site, with the keys they publish now; this one is ${parts.join('; ')}; ` +
            (duplicated ? submit : `after a committee change or a key rotation, a member of the committee re-encrypts the benchmark's results with \`medperf-git result reencrypt -b ${benchmark}\` (or ${submit})`),
        );
      }
    }
    return out;
  },
};
