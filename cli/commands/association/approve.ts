import { sameLogin } from '../../../registry/layout.ts';
import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { associationTarget } from '../../../registry/associations.ts';
import { asCommitteeMember, mergeUnlessHeld, notMergedLine, openAssociationPull } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';

export class AssociationApproveCommand extends BaseCommand {
  static override paths = [['association', 'approve']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: 'Approve a pending association (benchmark committee): approve its pull request, and merge it',
    details: `
      As MedPerf's \`association approve\`: a member of the benchmark's committee approves the
      association's pull request with a review, then merges it when the registry's checks pass
      (\`--no-merge\` leaves the merge to the registry's automation or a maintainer). Once merged,
      the association is approved: the model runs on the benchmark's datasets, or the dataset
      receives the benchmark's models.
    `,
    examples: [
      ['Approve a model', '$0 association approve -b chestxray -m model-owner/chestxray-mobilenet'],
      ['Approve a dataset', '$0 association approve -b chestxray -d data-owner/hospital-a'],
    ],
  });

  benchmark = Option.String('--benchmark,-b', { required: true, description: 'The benchmark' });
  model = Option.String('--model,-m', { description: 'The model cube (<owner>/<name>)' });
  dataset = Option.String('--dataset,-d', { description: 'The dataset (<owner>/<name>)' });
  message = Option.String('--message', '', { description: 'A review comment' });
  noMerge = Option.Boolean('--no-merge', false, { description: 'Approve only; do not merge' });

  async execute(): Promise<number> {
    const target = associationTarget(this.benchmark, this.model, this.dataset);
    return withForge(this, async (forge) => {
      const { login, view } = await asCommitteeMember(forge, this.benchmark, 'approve its associations');
      const found = await openAssociationPull(forge, view, target, this.benchmark);
      // A PR behind main where the registry requires it up to date is updated first: an approval
      // is of one commit, and one given before the update would not count for the merge.
      const pull = await forge.updateBranch(found.number);
      // A committee member never approves their own pull request; the gate lets the committee's own
      // associations through without a reviewer, so their approval is the merge itself.
      const own = sameLogin(pull.author, login);
      if (!own) await forge.review(pull.number, 'APPROVE', this.message || `Approved by ${login} for the committee of ${this.benchmark}.`, pull.headSha);
      const { merged, notMerged } = await mergeUnlessHeld(forge, pull.number, this.noMerge);
      if (this.json) {
        this.printJson({ benchmark: this.benchmark, kind: target.kind, entity: target.entity, pull: pull.number, approvedBy: own ? null : login, merged, ...(notMerged ? { notMerged } : {}) });
        return 0;
      }
      if (own) this.print(`Pull request #${pull.number} (${target.kind} ${target.entity} with ${this.benchmark}) is your own: it needs no review from you.`);
      else this.print(`Approved pull request #${pull.number} (${target.kind} ${target.entity} with ${this.benchmark}) as ${login}.`);
      if (merged) this.print(`Merged: the association is approved.`);
      else if (notMerged) this.print(notMergedLine(notMerged));
      else this.print('The registry merges it once its checks pass.');
      return 0;
    });
  }
}
