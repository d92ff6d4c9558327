import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { formatFinding } from '../../../registry/findings.ts';
import { checkPull } from '../../../registry/forge/checks.ts';
import { formatGateDecision } from '../../../registry/gate.ts';
import { describeState, type ForgeContextExtras, pullNumber, withForge } from '../../forge.ts';
import { terminalText } from '../../terminal.ts';

export class PrViewCommand extends BaseCommand {
  static override paths = [['pr', 'view']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Show a pull request: its state, files, reviews and comments',
    examples: [['Show pull request 3', '$0 pr view 3']],
  });

  pr = Option.String({ name: 'number' });

  async execute(): Promise<number> {
    const context = this.context as typeof this.context & ForgeContextExtras;
    const number = pullNumber(this.pr);
    const { pull, reviews, comments, checked } = await withForge(this, async (forge) => {
      const pull = await forge.getPull(number);
      return {
        pull,
        reviews: await forge.reviews(number),
        comments: await forge.comments(number),
        // An open PR: what the Action would say if it ran now.
        checked: pull.state === 'open' ? await checkPull(forge, number, context.forgeChecks) : undefined,
      };
    });
    if (this.json) {
      this.printJson({ ...pull, reviews, comments, ...(checked ? { findings: checked.findings, gate: checked.gate } : {}) });
      return 0;
    }
    this.print(`#${pull.number} ${terminalText(pull.title)}`);
    this.print(`State:   ${describeState(pull)}`);
    this.print(`Author:  ${pull.author}`);
    this.print(`Branch:  ${pull.branch}`);
    this.print(`URL:     ${pull.url}`);
    this.print('Files:');
    // A path, a gate line, a review is one line whatever it holds (git allows a newline in a file name).
    for (const p of pull.paths) this.print(`  ${terminalText(p)}`);
    if (pull.body) {
      this.print();
      this.print(pull.body);
    }
    this.print();
    if (!reviews.length) this.print('Reviews: none');
    else {
      this.print('Reviews:');
      for (const r of reviews) this.print(`  ${r.login} ${r.state.toLowerCase().replace('_', ' ')} ${r.submittedAt}${r.body ? `: ${terminalText(r.body)}` : ''}`);
    }
    if (checked) {
      this.print();
      if (checked.findings.length) {
        this.print(`Validation: ${checked.findings.length} finding${checked.findings.length === 1 ? '' : 's'}`);
        for (const f of checked.findings) this.print(`  ${terminalText(formatFinding(f))}`);
      } else this.print('Validation: passed');
      for (const line of formatGateDecision(checked.gate)) this.print(terminalText(line.charAt(0).toUpperCase() + line.slice(1)));
    }
    for (const c of comments) {
      this.print();
      this.print(`Comment by ${c.author}:`);
      this.print(c.body.replace(/^<!--.*?-->\n?/, ''));
    }
    return 0;
  }
}
