import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { MedperfError } from '../../../registry/errors.ts';
import { paths } from '../../../registry/layout.ts';
import type { ModelAssociationRecord } from '../../../registry/records.ts';
import { BaseCommand } from '../../base.ts';
import { AssociationNotFoundError } from '../../../registry/associations.ts';
import { asCommitteeMember, latestPullFor, mergeUnlessHeld, notMergedLine } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';

export class AssociationSetPriorityCommand extends BaseCommand {
  static override paths = [['association', 'set-priority'], ['association', 'set_priority']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: 'Set the priority of an approved model association (benchmark committee)',
    details: `
      As MedPerf's \`association set_priority\`: models run in ascending priority on every dataset
      of the benchmark. The change is a pull request editing the association's priority; a
      committee member's priority change needs no further approval, so it is merged at once when the
      registry's checks pass (\`--no-merge\` leaves it open).
    `,
    examples: [['Run the mobilenet model first', '$0 association set-priority -b chestxray -m model-owner/chestxray-mobilenet --priority=-1']],
  });

  benchmark = Option.String('--benchmark,-b', { required: true, description: 'The benchmark' });
  model = Option.String('--model,-m', { required: true, description: 'The model cube (<owner>/<name>)' });
  priority = Option.String('--priority,-p', {
    required: true,
    description: 'The priority: a whole number between -1000000 and 1000000; lower runs first',
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(-1_000_000, 1_000_000)]),
  });
  noMerge = Option.Boolean('--no-merge', false, { description: 'Open the pull request only; do not merge' });

  async execute(): Promise<number> {
    const priority = this.priority;
    return withForge(this, async (forge) => {
      const { login, view } = await asCommitteeMember(forge, this.benchmark, 'set the priority of its models');
      const path = paths.modelAssociation(this.benchmark, this.model);
      const assoc = await view.modelAssociation(this.benchmark, this.model);
      if (!assoc) {
        const pull = await latestPullFor(forge, path);
        if (pull?.state === 'open') {
          throw new MedperfError('association-not-approved', `${this.model} is not approved for ${this.benchmark} yet (pull request #${pull.number} is pending); approve it first`);
        }
        throw new AssociationNotFoundError(`${this.model} is not associated with ${this.benchmark}; see \`medperf-git association ls -b ${this.benchmark}\``);
      }
      const record: ModelAssociationRecord = { ...assoc.data, priority };
      if (assoc.data.priority === priority) {
        if (this.json) this.printJson({ benchmark: this.benchmark, model: this.model, priority, changed: false });
        else this.print(`${this.model} already has priority ${priority} in ${this.benchmark}; nothing to do.`);
        return 0;
      }
      const result = await forge.propose({
        key: `priority/${this.benchmark}/${this.model}`,
        title: `Set the priority of ${this.model} in ${this.benchmark} to ${priority}`,
        body: `${login}, for the committee of \`${this.benchmark}\`, sets the priority of \`${this.model}\` from ${assoc.data.priority} to ${priority} (lower runs first).`,
        files: [{ path, content: recordYaml('model-association', path, record) }],
      });
      const { merged, notMerged } = await mergeUnlessHeld(forge, result.pull.number, this.noMerge);
      if (this.json) {
        this.printJson({ benchmark: this.benchmark, model: this.model, priority, changed: true, pull: result.pull.number, merged, ...(notMerged ? { notMerged } : {}) });
        return 0;
      }
      this.print(`Pull request #${result.pull.number} sets the priority of ${this.model} in ${this.benchmark} from ${assoc.data.priority} to ${priority}.`);
      if (merged) this.print('Merged: the new priority is in effect.');
      else if (notMerged) this.print(notMergedLine(notMerged));
      return 0;
    });
  }
}
