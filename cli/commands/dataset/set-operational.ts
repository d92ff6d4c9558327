import { Command, Option } from 'clipanion';
import { MedperfError } from '../../../registry/errors.ts';
import { paths } from '../../../registry/layout.ts';
import type { DatasetRecord } from '../../../registry/records.ts';
import { requireStatisticsNames, statisticsDeclaration } from '../../../registry/declarations.ts';
import { keepDeclared, metricRows } from '../../../registry/metrics.ts';
import { BaseCommand } from '../../base.ts';
import { pendingPull, qualify, withMain } from '../../main-branch.ts';
import { readLocalDataset, recomputeGeneratedUid } from '../../datasets.ts';
import { withForge } from '../../forge.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { confirmOrCancel, indent, printSelfMerging, statusLine, table } from '../../ui.ts';

export class DatasetSetOperationalCommand extends BaseCommand {
  static override paths = [['dataset', 'set-operational'], ['dataset', 'set_operational']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Publish a prepared dataset\'s statistics and generated_uid, and mark it operational',
    details: `
      MedPerf's \`dataset set_operational\`. Shows the statistics the data preparator computed and the
      record as it will be published, asks for confirmation, and opens a pull request updating the
      dataset's record. Irreversible: an operational dataset's hashes never change again. Only the
      statistics a benchmark preparing data with the dataset's preparator declares
      (\`statistics_names\`) are published; the others are named and stay on this machine.
    `,
    examples: [['Mark your prepared dataset operational', '$0 dataset set-operational -d hospital-a']],
  });

  dataset = Option.String('--dataset,-d', { required: true, description: 'The dataset: name, or owner/name' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const id = qualify(this.dataset, forge.login, '--dataset');
      const local = await readLocalDataset(this.stateDir, id);
      if (!local.generated_uid) throw new MedperfError('not-prepared', `the dataset ${id} is not prepared yet; run \`medperf-git dataset prepare -d ${id}\` first`);
      const path = paths.dataset(id);
      const { current, declaration } = await withMain(forge, async (view) => {
        const current = (await view.dataset(id))?.data;
        return { current, declaration: current && (await statisticsDeclaration(view, current.data_preparation_mlcube)) };
      });
      if (!current) {
        const pull = await pendingPull(forge, path);
        throw new MedperfError(
          'not-registered',
          pull
            ? `the dataset ${id} is not registered yet: its pull request #${pull} is still open; once it is merged, run this again`
            : `the dataset ${id} is not in the registry; register it with \`medperf-git dataset submit\``,
        );
      }
      if (current.state === 'operational') throw new MedperfError('already-operational', `the dataset ${id} is already operational; nothing to do`);
      const status = statusLine(this.context, { quiet: this.json });
      status.update('checking the prepared data against its generated_uid');
      const now = await recomputeGeneratedUid(this.stateDir, id);
      status.done();
      if (now !== local.generated_uid) {
        throw new MedperfError('prepared-data-changed', `the prepared data of ${id} changed since it was prepared (generated_uid ${local.generated_uid}, now ${now}); prepare it again`);
      }
      // The statistics a benchmark preparing data with this preparator declares, and nothing else.
      const { kept: statistics, left } = keepDeclared(local.statistics ?? {}, requireStatisticsNames(declaration!, current.data_preparation_mlcube));
      const record: DatasetRecord = { ...current, generated_uid: local.generated_uid, statistics, state: 'operational' };
      const yaml = recordYaml('dataset', path, record);
      if (!this.json) {
        this.print(`Statistics of ${id}, computed by ${local.data_preparation_mlcube}:`);
        this.print(indent(table(['statistic', 'value'], metricRows(statistics))));
        if (left.length) this.print(indent(`Left out (statistics no benchmark preparing data with ${current.data_preparation_mlcube} declares, kept on this machine only): ${left.join(', ')}`));
        this.print(`The record will become (${path}):`);
        this.print(indent(yaml.trimEnd()));
        this.print('This cannot be undone: an operational dataset keeps these hashes for good.');
      }
      await confirmOrCancel(this.context, `Publish these statistics and mark ${id} operational?`, { yes: this.yes });
      const proposed = await forge.propose({
        key: `dataset-operational/${id}`,
        title: `Dataset ${id} is operational`,
        body: `Marks the dataset \`${id}\` operational, with the statistics of its data preparator.\n\ngenerated_uid: \`${local.generated_uid}\`\n\nOpened by medperf-git dataset set-operational.`,
        files: [{ path, content: yaml }],
      });
      return printSelfMerging(this, proposed, { id, record }, `Once it is merged, associate the dataset with a benchmark: \`medperf-git dataset associate -b BENCHMARK -d ${id}\`.`);
    });
  }
}
