import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { pullNumber, withForge } from '../../forge.ts';

export class PrApproveCommand extends BaseCommand {
  static override paths = [['pr', 'approve']];
  static override usage = Command.Usage({
    category: 'Admin',
    description: 'Approve a pull request (a review, as an admin or committee member)',
    details: `
      Approving a benchmark PR is the admin's approval; approving an association PR is the
      benchmark committee's. The author cannot approve their own pull request.
    `,
    examples: [
      ['Approve pull request 3', '$0 pr approve 3'],
      ['Approve as the admin of a local registry', '$0 pr approve 3 --as admin -m "looks good"'],
    ],
  });

  pr = Option.String({ name: 'number' });
  message = Option.String('--message,-m', '', { description: 'A review comment' });

  async execute(): Promise<number> {
    const login = await withForge(this, async (forge) => {
      await forge.review(pullNumber(this.pr), 'APPROVE', this.message);
      return forge.login;
    });
    this.print(`Approved pull request #${pullNumber(this.pr)} as ${login}.`);
    return 0;
  }
}
