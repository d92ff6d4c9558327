import { Command, Option } from 'clipanion';
import { isAbsolute, resolve } from 'node:path';
import { BaseCommand } from '../../base.ts';
import { buildSiteFolder } from '../../site.ts';

export class SiteBuildCommand extends BaseCommand {
  static override paths = [['site', 'build']];

  static override usage = Command.Usage({
    category: 'Registry',
    description: 'Build the leaderboard site of a registry folder, for a preview',
    details: `
      Builds the static site the Action publishes on GitHub Pages: an index of benchmarks, a ranked
      leaderboard page per benchmark with its charts, a JSON file per benchmark and a badge per model.
      Each benchmark publishes only what its results policy allows: under \`aggregate\` and
      \`per-model\` no number about a single dataset appears anywhere in the site.

      Record links point to \`--repo-url\` when given, else to the registry folder itself.
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

  async execute(): Promise<number> {
    const cwd = this.context.cwd;
    const at = (p: string) => (isAbsolute(p) ? p : resolve(cwd, p));
    const built = await buildSiteFolder({
      dir: at(this.dir ?? '.'),
      out: at(this.out),
      ...(this.repoUrl ? { repoUrl: this.repoUrl } : {}),
      ref: this.ref,
      generatedAt: new Date().toISOString(),
    });
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
      this.print(`${b.benchmark}: ${b.counts.models} models (${ranked} ranked), ${b.counts.datasets} datasets, publishes ${b.publish}`);
    }
    this.print(`wrote ${built.files.size} files to ${this.out}; open ${this.out}/index.html`);
    return 0;
  }
}
