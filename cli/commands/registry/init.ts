import { Command, Option, UsageError } from 'clipanion';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { benchmarkNames } from '../../../registry/collections.ts';
import { MedperfError } from '../../../registry/errors.ts';
import { LOGIN } from '../../../registry/layout.ts';
import { createView } from '../../../registry/load.ts';
import { LocalForge } from '../../../registry/forge/local.ts';
import { requirePinned } from '../../../registry/scaffold/actions.ts';
import { codeowners, registryYaml, scaffold } from '../../../registry/scaffold/index.ts';
import { closeTree, directoryTree } from '../../../registry/trees.ts';
import { BaseCommand } from '../../base.ts';
import { VERSION } from '../../version.ts';

export class RegistryInitCommand extends BaseCommand {
  static override paths = [['registry', 'init']];
  static override usage = Command.Usage({
    category: 'Admin',
    description: 'Scaffold a new registry repository: registry.yaml, workflows, CODEOWNERS and README',
    details: `
      Writes what a registry repository on GitHub needs: \`registry.yaml\` with its title and admins,
      the validate, gate, review, comment and pages workflows (least-privilege tokens; the workflows
      that can write never run pull-request code), \`.github/CODEOWNERS\` from the admins and every
      benchmark committee, and a README that explains each role and the branch-protection settings.

      With \`--local DIR\`, creates a working local registry instead: the local forge in DIR (a bare
      repository and its pull-request store) with registry.yaml proposed by the first admin and
      merged, ready for \`mlcube submit\` and every other command with \`--registry DIR\`.

      Run again with \`--force\` to regenerate the files, for instance CODEOWNERS after a new benchmark;
      an existing registry.yaml is kept unless \`--title\`, \`--description\` or \`--admin\` is given.
    `,
    examples: [
      ['Start a registry in a new folder', '$0 registry init ./my-registry --title "Brain tumour benchmarks" --admin alice --admin bob'],
      ['Create a local registry with two admins', '$0 registry init --local ./hospital-registry --admin alice --admin bob'],
      ['Regenerate the files of the registry here', '$0 registry init --title "Brain tumour benchmarks" --admin alice --force'],
    ],
  });

  dir = Option.String({ required: false, name: 'DIR' });
  title = Option.String('--title', { description: 'The registry title (default: from registry.yaml, else the folder name)' });
  description = Option.String('--description', { description: 'One paragraph about the registry' });
  admins = Option.Array('--admin', { description: 'A GitHub login whose approval merges benchmarks (repeat for more)' });
  action = Option.String('--action', {
    description: 'The medperf-git Action the workflows run, pinned to a commit: owner/repo/action@<40-character SHA> (a tag or branch is refused)',
  });
  branch = Option.String('--branch', 'main', { description: 'The default branch (default: main)' });
  repository = Option.String('--repository', { description: 'owner/repo on GitHub, for the README' });
  force = Option.Boolean('--force', false, { description: 'Overwrite files that exist' });
  local = Option.String('--local', { description: 'Create a working local registry (forge and merged registry.yaml) in this folder' });

  async execute(): Promise<number> {
    if (this.local !== undefined) return this.initLocal(resolve(this.context.cwd, this.local));
    const cwd = this.context.cwd;
    const dir = this.dir ? (isAbsolute(this.dir) ? this.dir : resolve(cwd, this.dir)) : cwd;

    // An existing registry keeps its title and admins unless told otherwise; its committees go to CODEOWNERS.
    const tree = directoryTree(dir);
    let existing;
    const committees: Record<string, string[]> = {};
    try {
      const view = createView(tree);
      existing = existsSync(join(dir, 'registry.yaml')) ? await view.registryConfig() : undefined;
      for (const name of await benchmarkNames(view)) {
        const record = await view.benchmark(name);
        if (record) committees[name] = record.data.committee;
      }
    } finally {
      await closeTree(tree);
    }
    const admins = this.admins?.length ? this.admins : existing?.admins;
    if (!admins?.length) throw new UsageError('name at least one admin: --admin LOGIN');
    checkAdmins(admins);
    requirePinned(this.action, `v${VERSION}`);

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
    this.print('Next: push this folder to a new GitHub repository, then, as its admin, run');
    this.print('`medperf-git registry protect OWNER/REPO` (required checks pinned to GitHub Actions, merge settings, Pages).');
    return 0;
  }

  /** The local forge in `root` with registry.yaml merged on main, as a registry's first pull request. */
  private async initLocal(root: string): Promise<number> {
    if (this.dir) throw new UsageError('--local names the folder; give no DIR besides it');
    const admins = this.admins ?? [];
    if (!admins.length) throw new UsageError('name at least one admin: --admin LOGIN');
    checkAdmins(admins);
    if (existsSync(join(root, 'registry.git', 'refs', 'heads', 'main')) || existsSync(join(root, 'pulls.json'))) {
      throw new MedperfError('exists', `${root} already holds a local registry; use it with --registry ${root}`);
    }
    const forge = await LocalForge.open({ root, login: admins[0]! });
    try {
      const content = registryYaml({
        title: this.title ?? `${basename(root)} registry`,
        ...(this.description ? { description: this.description } : {}),
        admins,
      });
      const proposed = await forge.propose({ key: 'registry', title: 'Create the registry', body: 'registry.yaml: the admins who approve benchmarks.', files: [{ path: 'registry.yaml', content }] });
      // The registry's first change: the gate lets an admin merge registry.yaml when main is empty.
      const merged = await forge.merge(proposed.pull.number);
      if (this.json) {
        this.printJson({ registry: root, admins, pull: merged.pull.number, sha: merged.sha });
        return 0;
      }
      this.print(`Created the local registry ${root}: registry.yaml (admins ${admins.join(', ')}) merged as pull request #${merged.pull.number}.`);
      this.print(`Use it: medperf-git registry use ${root} --as LOGIN   (or --registry ${root} on each command)`);
      return 0;
    } finally {
      await forge.dispose();
    }
  }
}

function checkAdmins(admins: string[]): void {
  for (const a of admins) if (!new RegExp(`^${LOGIN}$`).test(a)) throw new UsageError(`--admin ${a} is not a GitHub login`);
}
