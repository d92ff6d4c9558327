import { Command, Option } from 'clipanion';
import { NotFoundError } from '../../../registry/errors.ts';
import { paths } from '../../../registry/layout.ts';
import { metricRows } from '../../../registry/metrics.ts';
import { BaseCommand } from '../../base.ts';
import { pendingPull, qualify, withMain } from '../../main-branch.ts';
import { type LocalDataset, preparedPaths, readLocalDataset } from '../../datasets.ts';
import { withForge } from '../../forge.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { indent, keyValues, table } from '../../ui.ts';

export class DatasetViewCommand extends BaseCommand {
  static override paths = [['dataset', 'view']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Show a dataset\'s record, and what this machine holds of it',
    examples: [['Show a dataset', '$0 dataset view data-owner/hospital-a']],
  });

  dataset = Option.String({ name: 'dataset' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const id = qualify(this.dataset, forge.login, 'dataset');
      const path = paths.dataset(id);
      const registered = await withMain(forge, async (view) => (await view.dataset(id))?.data);
      const pending = await pendingPull(forge, path);
      const local: LocalDataset | undefined = await readLocalDataset(this.stateDir, id).catch(() => undefined);
      if (!registered && !local) throw new NotFoundError(`no dataset ${id} in the registry or on this machine; \`medperf-git dataset ls\` lists them`);
      const record = registered ?? local!.record;
      if (this.json) {
        this.printJson({ id, path, status: registered ? 'registered' : pending ? 'pending' : 'not submitted', pending_pull: pending, record, local: local ? { prepared: Boolean(local.generated_uid), generated_uid: local.generated_uid, folder: preparedPaths(this.stateDir, id).dir } : undefined });
        return 0;
      }
      this.print(`${id} (${registered ? 'registered' : pending ? `pending: pull request #${pending}` : 'not submitted'}${registered && pending ? `; an update is pending in #${pending}` : ''})`);
      this.print(indent(recordYaml('dataset', path, record).trimEnd()));
      if (record.statistics) {
        this.print('Statistics:');
        this.print(indent(table(['statistic', 'value'], metricRows(record.statistics))));
      }
      if (local) {
        this.print('On this machine (never published):');
        this.print(indent(keyValues([
          ['raw data', local.data_path],
          ['raw labels', local.labels_path],
          ['imported', local.imported_at ? `${local.imported_at} (prepared elsewhere, \`dataset import\`)` : undefined],
          ['prepared', local.generated_uid ? preparedPaths(this.stateDir, id).prepared : 'not yet'],
          ['generated_uid', local.generated_uid],
        ])));
      }
      return 0;
    });
  }
}
