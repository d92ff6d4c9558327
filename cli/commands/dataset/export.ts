import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { qualify } from '../../main-branch.ts';
import { exportDataset } from '../../dataset-archive.ts';
import { withForge } from '../../forge.ts';
import { formatBytes, keyValues, statusLine } from '../../ui.ts';

export class DatasetExportCommand extends BaseCommand {
  static override paths = [['dataset', 'export']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Write a prepared dataset as one archive, with its hashes, to move it to another machine',
    details: `
      MedPerf's \`dataset export\`: the prepared data and labels, the preparator's sanity-check and
      statistics outputs, and a manifest with the sha256 of every file and the generated_uid, in one
      gzip tarball. The prepared data is hashed again first and must still be what was prepared.
      Where the raw data lives stays on this machine. Nothing is sent to the registry; carry the
      file yourself, and bring it in with \`medperf-git dataset import\` on the other machine.
    `,
    examples: [['Export your prepared dataset', '$0 dataset export -d hospital-a -o hospital-a.tar.gz']],
  });

  dataset = Option.String('--dataset,-d', { required: true, description: 'The dataset: name, or owner/name' });
  output = Option.String('--output,-o', { required: true, description: 'The archive to write (must not exist)' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const id = qualify(this.dataset, forge.login, '--dataset');
      const status = statusLine(this.context, { quiet: this.json });
      const { file, manifest, bytes } = await exportDataset(this.stateDir, id, this.output, (line) => status.update(line));
      status.done();
      const files = Object.keys(manifest.files).length;
      if (this.json) {
        this.printJson({ id, file, generated_uid: manifest.generated_uid, files, bytes });
        return 0;
      }
      this.print(`Exported ${id}.`);
      this.print(keyValues([
        ['archive', file],
        ['size', formatBytes(bytes)],
        ['files', files],
        ['generated_uid', manifest.generated_uid],
      ]));
      this.print(`Next, on the other machine: \`medperf-git dataset import -i ${file}\` (it checks every file and the generated_uid).`);
      return 0;
    });
  }
}
