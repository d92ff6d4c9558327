import { Command, Option } from 'clipanion';
import { metricRows } from '../../../registry/metrics.ts';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { findLocalResult, resultRecord } from '../../results.ts';
import { indent, keyValues, table } from '../../ui.ts';
import { submission } from './ls.ts';

export class ResultViewCommand extends BaseCommand {
  static override paths = [['result', 'view']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Show a local result: its metrics and the record that is (or would be) submitted',
    examples: [['Show a result by its local id', '$0 result view 3f2a9c81d0e4']],
  });

  id = Option.String({ name: 'result-id' });

  async execute(): Promise<number> {
    const result = await findLocalResult(this.stateDir, this.id);
    return withForge(this, async (forge) => {
      const state = await submission(forge, result);
      const { path, record } = resultRecord(result, result.submitted?.version ?? 1);
      if (this.json) {
        this.printJson({ id: result.id, submission: state, path, record });
        return 0;
      }
      this.print(keyValues([
        ['result', result.id],
        ['benchmark', result.benchmark],
        ['model', result.model],
        ['dataset', result.dataset],
        ['partial', result.partial ? 'yes' : 'no'],
        ['executed at', result.executed_at],
        ['submission', state],
      ]));
      this.print('Metrics:');
      this.print(indent(table(['metric', 'value'], metricRows(result.metrics))));
      this.print(`Record (${path}):`);
      this.print(indent(recordYaml('result', path, record).trimEnd()));
      return 0;
    });
  }
}
