import { Command, Option } from 'clipanion';
import { paths } from '../../../registry/layout.ts';
import { BaseCommand } from '../../base.ts';
import { pendingPull, qualify, withMain } from '../../main-branch.ts';
import { importDataset } from '../../dataset-archive.ts';
import { withForge } from '../../forge.ts';
import { keyValues, statusLine } from '../../ui.ts';

export class DatasetImportCommand extends BaseCommand {
  static override paths = [['dataset', 'import']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Bring in a prepared dataset exported on another machine, after checking every file and its generated_uid',
    details: `
      MedPerf's \`dataset import\`: reads an archive written by \`medperf-git dataset export\`,
      extracts it safely (no absolute paths, no \`..\`, no links, a size limit), checks every file
      against the manifest's sha256 and the prepared data against its generated_uid, and the
      generated_uid against the registry's record when there is one. Only then does the dataset
      appear on this machine, in one rename; any failure leaves nothing behind. Nothing is sent
      to the registry. The same archive imported twice changes nothing.
    `,
    examples: [
      ['Import a dataset', '$0 dataset import -i hospital-a.tar.gz'],
      ['Import it only if it is hospital-a', '$0 dataset import -i hospital-a.tar.gz -d data-owner/hospital-a'],
    ],
  });

  input = Option.String('--input,-i', { required: true, description: 'The archive written by `dataset export`' });
  dataset = Option.String('--dataset,-d', { description: 'The dataset the archive must hold: name, or owner/name' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const expectedId = this.dataset ? qualify(this.dataset, forge.login, '--dataset') : undefined;
      const status = statusLine(this.context, { quiet: this.json });
      const registeredOf = async (id: string) => withMain(forge, async (view) => (await view.dataset(id))?.data);
      // The registry's record is read once the archive names its dataset.
      const outcome = await importDataset(this.stateDir, this.input, { expectedId, lookup: registeredOf, onStatus: (line) => status.update(line) });
      status.done();
      const registered = await registeredOf(outcome.id);
      const pending = registered ? undefined : await pendingPull(forge, paths.dataset(outcome.id));
      const registration = registered ? `registered (${registered.state})` : pending ? `pending: pull request #${pending}` : 'not in the registry';
      if (this.json) {
        this.printJson({ ...outcome, registration });
        return 0;
      }
      this.print(outcome.imported ? `Imported ${outcome.id}: every file and the generated_uid match.` : `${outcome.id} is here already, with the same generated_uid: nothing changed.`);
      this.print(keyValues([
        ['generated_uid', outcome.generated_uid],
        ['files', outcome.files],
        ['in the registry', registration],
        ['raw data', outcome.keptRawPaths ? 'as registered on this machine' : 'not on this machine (prepared data only)'],
      ]));
      if (registered?.state === 'operational') this.print(`Next: \`medperf-git dataset associate -d ${outcome.id} -b BENCHMARK\` or \`medperf-git run -d ${outcome.id} -b BENCHMARK\`.`);
      else this.print(`Next: review its statistics and publish them with \`medperf-git dataset set-operational -d ${outcome.id}\`.`);
      return 0;
    });
  }
}
