import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { qualify, registeredCube, withMain } from '../../data-owner.ts';
import { prepareDataset, preparedPaths, readLocalDataset } from '../../datasets.ts';
import { chooseRunner, RUNNER_OPTION } from '../../execution.ts';
import { withForge } from '../../forge.ts';
import { keyValues, statusLine, table } from '../../ui.ts';
import { flattenMetrics } from '../../data-owner.ts';

export class DatasetPrepareCommand extends BaseCommand {
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
  runner = Option.String('--runner', 'docker', RUNNER_OPTION);

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const id = qualify(this.dataset, forge.login, '--dataset');
      const local = await readLocalDataset(this.stateDir, id);
      const status = statusLine(this.context, { quiet: this.json });
      status.update(`fetching and verifying ${local.data_preparation_mlcube}`);
      const preparator = await withMain(forge, (view) => registeredCube(view, this.stateDir, local.data_preparation_mlcube));
      const runner = await chooseRunner(this.runner, this.stateDir, (line) => this.warn(line));
      const outcome = await prepareDataset(local, { stateDir: this.stateDir, runner, preparator, onStatus: (line) => status.update(line) });
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
      this.print(table(['statistic', 'value'], flattenMetrics(d.statistics ?? {})));
      this.print(`Next: review the statistics, then publish them with \`medperf-git dataset set-operational -d ${id}\`.`);
      return 0;
    });
  }
}
