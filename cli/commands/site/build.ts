import { Command, Option } from 'clipanion';
import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import type { Forge } from '../../../registry/forge/forge.ts';
import { openForge, resolveRegistry } from '../../profile.ts';
import type { FileTree } from '../../../registry/view.ts';
import { BaseCommand } from '../../base.ts';
import { rankingText } from '../../ui.ts';
import { buildSiteFolder } from '../../../registry/site/folder.ts';
import { MedperfError } from '../../../registry/errors.ts';
import { readerIdentities } from '../../sealed-results.ts';

export class SiteBuildCommand extends BaseCommand {
  static override paths = [['site', 'build']];

  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Build the leaderboard site of a registry folder, for a preview',
    details: `
      Builds the static site the Action publishes on GitHub Pages: an index of benchmarks, a ranked
      leaderboard page per benchmark with its charts, a JSON file per benchmark and a badge per model,
      then prints each benchmark's ranking as the site shows it.
      Each benchmark publishes only what its results policy allows: under \`aggregate\` and
      \`per-model\` no number about a single dataset appears anywhere in the site.

      DIR defaults to the current folder when it holds a registry.yaml, else to the main branch of
      the registry in use (\`--registry\`, \`$MEDPERF_GIT_REGISTRY\`, the profile, or the local
      forge), so the tutorial's registry can be previewed where it lives.

      A committee-only benchmark's results are opened with your keys, when you are one of their
      readers, and published as its policy allows. \`--private\` builds a committee member's full
      view instead: every committee-only benchmark per dataset. It is for your eyes: never deploy it.

      Record links point to \`--repo-url\` when given (on GitHub, the registry itself), else to
      the registry folder.
    `,
    examples: [
      ['Preview the site of the registry in the current folder', '$0 site build --out _site'],
      ['Build with links to the registry on GitHub', '$0 site build ./registry --out _site --repo-url https://github.com/org/registry'],
    ],
  });

  dir = Option.String({ required: false, name: 'DIR' });
  out = Option.String('--out,-o', '_site', { description: 'Where to write the site (default: _site)' });
  repoUrl = Option.String('--repo-url', { description: 'The registry on GitHub, for links to each record (default: relative links to DIR)' });
  ref = Option.String('--ref', 'main', { description: 'The branch record links name, with --repo-url (default: main)' });
  privateView = Option.Boolean('--private', false, { description: 'A committee member\'s full view: committee-only benchmarks shown per dataset, opened with your keys; never deploy it' });

  async execute(): Promise<number> {
    const cwd = this.context.cwd;
    const at = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
    const dir = at(this.dir ?? '.');
    let tree: FileTree | undefined;
    let forge: Forge | undefined;
    let repoUrl = this.repoUrl;
    if (!this.dir && !existsSync(join(dir, 'registry.yaml'))) {
      const opts = { registry: this.registry, as: this.as, env: this.context.env, stateDir: this.stateDir, cwd };
      const { spec } = await resolveRegistry(opts);
      if (spec.kind === 'github') repoUrl ??= `${spec.serverUrl}/${spec.owner}/${spec.repo}`;
      forge = await openForge(opts);
      tree = await forge.main();
      this.warn(`no registry.yaml in ${dir}: building the site of the registry ${forge.registry}`);
    }
    // Committee-only results are opened with the acting login's identity, when it has one.
    const identities = await readerIdentities(this.stateDir, forge?.login ?? this.as ?? this.context.env.MEDPERF_GIT_LOGIN ?? '');
    if (this.privateView && !identities.length) {
      throw new MedperfError('no-keys', 'site build --private opens committee-only results with your keys, and you have none on this machine: a committee member runs it with theirs (`medperf-git keys init`, `medperf-git keys publish`)');
    }
    let built;
    try {
      built = await buildSiteFolder({
        identities,
        privateView: this.privateView,
        dir,
        ...(tree ? { tree } : {}),
        out: at(this.out),
        // A registry read from a forge has no folder to link to: links name the repository or nothing.
        ...(repoUrl ? { repoUrl } : tree ? { repoUrl: '' } : {}),
        ref: this.ref,
        generatedAt: new Date().toISOString(),
      });
    } finally {
      await forge?.dispose();
    }
    if (this.privateView) this.warn(`${built.out} holds the committee's per-dataset numbers: keep it to yourself, never deploy or share it`);
    if (this.json) {
      this.printJson({
        out: built.out,
        files: built.files.size,
        benchmarks: built.boards.map((b) => ({ benchmark: b.benchmark, publish: b.publish, counts: b.counts, lastUpdate: b.lastUpdate })),
      });
      return 0;
    }
    for (const b of built.boards) {
      const ranked = b.rows.filter((r) => r.rank !== null).length;
      this.print(`${b.benchmark}: ${count(b.counts.models, 'model')} (${ranked} ranked), ${count(b.counts.datasets, 'dataset')}, publishes ${b.publish}`);
      this.print(`${rankingText(b)}\n`);
    }
    this.print(`wrote ${built.files.size} files to ${this.out}; open ${this.out}/index.html`);
    return 0;
  }
}

function count(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
