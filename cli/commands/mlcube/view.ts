import { Command, Option } from 'clipanion';
import { benchmarksOfModel } from '../../../registry/collections.ts';
import { parseRecordPath, paths } from '../../../registry/layout.ts';
import { BaseCommand } from '../../base.ts';
import { mainView, registeredCube } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';
import { cubeConfigAsset } from '../../cube/assets.ts';
import { keyValues, table } from '../../ui.ts';

export class MlcubeViewCommand extends BaseCommand {
  static override paths = [['mlcube', 'view']];
  static override usage = Command.Usage({
    category: 'Model owner',
    description: 'Show a registered MLCube: its record, every hash, and the benchmarks it is associated with',
    examples: [
      ['Show a cube', '$0 mlcube view model-owner/chestxray-mobilenet'],
      ['The record as JSON', '$0 mlcube view model-owner/chestxray-mobilenet --json'],
    ],
  });

  id = Option.String({ name: 'owner/name' });

  async execute(): Promise<number> {
    const { record, benchmarks, grants } = await withForge(this, async (forge) => {
      const view = await mainView(forge, [paths.cube(this.id), paths.modelGrants(this.id), 'benchmarks/']);
      const record = (await registeredCube(forge, view, this.id)).data;
      const benchmarks: Array<{ benchmark: string; priority?: number }> = [];
      for (const benchmark of await benchmarksOfModel(view, this.id)) {
        benchmarks.push({ benchmark, priority: (await view.modelAssociation(benchmark, this.id))?.data.priority });
      }
      const grants = record.private ? grantees(await view.tree.list(paths.modelGrants(this.id))) : undefined;
      return { record, benchmarks, grants };
    });
    if (this.json) {
      this.printJson({ id: this.id, path: paths.cube(this.id), ...record, benchmarks, ...(grants ? { granted_to: grants } : {}) });
      return 0;
    }
    const config = cubeConfigAsset(record);
    this.print(
      keyValues([
        ['id', this.id],
        ['name', record.name],
        ['description', record.description],
        ['kind', record.kind],
        ['state', record.state],
        ['owners', record.owners?.join(', ')],
        [record.mlcube ? 'mlcube.yaml' : 'container_config.yaml', config.url],
        ['  sha256', config.sha256],
        ['parameters.yaml', record.parameters?.url],
        ['  sha256', record.parameters?.sha256],
        ['additional files', record.additional_files?.url],
        ['  sha256', record.additional_files?.sha256],
        ['private', record.private ? `yes: the additional files are encrypted (sha256 in clear ${record.private.additional_files_sha256})` : undefined],
        ['granted to', grants ? grants.join(', ') || 'nobody yet' : undefined],
        ['image', record.image.reference],
        ['image digest', record.image.digest],
        ['image tarball', record.image.tarball?.url],
      ]),
    );
    this.print();
    if (!benchmarks.length) this.print('Associated with no benchmark yet.');
    else this.print(table(['BENCHMARK', 'PRIORITY'], benchmarks.map((b) => [b.benchmark, b.priority])));
    return 0;
  }
}

/** The logins a private model's grants name, from the paths of its grants folder. */
function grantees(files: string[]): string[] {
  return files.flatMap((f) => {
    const where = parseRecordPath(f);
    return where?.kind === 'model-grant' ? [where.grantee] : [];
  });
}
