import { Command, Option, UsageError } from 'clipanion';
import type { PullState } from '../../../registry/forge/forge.ts';
import { BaseCommand } from '../../base.ts';
import { describeState, withForge } from '../../forge.ts';
import { table } from '../../ui.ts';

const STATES = ['open', 'merged', 'closed', 'all'] as const;

export class PrLsCommand extends BaseCommand {
  static override paths = [['pr', 'ls']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'List pull requests of the registry',
    details: `
      Open pull requests are pending changes, merged ones approved, closed ones rejected.
      \`--path\` keeps the pull requests that touch a file, or anything under a folder ending in \`/\`.
    `,
    examples: [
      ['List pending changes', '$0 pr ls'],
      ['Associations of a benchmark, in every state', '$0 pr ls --state all --path benchmarks/brain-tumor/models/'],
    ],
  });

  state = Option.String('--state', 'open', { description: 'open (pending), merged (approved), closed (rejected) or all' });
  touching = Option.Array('--path', { description: 'Only PRs touching this file or folder (ending in /); repeatable' });
  author = Option.String('--author', { description: 'Only PRs opened by this login' });

  async execute(): Promise<number> {
    if (!(STATES as readonly string[]).includes(this.state)) {
      throw new UsageError(`--state must be one of ${STATES.join(', ')}, not ${this.state}`);
    }
    const pulls = await withForge(this, (forge) =>
      forge.listPulls({ state: this.state as PullState | 'all', paths: this.touching, author: this.author }),
    );
    if (this.json) {
      for (const pull of pulls) this.printJson(pull);
      return 0;
    }
    if (!pulls.length) {
      this.print(`No ${this.state === 'all' ? '' : this.state + ' '}pull requests.`);
      return 0;
    }
    const rows = pulls.map((p) => [`#${p.number}`, describeState(p), p.author, p.title]);
    this.print(table(['PR', 'STATE', 'AUTHOR', 'TITLE'], rows));
    return 0;
  }
}
