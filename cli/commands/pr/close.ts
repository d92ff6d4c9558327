import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { pullNumber, withForge } from '../../forge.ts';

export class PrCloseCommand extends BaseCommand {
  static override paths = [['pr', 'close']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Close a pull request without merging it (reject the change)',
    examples: [['Reject pull request 3', '$0 pr close 3 -m "the model does not run on the demo data"']],
  });

  pr = Option.String({ name: 'number' });
  message = Option.String('--message,-m', { description: 'Why, left as a comment' });

  async execute(): Promise<number> {
    await withForge(this, async (forge) => {
      const pull = await forge.getPull(pullNumber(this.pr));
      if (this.message && pull.state === 'open') await forge.review(pullNumber(this.pr), 'COMMENT', this.message);
      await forge.close(pullNumber(this.pr));
    });
    this.print(`Closed pull request #${pullNumber(this.pr)}: the change is rejected.`);
    return 0;
  }
}
