import { approvedBenchmark } from '../../preconditions.ts';
import { resolve } from 'node:path';
import { Command, Option, UsageError } from 'clipanion';
import { MedperfError, NotFoundError } from '../../../registry/errors.ts';
import { NAME, paths } from '../../../registry/layout.ts';
import type { DatasetRecord } from '../../../registry/records.ts';
import { hashFolders } from '../../../registry/hash.ts';
import { BaseCommand } from '../../base.ts';
import { withMain } from '../../main-branch.ts';
import { writeLocalDataset } from '../../datasets.ts';
import { withForge } from '../../forge.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { confirmOrCancel, indent, printSelfMerging, statusLine } from '../../ui.ts';
import { existsSync, statSync } from 'node:fs';

export class DatasetSubmitCommand extends BaseCommand {
  static override paths = [['dataset', 'submit']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Register a dataset: only its hashes and the text you type are published',
    details: `
      MedPerf's \`dataset submit\`. Computes the input data hash (MedPerf's folder hash of the raw data
      and labels), shows exactly what will be published, asks for confirmation, and opens a pull request
      adding \`datasets/<you>/<name>.yaml\`. The data, its paths and file names stay on this machine.
      The dataset starts in development: prepare it next with \`dataset prepare\`.
    `,
    examples: [
      ['Register raw data for a benchmark', '$0 dataset submit -b chestxray --name hospital-a --description "Chest X-rays" --location "Hospital A" --data-path ./data --labels-path ./labels'],
      ['Name the data preparator instead of a benchmark', '$0 dataset submit -p bench-committee/chestxray-prep --name hospital-a --data-path ./data --labels-path ./labels'],
    ],
  });

  name = Option.String('--name', { required: true, description: 'The dataset name (lower case letters, digits, . _ -); its id is <you>/<name>' });
  description = Option.String('--description', { description: 'Free text, published as typed' });
  location = Option.String('--location', { description: 'Where the data is, in words (a hospital, a city), published as typed' });
  dataPath = Option.String('--data-path', { required: true, description: 'The raw data folder (stays here)' });
  labelsPath = Option.String('--labels-path', { required: true, description: 'The labels folder (stays here)' });
  benchmark = Option.String('--benchmark,-b', { description: 'The benchmark whose data preparator will prepare it' });
  preparator = Option.String('--data-preparator,-p', { description: 'The data preparator cube (owner/name), instead of a benchmark' });

  async execute(): Promise<number> {
    if (!this.benchmark === !this.preparator) throw new UsageError('give either --benchmark/-b or --data-preparator/-p');
    if (!new RegExp(`^${NAME}$`).test(this.name)) throw new UsageError(`--name ${this.name}: use lower case letters, digits, '.', '_' and '-' (it becomes part of the dataset's path)`);
    const dataPath = resolve(this.context.cwd, this.dataPath);
    const labelsPath = resolve(this.context.cwd, this.labelsPath);
    for (const [flag, p] of [['--data-path', dataPath], ['--labels-path', labelsPath]] as const) {
      if (!existsSync(p) || !statSync(p).isDirectory()) throw new UsageError(`${flag} ${p}: no such folder`);
    }
    return withForge(this, async (forge) => {
      if (!forge.login) throw new MedperfError('no-login', 'who are you? Pass --as LOGIN, set MEDPERF_GIT_LOGIN, or run `medperf-git registry use --as LOGIN`');
      const id = `${forge.login}/${this.name}`;
      const path = paths.dataset(id);
      const preparator = await withMain(forge, async (view) => {
        if (await view.dataset(id)) throw new MedperfError('already-registered', `the dataset ${id} is already registered; \`medperf-git dataset view ${id}\` shows it`);
        let prep = this.preparator;
        if (this.benchmark) prep = (await approvedBenchmark(forge, view, this.benchmark)).data.data_preparation_mlcube;
        const cube = await view.cube(prep!);
        if (!cube) throw new NotFoundError(`no cube ${prep} in the registry`);
        if (cube.data.kind !== 'data-preparator') throw new UsageError(`${prep} is a ${cube.data.kind} cube, not a data preparator`);
        return prep!;
      });
      const status = statusLine(this.context, { quiet: this.json });
      status.update('hashing the raw data and labels');
      const inputDataHash = await hashFolders([dataPath, labelsPath]);
      status.done();
      // MedPerf: until it is prepared, a dataset's generated_uid is its input data hash.
      const record: DatasetRecord = {
        name: this.name,
        ...(this.description ? { description: this.description } : {}),
        ...(this.location ? { location: this.location } : {}),
        data_preparation_mlcube: preparator,
        input_data_hash: inputDataHash,
        generated_uid: inputDataHash,
        state: 'development',
        submitted_as_prepared: false,
      };
      const yaml = recordYaml('dataset', path, record);
      if (!this.json) {
        this.print(`This will be published in ${forge.registry}, as ${path}:`);
        this.print(indent(yaml.trimEnd()));
        this.print('Only these hashes and the text you typed leave this machine; the data, its paths and file names stay here.');
      }
      await confirmOrCancel(this.context, `Register the dataset ${id}?`, { yes: this.yes });
      await writeLocalDataset(this.stateDir, {
        id,
        ...(this.benchmark ? { benchmark: this.benchmark } : {}),
        data_preparation_mlcube: preparator,
        data_path: dataPath,
        labels_path: labelsPath,
        input_data_hash: inputDataHash,
        record,
        submitted_at: new Date().toISOString(),
      });
      const proposed = await forge.propose({
        key: `dataset/${id}`,
        title: `Register dataset ${id}`,
        body: `Registers the dataset \`${id}\`, to be prepared with \`${preparator}\`${this.benchmark ? ` for the benchmark \`${this.benchmark}\`` : ''}.\n\ninput_data_hash: \`${inputDataHash}\`\n\nOpened by medperf-git dataset submit.`,
        files: [{ path, content: yaml }],
      });
      return printSelfMerging(this, proposed, { id, record }, `Next: prepare the data with \`medperf-git dataset prepare -d ${id}\`.`);
    });
  }
}
