import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { pullNumber, withForge } from '../../forge.ts';

export class PrRequestChangesCommand extends BaseCommand {
  static override paths = [['pr', 'request-changes']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Request changes on a pull request, saying what must change',
    examples: [['Ask for a better description', '$0 pr request-changes 3 -m "describe the labels"']],
  });

  pr = Option.String({ name: 'number' });
  message = Option.String('--message,-m', { required: true, description: 'What must change' });

  async execute(): Promise<number> {
    const login = await withForge(this, async (forge) => {
      await forge.review(pullNumber(this.pr), 'REQUEST_CHANGES', this.message);
      return forge.login;
    });
    this.print(`Requested changes on pull request #${pullNumber(this.pr)} as ${login}.`);
    return 0;
  }
}
