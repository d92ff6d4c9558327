import { Command, Option } from 'clipanion';
import { benchmarkPaths, paths } from '../../../registry/layout.ts';
import { BaseCommand } from '../../base.ts';
import { approvedBenchmark, listAssociations, mainView } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';
import { keyValues, table } from '../../ui.ts';

export class BenchmarkViewCommand extends BaseCommand {
  static override paths = [['benchmark', 'view']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: 'Show an approved benchmark: its cubes, demo dataset, policies and associations',
    examples: [
      ['Show the tutorial benchmark', '$0 benchmark view chestxray'],
      ['As JSON', '$0 benchmark view chestxray --json'],
    ],
  });

  name = Option.String({ name: 'benchmark' });

  async execute(): Promise<number> {
    const { record, associations } = await withForge(this, async (forge) => {
      const view = await mainView(forge, benchmarkPaths(this.name));
      const record = (await approvedBenchmark(forge, view, this.name)).data;
      return { record, associations: await listAssociations(forge, { benchmark: this.name }) };
    });
    if (this.json) {
      this.printJson({ benchmark: this.name, path: paths.benchmark(this.name), ...record, associations });
      return 0;
    }
    const approval = (a?: { mode: string; allowlist?: string[] }) => (a ? (a.mode === 'allowlist' ? `allowlist (${(a.allowlist ?? []).join(', ')})` : a.mode) : 'registry default');
    this.print(
      keyValues([
        ['benchmark', this.name],
        ['name', record.name],
        ['description', record.description],
        ['docs', record.docs_url],
        ['state', record.state],
        ['committee', record.committee.join(', ')],
        ['data preparator', record.data_preparation_mlcube],
        ['reference model', record.reference_model],
        ['metrics', record.data_evaluator_mlcube],
        ['demo dataset', record.demo_dataset.url],
        ['  sha256', record.demo_dataset.sha256],
        ['  generated_uid', record.demo_dataset.generated_uid],
        ['model approval', approval(record.model_auto_approval)],
        ['dataset approval', approval(record.dataset_auto_approval)],
        ['results', `${record.results_policy.publish}, ranked on ${record.results_policy.primary_metric} (${record.results_policy.direction} is better)`],
        ...(record.results_policy.read === 'committee' ? [['results read by', 'the committee, each result\'s data owner and the site (encrypted)'] as [string, string]] : []),
      ]),
    );
    this.print();
    if (!associations.length) this.print('No associations yet.');
    else
      this.print(
        table(
          ['KIND', 'ASSOCIATED', 'STATUS', 'PRIORITY'],
          associations.map((a) => [a.kind, a.entity, a.pull && a.status !== 'approved' ? `${a.status} (#${a.pull.number})` : a.status, a.priority]),
        ),
      );
    return 0;
  }
}
