import { Command, Option } from 'clipanion';
import { benchmarkContents } from '../../../registry/collections.ts';
import { EnvelopeError, openMetrics, readByCommittee, recipientDifference, recipientLabel, sealMetrics } from '../../../registry/envelope.ts';
import { MedperfError } from '../../../registry/errors.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { signResults } from '../../../registry/signing.ts';
import type { ResultRecord } from '../../../registry/records.ts';
import type { LoadedRecord } from '../../../registry/view.ts';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { signerOnMain } from '../../keys.ts';
import { committeeRecipients, withMain } from '../../main-branch.ts';
import { asCommitteeMember } from '../../preconditions.ts';
import { readerIdentities } from '../../sealed-results.ts';
import { confirmOrCancel, indent, pullLine } from '../../ui.ts';

/** What a member cannot re-wrap, and why. */
export const NOT_ENCRYPTED_TO_YOU = 'not encrypted to you; a member who was on the committee when it was sent runs this';

interface Rewrapped {
  path: string;
  record: ResultRecord;
  model: string;
  dataset: string;
  added: string[];
  removed: string[];
}

export class ResultReencryptCommand extends BaseCommand {
  static override paths = [['result', 'reencrypt']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: "Re-encrypt a committee-only benchmark's results to its committee as it is now, in one pull request",
    details: `
      After a member joins or leaves the committee of a benchmark whose results are read by its
      committee only, the results in the registry are still encrypted to the committee they were
      sent to. A current member runs this: each result whose recipients differ from the ones the
      policy requires now is opened with the member's identity and sealed again, with the same
      metrics and the data owner's signature inside, to the data owner, the committee and the
      site; the record is signed by the member (\`rewrapped: true\`) and keeps its version. All of
      them go in one pull request, which needs no reviewer: the checks verify that each envelope
      holds exactly what it held. A result not encrypted to the member is listed and left out.
    `,
    examples: [['Re-encrypt the results of a benchmark after a committee change', '$0 result reencrypt -b chestxray']],
  });

  benchmark = Option.String('--benchmark,-b', { required: true, description: 'The committee-only benchmark' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const name = this.benchmark;
      await asCommitteeMember(forge, name, 're-encrypt its results');
      const { rewrapped, skipped } = await withMain(forge, async (view) => {
        const bench = (await view.benchmark(name))!.data;
        if (!readByCommittee(bench)) {
          throw new MedperfError('not-committee-only', `the results of ${name} are read by everyone (results_policy.read is ${bench.results_policy.read}): there is nothing encrypted to re-encrypt`);
        }
        const then = `re-encrypt with \`medperf-git result reencrypt -b ${name}\``;
        const signer = { ...(await signerOnMain(forge, this.stateDir, view, then)), rewrapped: true };
        const identities = await readerIdentities(this.stateDir, forge.login);
        const [, contents] = (await benchmarkContents(view, [name]))[0] ?? [];
        const rewrapped: Rewrapped[] = [];
        const skipped: Array<{ path: string; reason: string }> = [];
        for (const path of contents?.results ?? []) {
          const rec = (await view.record(path)) as LoadedRecord<'result'> | undefined;
          const envelope = rec?.data.encrypted_metrics;
          if (!rec || !envelope) continue;
          const required = await committeeRecipients(view, name, bench, rec.where.owner, 'nothing was re-encrypted');
          const { missing, extra } = recipientDifference(envelope.recipients, required);
          if (!missing.length && !extra.length) continue;
          let content;
          try {
            content = await openMetrics(envelope, identities);
          } catch (error) {
            if (!(error instanceof EnvelopeError)) throw error;
            skipped.push({ path, reason: `${error.message}; its data owner ${rec.where.owner} submits it again` });
            continue;
          }
          if (!content) {
            skipped.push({ path, reason: NOT_ENCRYPTED_TO_YOU });
            continue;
          }
          const sealed = await sealMetrics(content, required);
          rewrapped.push({
            path,
            record: { ...rec.data, encrypted_metrics: sealed },
            model: rec.data.model,
            dataset: rec.data.dataset,
            added: missing.map(recipientLabel),
            removed: extra.map(recipientLabel),
          });
        }
        // One signature for the pull request's re-wrapped results.
        const signed = signResults(rewrapped.map((r) => r.record), signer);
        return { rewrapped: rewrapped.map(({ record: _unsigned, ...r }, i) => ({ ...r, yaml: recordYaml('result', r.path, signed[i]!) })), skipped };
      });
      if (!this.json) {
        for (const s of skipped) this.print(`Left out ${s.path}: ${s.reason}.`);
      }
      if (!rewrapped.length) {
        if (this.json) this.printJson({ benchmark: name, rewrapped: 0, skipped });
        else if (skipped.length) this.print(`Nothing re-encrypted: the result${skipped.length === 1 ? '' : 's'} left out above ${skipped.length === 1 ? 'needs' : 'need'} it, and every other result of ${name} is encrypted to the committee as it is now.`);
        else this.print(`Nothing to re-encrypt: every result of ${name} is encrypted to the committee as it is now.`);
        return 0;
      }
      if (!this.json) {
        this.print(`These ${rewrapped.length} result record${rewrapped.length === 1 ? '' : 's'} of ${name} will be re-encrypted to the committee as it is now (same metrics, same version):`);
        for (const r of rewrapped) {
          this.print(`--- ${r.path}`);
          if (r.added.length) this.print(indent(`now also for: ${r.added.join(', ')}`));
          if (r.removed.length) this.print(indent(`no longer for: ${r.removed.join(', ')}`));
        }
      }
      await confirmOrCancel(this.context, `Re-encrypt ${rewrapped.length} result${rewrapped.length === 1 ? '' : 's'} in one pull request?`, { yes: this.yes });
      const body = [
        `Re-encrypts the results of \`${name}\` to its committee as it is now: the same metrics and the data owner's signature inside, a new envelope, signed by ${forge.login} (\`rewrapped: true\`), same version.`,
        '',
        '| model | dataset | now also for | no longer for |',
        '|---|---|---|---|',
        ...rewrapped.map((r) => `| ${r.model} | ${r.dataset} | ${r.added.join(', ') || '-'} | ${r.removed.join(', ') || '-'} |`),
        '',
        'A re-wrap needs no reviewer: the checks verify that every envelope holds exactly what it held.',
        '',
        'Opened by medperf-git.',
      ].join('\n');
      const { pull, created } = await forge.propose({
        key: `reencrypt/${name}`,
        title: `Re-encrypt the results of ${name} to its committee`,
        body,
        files: rewrapped.map((r) => ({ path: r.path, content: r.yaml })),
      });
      if (this.json) this.printJson({ benchmark: name, rewrapped: rewrapped.length, skipped, pull: pull.number, url: pull.url, created });
      else this.print(pullLine(pull, created));
      return 0;
    });
  }
}
