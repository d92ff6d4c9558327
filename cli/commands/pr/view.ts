import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { describeState, pullNumber, withForge } from '../../forge.ts';

export class PrViewCommand extends BaseCommand {
  static override paths = [['pr', 'view']];
  static override usage = Command.Usage({
    description: 'Show a pull request: its state, files, reviews and comments',
    examples: [['Show pull request 3', '$0 pr view 3']],
  });

  pr = Option.String({ name: 'number' });

  async execute(): Promise<number> {
    const { pull, reviews, comments } = await withForge(this, async (forge) => ({
      pull: await forge.getPull(pullNumber(this.pr)),
      reviews: await forge.reviews(pullNumber(this.pr)),
      comments: await forge.comments(pullNumber(this.pr)),
    }));
    if (this.json) {
      this.printJson({ ...pull, reviews, comments });
      return 0;
    }
    this.print(`#${pull.number} ${pull.title}`);
    this.print(`State:   ${describeState(pull)}`);
    this.print(`Author:  ${pull.author}`);
    this.print(`Branch:  ${pull.branch}`);
    this.print(`URL:     ${pull.url}`);
    this.print('Files:');
    for (const p of pull.paths) this.print(`  ${p}`);
    if (pull.body) {
      this.print();
      this.print(pull.body);
    }
    this.print();
    if (!reviews.length) this.print('Reviews: none');
    else {
      this.print('Reviews:');
      for (const r of reviews) this.print(`  ${r.login} ${r.state.toLowerCase().replace('_', ' ')} ${r.submittedAt}${r.body ? `: ${r.body}` : ''}`);
    }
    for (const c of comments) {
      this.print();
      this.print(`Comment by ${c.author}:`);
      this.print(c.body.replace(/^<!--.*?-->\n?/, ''));
    }
    return 0;
  }
}
