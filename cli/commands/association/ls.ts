import { Command, Option, UsageError } from 'clipanion';
import { BaseCommand, exclusiveOptions } from '../../base.ts';
import type { AssociationStatus } from '../../../registry/associations.ts';
import { listAssociations } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';
import { printList } from '../../ui.ts';

const STATUSES = ['approved', 'pending', 'rejected', 'all'] as const;

export class AssociationLsCommand extends BaseCommand {
  static override paths = [['association', 'ls']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: 'List associations of models and datasets with benchmarks: approved, pending and rejected',
    details: `
      As MedPerf's \`association ls\`, read from the registry: approved associations are on its main
      branch, pending ones are open pull requests, rejected ones closed pull requests.
      Filter by benchmark (-b), model (-m), dataset (-d) or status (--status).
    `,
    examples: [
      ['Every association', '$0 association ls'],
      ['Pending associations of a benchmark', '$0 association ls -b chestxray --status pending'],
      ['Where a model stands, as JSON lines', '$0 association ls -m model-owner/chestxray-mobilenet --json'],
    ],
  });

  static override schema = [exclusiveOptions(['model', 'dataset'], 'filter by a model or a dataset, not both')];

  benchmark = Option.String('--benchmark,-b', { description: 'Only this benchmark' });
  model = Option.String('--model,-m', { description: 'Only this model cube (<owner>/<name>)' });
  dataset = Option.String('--dataset,-d', { description: 'Only this dataset (<owner>/<name>)' });
  status = Option.String('--status', 'all', { description: 'approved, pending, rejected or all' });

  async execute(): Promise<number> {
    if (!(STATUSES as readonly string[]).includes(this.status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, not ${this.status}`);
    const entries = (
      await withForge(this, (forge) => listAssociations(forge, { benchmark: this.benchmark, model: this.model, dataset: this.dataset }))
    ).filter((e) => this.status === 'all' || e.status === (this.status as AssociationStatus));
    printList(this.context, entries, {
      json: this.json,
      empty: 'No associations.',
      head: ['BENCHMARK', 'KIND', 'ASSOCIATED', 'STATUS', 'PRIORITY', 'INITIATED BY'],
      row: (e) => [e.benchmark, e.kind, e.entity, e.pull ? `${e.status} (#${e.pull.number})` : e.status, e.priority, e.initiatedBy],
    });
    return 0;
  }
}
