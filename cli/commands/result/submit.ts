import { Command, Option, UsageError } from 'clipanion';
import { leftOutLine } from '../../../registry/metrics.ts';
import { BaseCommand } from '../../base.ts';
import { outgoingResults, proposeResults, withMain } from '../../main-branch.ts';
import { withForge } from '../../forge.ts';
import { signerOnMain } from '../../keys.ts';
import { findLocalResult, listLocalResults, type LocalResult } from '../../results.ts';
import { confirmOrCancel, indent, pullLine } from '../../ui.ts';
import { submission } from './ls.ts';

export class ResultSubmitCommand extends BaseCommand {
  static override paths = [['result', 'submit']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Submit local results: one, or every unsubmitted result of a benchmark, in one pull request',
    details: `
      Shows exactly the result records that will be sent (metrics and hashes only), each signed with
      your published signing key (\`keys init\`, \`keys publish\`), asks, and opens one pull request
      with them. A result the registry holds already is left out; a rerun becomes the
      next version of its record.
    `,
    examples: [
      ['Submit one result', '$0 result submit -r 3f2a9c81d0e4'],
      ['Submit every unsubmitted result of a benchmark', '$0 result submit -b chestxray'],
    ],
  });

  result = Option.String('--result,-r', { description: 'The local result id (see `result ls`)' });
  benchmark = Option.String('--benchmark,-b', { description: 'Submit every unsubmitted result of this benchmark' });

  async execute(): Promise<number> {
    if (!this.result === !this.benchmark) throw new UsageError('give either --result/-r or --benchmark/-b');
    return withForge(this, async (forge) => {
      let results: LocalResult[];
      if (this.result) {
        const result = await findLocalResult(this.stateDir, this.result);
        const state = await submission(forge, result);
        if (state.endsWith('pending')) {
          if (this.json) this.printJson({ benchmark: result.benchmark, sent: 0, pull: result.submitted!.pull });
          else this.print(`The result ${result.id} is already submitted, in pull request #${result.submitted!.pull} (pending); nothing to do.`);
          return 0;
        }
        results = [result];
      } else {
        results = [];
        const seen = new Set<string>();
        // The newest execution of each model and dataset, unless it is submitted and not rejected.
        for (const r of await listLocalResults(this.stateDir, this.benchmark)) {
          const slot = `${r.dataset} ${r.model}`;
          if (seen.has(slot)) continue;
          seen.add(slot);
          const state = await submission(forge, r);
          if (state === 'not submitted' || state.endsWith('rejected')) results.push(r);
        }
      }
      const benchmark = results[0]?.benchmark ?? this.benchmark!;
      const { send } = await withMain(forge, async (view) => outgoingResults(view, results, results.length ? await signerOnMain(forge, this.stateDir, view, `submit again with \`medperf-git result submit -b ${benchmark}\``) : undefined));
      if (!send.length) {
        if (this.json) this.printJson({ benchmark, sent: 0 });
        else this.print('Nothing to submit: every result is submitted or in the registry already.');
        return 0;
      }
      if (!this.json) {
        this.print(`These ${send.length} result record${send.length === 1 ? '' : 's'} will be sent to ${forge.registry} (metrics and hashes only):`);
        for (const o of send) {
          this.print(`--- ${o.path}`);
          this.print(indent(o.yaml.trimEnd()));
          const left = leftOutLine(o.left, 'metrics', o.result.benchmark);
          if (left) this.print(indent(left));
        }
      }
      await confirmOrCancel(this.context, `Submit ${send.length} result${send.length === 1 ? '' : 's'} in one pull request?`, { yes: this.yes });
      const datasets = [...new Set(send.map((o) => o.result.dataset))];
      const key = datasets.length === 1 ? `result/${benchmark}/${datasets[0]}` : `result/${benchmark}/${forge.login}`;
      const { pull, created } = await proposeResults(forge, this.stateDir, key, benchmark, send);
      if (this.json) this.printJson({ benchmark, sent: send.length, pull: pull.number, url: pull.url, created });
      else this.print(pullLine(pull, created));
      return 0;
    });
  }
}
