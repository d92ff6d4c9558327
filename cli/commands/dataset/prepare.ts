import { Command, Option } from 'clipanion';
import { sha256Hex } from '../../../registry/hash.ts';
import { metricRows } from '../../../registry/metrics.ts';
import { CubeCommand } from '../../executors/command.ts';
import { qualify, runnableCube, withMain } from '../../main-branch.ts';
import { preparedPaths, readLocalDataset } from '../../datasets.ts';
import { withForge } from '../../forge.ts';
import { keyValues, statusLine, table } from '../../ui.ts';

export class DatasetPrepareCommand extends CubeCommand {
  static override paths = [['dataset', 'prepare']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Prepare a registered dataset with its data preparator, on this machine',
    details: `
      MedPerf's \`dataset prepare\`: runs the data preparator's \`prepare\`, \`sanity_check\` and
      \`statistics\` tasks on the raw data, into the state directory, and computes the prepared data's
      generated_uid (MedPerf's folder hash). Finished tasks are kept: an interrupted preparation
      resumes where it stopped. Nothing is published; \`dataset set-operational\` does that.
    `,
    examples: [
      ['Prepare your dataset', '$0 dataset prepare -d hospital-a'],
      ['Without a container engine (no isolation)', '$0 dataset prepare -d hospital-a --runner process'],
    ],
  });

  dataset = Option.String('--dataset,-d', { required: true, description: 'The dataset: name, or owner/name' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const id = qualify(this.dataset, forge.login, '--dataset');
      const local = await readLocalDataset(this.stateDir, id);
      const status = statusLine(this.context, { quiet: this.json });
      status.update(`fetching and verifying ${local.data_preparation_mlcube}`);
      const preparator = await withMain(forge, (view) => runnableCube(view, this.stateDir, local.data_preparation_mlcube, forge.login));
      const { runner, executor } = await this.chooseExecutor();
      const resources = await this.resources();
      const { value: outcome } = await this.cancellable(executor, () =>
        executor.run({
          kind: 'prepare-dataset',
          input: { dataset: local, options: { preparator } },
          label: id,
          key: `prepare-${sha256Hex(JSON.stringify([id, local.input_data_hash, preparator.record])).slice(0, 32)}`,
          tasks: ['prepare', 'sanity_check', 'statistics'],
          resources,
          onStatus: (line) => status.update(line),
        }),
      );
      status.done();
      const d = outcome.dataset;
      if (this.json) {
        this.printJson({ id, generated_uid: d.generated_uid, statistics: d.statistics, ran: outcome.ran, reused: outcome.reused });
        return 0;
      }
      this.print(`Prepared ${id} with ${local.data_preparation_mlcube} (${runner.name} runner).`);
      this.print(keyValues([
        ['tasks run', outcome.ran.join(', ') || 'none (all done earlier)'],
        ['tasks reused', outcome.reused.join(', ') || undefined],
        ['generated_uid', d.generated_uid],
        ['prepared data', preparedPaths(this.stateDir, id).prepared],
      ]));
      this.print('Statistics:');
      this.print(table(['statistic', 'value'], metricRows(d.statistics ?? {})));
      this.print(`Next: review the statistics, then publish them with \`medperf-git dataset set-operational -d ${id}\`.`);
      return 0;
    });
  }
}
