import { Command, Option, UsageError } from 'clipanion';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import * as t from 'typanion';
import { MedperfError } from '../../../registry/errors.ts';
import { LOGIN, paths } from '../../../registry/layout.ts';
import type { BenchmarkRecord } from '../../../registry/records.ts';
import { BaseCommand } from '../../base.ts';
import { asCommitteeMember } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';

type Mode = 'never' | 'always' | 'allowlist';
const isMode = t.cascade(t.isString(), [t.matchesRegExp(/^(never|always|allowlist)$/i)]);

export class BenchmarkUpdateAssociationsPolicyCommand extends BaseCommand {
  static override paths = [['benchmark', 'update-associations-policy'], ['benchmark', 'update_associations_policy']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: "Change a benchmark's auto-approval policy for dataset and model associations (opens the pull request)",
    details: `
      As MedPerf's \`benchmark update_associations_policy\`: \`never\` (a committee member approves
      each association), \`always\` (every association is approved automatically) or \`allowlist\`
      (associations opened by the listed logins are approved automatically). The allow list is a
      file with one login a line (\`#\` starts a comment), used for each mode set to \`allowlist\`.

      The change is a pull request editing benchmark.yaml; like every benchmark change, an admin
      approves and merges it.
    `,
    examples: [
      ['Approve every dataset automatically', '$0 benchmark update-associations-policy -b chestxray --dataset-mode always'],
      ['Approve models of listed owners automatically', '$0 benchmark update-associations-policy -b chestxray --model-mode allowlist --allowlist-file trusted.txt'],
    ],
  });

  benchmark = Option.String('--benchmark,-b', { required: true, description: 'The benchmark' });
  datasetMode = Option.String('--dataset-mode', { description: 'never, always or allowlist, for dataset associations', validator: isMode });
  modelMode = Option.String('--model-mode', { description: 'never, always or allowlist, for model associations', validator: isMode });
  allowlistFile = Option.String('--allowlist-file', { description: 'Logins approved automatically, one a line (for a mode set to allowlist)' });

  async execute(): Promise<number> {
    if (!this.datasetMode && !this.modelMode) throw new UsageError('say what changes: --dataset-mode and/or --model-mode (never, always or allowlist)');
    const datasetMode = this.datasetMode?.toLowerCase() as Mode | undefined;
    const modelMode = this.modelMode?.toLowerCase() as Mode | undefined;
    const wantsList = datasetMode === 'allowlist' || modelMode === 'allowlist';
    if (wantsList && !this.allowlistFile) throw new UsageError('a mode set to allowlist needs --allowlist-file (one login a line)');
    if (!wantsList && this.allowlistFile) throw new UsageError('--allowlist-file is only for a mode set to allowlist');
    const allowlist = this.allowlistFile ? await readAllowlist(resolve(this.context.cwd, this.allowlistFile)) : undefined;

    return withForge(this, async (forge) => {
      const { login, benchmark } = await asCommitteeMember(forge, this.benchmark, 'change its association policy');
      const policy = (mode: Mode | undefined, current: BenchmarkRecord['dataset_auto_approval']) =>
        mode === undefined ? current : mode === 'allowlist' ? { mode, allowlist: allowlist! } : { mode };
      const record: BenchmarkRecord = {
        ...benchmark,
        dataset_auto_approval: policy(datasetMode, benchmark.dataset_auto_approval),
        model_auto_approval: policy(modelMode, benchmark.model_auto_approval),
      };
      if (record.dataset_auto_approval === undefined) delete record.dataset_auto_approval;
      if (record.model_auto_approval === undefined) delete record.model_auto_approval;
      const path = paths.benchmark(this.benchmark);
      const describe = (p: BenchmarkRecord['dataset_auto_approval']) => (p ? (p.mode === 'allowlist' ? `allowlist (${p.allowlist?.join(', ') || 'nobody'})` : p.mode) : 'the registry default');
      if (JSON.stringify(record) === JSON.stringify(benchmark)) {
        if (this.json) this.printJson({ benchmark: this.benchmark, changed: false });
        else this.print(`${this.benchmark} already has this policy (datasets: ${describe(benchmark.dataset_auto_approval)}, models: ${describe(benchmark.model_auto_approval)}); nothing to do.`);
        return 0;
      }
      const summary = `datasets: ${describe(record.dataset_auto_approval)}, models: ${describe(record.model_auto_approval)}`;
      const result = await forge.propose({
        key: `association-policy/${this.benchmark}`,
        title: `Association policy of ${this.benchmark}: ${summary}`,
        body: `${login}, for the committee of \`${this.benchmark}\`, changes its auto-approval policy from datasets: ${describe(benchmark.dataset_auto_approval)}, models: ${describe(benchmark.model_auto_approval)} to ${summary}. An admin approves and merges it.`,
        files: [{ path, content: recordYaml('benchmark', path, record) }],
      });
      if (this.json) {
        this.printJson({ benchmark: this.benchmark, changed: true, pull: result.pull.number, dataset_auto_approval: record.dataset_auto_approval ?? null, model_auto_approval: record.model_auto_approval ?? null });
        return 0;
      }
      this.print(`Pull request #${result.pull.number} changes the association policy of ${this.benchmark} to ${summary}.`);
      this.print('A benchmark change: an admin approves and merges it (medperf-git pr approve / pr merge).');
      return 0;
    });
  }
}

/** One login a line; `#` starts a comment. Errors name the file and line. */
async function readAllowlist(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new MedperfError('allowlist-file', `${file}: cannot read the allow list (${(error as NodeJS.ErrnoException).code})`);
  }
  const logins: string[] = [];
  text.split('\n').forEach((line, i) => {
    const login = line.replace(/#.*/, '').trim();
    if (!login) return;
    if (!new RegExp(`^${LOGIN}$`).test(login)) throw new MedperfError('allowlist-file', `${file}:${i + 1}:1 ${JSON.stringify(login)} is not a GitHub login`);
    if (!logins.includes(login)) logins.push(login);
  });
  return logins.sort();
}
