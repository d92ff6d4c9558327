import { Command, Option, UsageError } from 'clipanion';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../../../registry/errors.ts';
import { LOGIN } from '../../../registry/layout.ts';
import { createView } from '../../../registry/load.ts';
import { codeowners, scaffold } from '../../../registry/scaffold/index.ts';
import { closeTree, directoryTree } from '../../../registry/trees.ts';
import { BaseCommand } from '../../base.ts';
import { VERSION } from '../../version.ts';

/** The medperf-git Action a new registry's workflows use; pin it to a commit SHA for production. */
export const DEFAULT_ACTION = `mlcommons/medperf-git/action@v${VERSION}`;

export class RegistryInitCommand extends BaseCommand {
  static override paths = [['registry', 'init']];
  static override usage = Command.Usage({
    description: 'Scaffold a new registry repository: registry.yaml, workflows, CODEOWNERS and README',
    details: `
      Writes what a registry repository on GitHub needs: \`registry.yaml\` with its title and admins,
      the validate, gate, review, comment and pages workflows (least-privilege tokens; the workflows
      that can write never run pull-request code), \`.github/CODEOWNERS\` from the admins and every
      benchmark committee, and a README that explains each role and the branch-protection settings.

      Run again with \`--force\` to regenerate the files, for instance CODEOWNERS after a new benchmark;
      an existing registry.yaml is kept unless \`--title\`, \`--description\` or \`--admin\` is given.
    `,
    examples: [
      ['Start a registry in a new folder', '$0 registry init ./my-registry --title "Brain tumour benchmarks" --admin alice --admin bob'],
      ['Regenerate the files of the registry here', '$0 registry init --title "Brain tumour benchmarks" --admin alice --force'],
    ],
  });

  dir = Option.String({ required: false, name: 'DIR' });
  title = Option.String('--title', { description: 'The registry title (default: from registry.yaml, else the folder name)' });
  description = Option.String('--description', { description: 'One paragraph about the registry' });
  admins = Option.Array('--admin', { description: 'A GitHub login whose approval merges benchmarks (repeat for more)' });
  action = Option.String('--action', DEFAULT_ACTION, { description: `The medperf-git Action the workflows use (default: ${DEFAULT_ACTION})` });
  branch = Option.String('--branch', 'main', { description: 'The default branch (default: main)' });
  repository = Option.String('--repository', { description: 'owner/repo on GitHub, for the README' });
  force = Option.Boolean('--force', false, { description: 'Overwrite files that exist' });

  async execute(): Promise<number> {
    const cwd = this.context.cwd;
    const dir = this.dir ? (isAbsolute(this.dir) ? this.dir : resolve(cwd, this.dir)) : cwd;

    // An existing registry keeps its title and admins unless told otherwise; its committees go to CODEOWNERS.
    const tree = directoryTree(dir);
    let existing;
    const committees: Record<string, string[]> = {};
    try {
      const view = createView(tree);
      existing = existsSync(join(dir, 'registry.yaml')) ? await view.registryConfig() : undefined;
      for (const path of await tree.list('benchmarks/')) {
        const m = /^benchmarks\/([^/]+)\/benchmark\.yaml$/.exec(path);
        const record = m ? await view.benchmark(m[1]!) : undefined;
        if (record) committees[m![1]!] = record.data.committee;
      }
    } finally {
      await closeTree(tree);
    }
    const admins = this.admins?.length ? this.admins : existing?.admins;
    if (!admins?.length) throw new UsageError('name at least one admin: --admin LOGIN');
    for (const a of admins) if (!new RegExp(`^${LOGIN}$`).test(a)) throw new UsageError(`--admin ${a} is not a GitHub login`);
    if (!/^[^\s@]+\/[^\s@]+(\/[^\s@]+)*@\S+$/.test(this.action)) throw new UsageError(`--action must be owner/repo[/path]@ref, not ${this.action}`);

    const files = scaffold({
      title: this.title ?? existing?.title ?? `${basename(dir)} registry`,
      ...((this.description ?? existing?.description) ? { description: this.description ?? existing?.description } : {}),
      admins,
      action: this.action,
      branch: this.branch,
      ...(this.repository ? { repository: this.repository } : {}),
    });
    files['.github/CODEOWNERS'] = codeowners(admins, committees);
    // An existing registry.yaml (its defaults, its allow lists) is only rewritten when asked to.
    if (existing && this.title === undefined && this.description === undefined && !this.admins?.length) delete files['registry.yaml'];

    const present = Object.keys(files).filter((p) => existsSync(join(dir, p))).sort();
    if (present.length && !this.force) {
      throw new MedperfError('exists', `${present.join(', ')} already exist in ${dir}; run with --force to overwrite them`);
    }
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFileAtomic(join(dir, path), content);
    }
    if (this.json) {
      this.printJson({ dir, files: Object.keys(files).sort() });
      return 0;
    }
    for (const path of Object.keys(files).sort()) this.print(`wrote ${path}`);
    this.print('');
    this.print('Next: push this folder to a new GitHub repository, then follow "Settings to turn on" in its README');
    this.print('(branch protection with the validate and medperf-git/approval checks; Pages from GitHub Actions).');
    return 0;
  }
}
