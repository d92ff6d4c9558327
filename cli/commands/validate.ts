import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { Command, Option, UsageError } from 'clipanion';
import { formatFinding, type Finding } from '../../registry/findings.ts';
import { evaluateGate, type GateRequirement } from '../../registry/gate.ts';
import { createView } from '../../registry/load.ts';
import { closeTree, directoryTree, gitChangedPaths, gitTree, mergeBase } from '../../registry/trees.ts';
import { validateChange, validateRegistry } from '../../registry/validate.ts';
import type { FileTree } from '../../registry/view.ts';
import { BaseCommand } from '../base.ts';
import { terminalText } from '../terminal.ts';

const execFileAsync = promisify(execFile);

export class ValidateCommand extends BaseCommand {
  static override paths = [['validate']];

  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Check a registry as the Action does, offline',
    details: `
      Checks every record of the registry folder (default: the current directory): YAML, schema,
      layout, references, privacy and result preconditions. Every problem is printed at once as
      \`path:line:col rule-id message\`, sorted, then a summary line.

      With \`--base REV\`, checks the change from \`git merge-base REV HEAD\` to the working tree, as a
      pull request against REV would be checked: only the changed files and what they reference,
      plus ownership (with \`--author\`) and immutability. The approvals the change would need are
      printed as information; they are given by reviews on the pull request, not found in files.

      Exits 0 only when there is no finding.
    `,
    examples: [
      ['Check the registry in the current directory', '$0 validate'],
      ['Check the example registry', '$0 validate examples/registry'],
      ['Check your change as a pull request against main would be checked', '$0 validate --base origin/main --author data-owner'],
      ['Print findings as JSON lines', '$0 validate --json'],
    ],
  });

  dir = Option.String({ required: false, name: 'DIR' });
  base = Option.String('--base', { description: 'Check only the change since `git merge-base REV HEAD`' });
  author = Option.String('--author', { description: 'The login of the change\'s author, for ownership and approvals (with --base)' });

  async execute(): Promise<number> {
    const dir = resolve(this.context.cwd, this.dir ?? '.');
    if (!existsSync(dir)) {
      throw new UsageError(`${this.dir ?? '.'}: no such folder; name a registry folder (one holding registry.yaml)`);
    }
    const head = directoryTree(dir);
    let findings: Finding[];
    let requirements: GateRequirement[] = [];
    let checked: number;
    if (this.base) {
      const mb = await mergeBase(dir, this.base).catch((error: { stderr?: string }) => {
        throw new UsageError(`--base ${this.base}: no merge base with HEAD in ${dir} (${String(error.stderr ?? error).trim() || 'not a git repository?'})`);
      });
      const prefix = (await execFileAsync('git', ['rev-parse', '--show-prefix'], { cwd: dir })).stdout.trim();
      const base = gitTree(dir, mb, { subdir: prefix });
      try {
        const changed = await gitChangedPaths(dir, mb);
        checked = changed.length;
        findings = await validateChange({ head, base, changed, author: this.author });
        if (this.author && changed.length) requirements = await this.approvals(base, head, changed, this.author);
      } finally {
        await closeTree(base);
      }
    } else {
      checked = (await head.list()).length;
      findings = await validateRegistry(head);
    }

    for (const f of findings) {
      if (this.json) this.printJson(f);
      else this.print(terminalText(formatFinding(f))); // one finding, one line
    }
    for (const r of requirements) {
      if (this.json) this.printJson({ approval: r });
      else {
        const state = r.met
          ? `approved by ${r.approvedBy.join(', ')}`
          : r.approvers.length
            ? `needs an approving review from one of ${r.approvers.join(', ')}`
            : 'no one else can approve it';
        // One line, whatever the paths hold (git allows a newline in a file name).
        this.print(terminalText(`info: ${r.reason}: ${state} (${r.paths.join(', ')})`));
      }
    }
    if (!this.json) {
      const files = new Set(findings.map((f) => f.path)).size;
      const what = this.base ? `${checked} changed file${checked === 1 ? '' : 's'}` : `${checked} file${checked === 1 ? '' : 's'}`;
      this.print(
        findings.length
          ? `${findings.length} problem${findings.length === 1 ? '' : 's'} in ${files} file${files === 1 ? '' : 's'} (${what} checked)`
          : `valid: ${what} checked, no problems`,
      );
    }
    return findings.length ? 1 : 0;
  }

  /** The approvals the gate would ask of this change's pull request (no reviews exist offline). */
  private async approvals(base: FileTree, head: FileTree, changed: string[], author: string): Promise<GateRequirement[]> {
    const decision = await evaluateGate({ base: createView(base), head: createView(head), changed, author, reviews: [] });
    return decision.requirements;
  }
}
