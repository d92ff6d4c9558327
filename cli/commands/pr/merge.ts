import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { pullNumber, withForge } from '../../forge.ts';
import { terminalText } from '../../terminal.ts';

export class PrMergeCommand extends BaseCommand {
  static override paths = [['pr', 'merge']];
  static override usage = Command.Usage({
    category: 'Admin',
    description: 'Merge a pull request (approve the change it makes)',
    details: `
      On the local registry, merge runs the same validation and approval gate as the registry's
      GitHub Action and refuses what the Action would refuse, saying why.
    `,
    examples: [['Merge pull request 3 as the admin', '$0 pr merge 3 --as admin']],
  });

  pr = Option.String({ name: 'number' });

  async execute(): Promise<number> {
    const merged = await withForge(this, (forge) => forge.merge(pullNumber(this.pr)));
    if (this.json) this.printJson(merged);
    else this.print(`Merged pull request #${merged.pull.number} (${terminalText(merged.pull.title)}) into main at ${merged.sha.slice(0, 12)}.`);
    return 0;
  }
}
