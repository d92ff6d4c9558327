import { Command, Option } from 'clipanion';
import { benchmarkContents } from '../../../registry/collections.ts';
import { parseRecordPath } from '../../../registry/layout.ts';
import { loadRecord } from '../../../registry/load.ts';
import type { BenchmarkRecord } from '../../../registry/records.ts';
import { BaseCommand } from '../../base.ts';
import { mainView, requireLogin } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';
import { printList } from '../../ui.ts';

export interface BenchmarkListing {
  benchmark: string;
  title?: string;
  /** approved: on main; pending: an open pull request proposes it; rejected: its pull request was closed. */
  status: 'approved' | 'pending' | 'rejected';
  committee: string[];
  state?: BenchmarkRecord['state'];
  models?: number;
  datasets?: number;
  pull?: number;
  author?: string;
}

export class BenchmarkLsCommand extends BaseCommand {
  static override paths = [['benchmark', 'ls']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: 'List benchmarks: approved, pending the admins\' review, and rejected',
    details: `
      Approved benchmarks are on the registry's main branch; pending ones are in open pull
      requests; rejected ones in closed pull requests. \`--mine\` keeps the benchmarks whose
      committee you sit on or that you proposed.
    `,
    examples: [
      ['List benchmarks', '$0 benchmark ls'],
      ['Yours, as JSON lines', '$0 benchmark ls --mine --json'],
    ],
  });

  mine = Option.Boolean('--mine', false, { description: 'Only benchmarks whose committee you sit on, or that you proposed' });

  async execute(): Promise<number> {
    const list = await withForge(this, async (forge) => {
      const login = this.mine ? requireLogin(forge) : undefined;
      const view = await mainView(forge, ['benchmarks/']);
      const out = new Map<string, BenchmarkListing>();
      for (const [name, contents] of await benchmarkContents(view)) {
        if (!contents.benchmark) continue;
        const record = (await view.benchmark(name))?.data;
        out.set(name, {
          benchmark: name,
          title: record?.name,
          status: 'approved',
          committee: record?.committee ?? [],
          state: record?.state,
          models: contents.models.length,
          datasets: contents.datasets.length,
        });
      }
      const pulls = (await forge.listPulls({ state: 'all', paths: ['benchmarks/'] })).sort((a, b) => a.number - b.number);
      for (const pull of pulls) {
        if (pull.state === 'merged') continue;
        for (const path of pull.paths) {
          const where = parseRecordPath(path);
          if (where?.kind !== 'benchmark') continue;
          const existing = out.get(where.benchmark);
          if (existing?.status === 'approved' || (existing?.status === 'pending' && pull.state === 'closed')) continue;
          let record: BenchmarkRecord | undefined;
          if (pull.state === 'open') {
            const bytes = await (await forge.pullTree(pull.number)).read(path);
            record = bytes ? (loadRecord(path, bytes).record?.data as BenchmarkRecord | undefined) : undefined;
          }
          out.set(where.benchmark, {
            benchmark: where.benchmark,
            title: record?.name ?? existing?.title,
            status: pull.state === 'open' ? 'pending' : 'rejected',
            committee: record?.committee ?? existing?.committee ?? [],
            state: record?.state,
            pull: pull.number,
            author: pull.author,
          });
        }
      }
      return [...out.values()]
        .filter((b) => !login || b.committee.includes(login) || b.author === login)
        .sort((a, b) => a.benchmark.localeCompare(b.benchmark));
    });
    printList(this.context, list, {
      json: this.json,
      empty: this.mine ? 'You sit on no benchmark committee here, and proposed none.' : 'No benchmarks in this registry.',
      head: ['NAME', 'TITLE', 'STATUS', 'MODELS', 'DATASETS', 'COMMITTEE'],
      row: (b) => [b.benchmark, b.title, b.pull ? `${b.status} (#${b.pull})` : b.status, b.models, b.datasets, b.committee.join(', ')],
    });
    return 0;
  }
}
