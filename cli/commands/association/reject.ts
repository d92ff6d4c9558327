import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { associationTarget } from '../../../registry/associations.ts';
import { asCommitteeMember, openAssociationPull } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';
import { ForgeApiError } from '../../../registry/forge/errors.ts';

export class AssociationRejectCommand extends BaseCommand {
  static override paths = [['association', 'reject']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: 'Reject a pending association (benchmark committee): request changes on its pull request and close it',
    details: `
      As MedPerf's \`association reject\`: a member of the benchmark's committee reviews the
      association's pull request with "changes requested", giving the reason, and closes it. A
      closed association pull request is a rejected association; the owner may ask again.

      On GitHub, closing someone else's pull request needs the triage role (or write) on the
      registry repository: give the committee triage. Without it the review is still posted, and
      the command says that the pull request is left open for a maintainer to close.
    `,
    examples: [
      ['Reject a model, saying why', '$0 association reject -b chestxray -m someone/model --reason "fails on the demo data"'],
    ],
  });

  benchmark = Option.String('--benchmark,-b', { required: true, description: 'The benchmark' });
  model = Option.String('--model,-m', { description: 'The model cube (<owner>/<name>)' });
  dataset = Option.String('--dataset,-d', { description: 'The dataset (<owner>/<name>)' });
  reason = Option.String('--reason', { description: 'Why, for the owner (shown in the review)' });

  async execute(): Promise<number> {
    const target = associationTarget(this.benchmark, this.model, this.dataset);
    return withForge(this, async (forge) => {
      const { login, view } = await asCommitteeMember(forge, this.benchmark, 'reject its associations');
      const pull = await openAssociationPull(forge, view, target, this.benchmark);
      const body = `Rejected by ${login} for the committee of ${this.benchmark}${this.reason ? `: ${this.reason}` : '.'}`;
      await forge.review(pull.number, 'REQUEST_CHANGES', body);
      let closed = true;
      try {
        await forge.close(pull.number);
      } catch (error) {
        if (!(error instanceof ForgeApiError && (error.status === 403 || error.status === 404))) throw error;
        closed = false;
      }
      if (this.json) {
        this.printJson({ benchmark: this.benchmark, kind: target.kind, entity: target.entity, pull: pull.number, rejectedBy: login, reason: this.reason ?? null, closed });
        return closed ? 0 : 1;
      }
      if (!closed) {
        this.print(
          `Requested changes on pull request #${pull.number} (${target.kind} ${target.entity} with ${this.benchmark}), but it is still open: ` +
            `${login} may not close other people's pull requests on ${forge.registry} (that needs the triage role). ` +
            `Left to do: a maintainer closes #${pull.number}, or an admin gives the committee triage and you run this again.`,
        );
        return 1;
      }
      this.print(`Rejected: requested changes on pull request #${pull.number} (${target.kind} ${target.entity} with ${this.benchmark}) and closed it.`);
      return 0;
    });
  }
}
