import { basename, resolve } from 'node:path';
import { Command, Option, UsageError } from 'clipanion';
import { MedperfError } from '../../../registry/errors.ts';
import { NAME, paths } from '../../../registry/layout.ts';
import type { CubeRecord } from '../../../registry/records.ts';
import { BaseCommand, exclusiveOptions } from '../../base.ts';
import { mainView, requireLogin } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';
import { CUBE_KINDS, checkCubeTasks, urlFromArgument, computeCubeAssets, cubeConfigAsset, cubeRecord, REQUIRED_TASKS } from '../../cube/assets.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { privateCubeAssets } from '../../private-models.ts';
import { confirmOrCancel, ensureConfirmable, indent, keyValues, withStatus } from '../../ui.ts';

export class MlcubeSubmitCommand extends BaseCommand {
  static override paths = [['mlcube', 'submit']];
  static override usage = Command.Usage({
    category: 'Model owner',
    description: 'Register an MLCube: open a pull request adding its record with every hash',
    details: `
      Registers a cube as MedPerf's \`mlcube submit\` does, as a pull request adding
      \`mlcubes/<you>/<name>.yaml\`. The cube is a local folder (holding mlcube.yaml or
      container_config.yaml, and workspace/parameters.yaml and workspace/additional_files/), or the
      URLs of its files. Every file is hashed here: the config, parameters.yaml, the additional
      files (packed into a tarball when given as a folder) and the container image's digest (read
      from the Docker engine, or given with \`--image-digest\`).

      The record points at the files' URLs: \`--base-url\` says where you will publish a local
      cube's files (the command lists what to upload); without it, the record points at the files
      on this machine (file://), which suits a local registry and the tutorial.

      What will be published is shown and confirmed first. Cubes start in development, as in
      MedPerf; \`--operational\` marks the cube operational, after which its hashes never change.
      Submitting again while the pull request is open updates it.

      \`--private\` makes a private model (MedPerf's private models): the additional files (the
      weights) are encrypted with age to a key made for this model, kept in your state directory
      (model-keys/, readable by you alone; back it up), and only the ciphertext is hosted. The record
      says the model is private, pins the ciphertext's sha256 and, beside it, the sha256 of the
      files in clear, which a data owner checks after decrypting. Data owners run it once you grant
      them the key: \`medperf-git mlcube grant -m <you>/<name> --to LOGIN\`.
    `,
    examples: [
      ['Register the model in ./mobilenet', '$0 mlcube submit ./mobilenet --name chestxray-mobilenet --operational'],
      [
        'Register a cube from URLs',
        '$0 mlcube submit --name my-model --kind model --mlcube-url https://example.org/mlcube.yaml --parameters-url https://example.org/parameters.yaml --additional-files-url https://example.org/weights.tar.gz --image docker.io/me/model@sha256:...',
      ],
    ],
  });

  static override schema = [exclusiveOptions(['folder', 'mlcubeUrl'], 'give either a cube folder or --mlcube-url, not both')];

  folder = Option.String({ name: 'cube-folder', required: false });
  name = Option.String('--name,-n', { description: 'The cube\'s name in its id <you>/<name> (lower case, digits, . _ -; default: the folder\'s name)' });
  title = Option.String('--title', { description: 'A human-readable name (default: the name in mlcube.yaml)' });
  description = Option.String('--description', { description: 'What the cube does' });
  kind = Option.String('--kind', { description: 'data-preparator, model or metrics (default: from the cube\'s tasks)' });
  mlcubeUrl = Option.String('--mlcube-url', { description: 'URL of mlcube.yaml or container_config.yaml (instead of a folder)' });
  parametersUrl = Option.String('--parameters-url', { description: 'URL of parameters.yaml' });
  additionalFilesUrl = Option.String('--additional-files-url', { description: 'URL of the additional files tarball' });
  image = Option.String('--image', { description: 'The container image (default: the one the config names)' });
  imageDigest = Option.String('--image-digest', { description: 'The image id or digest (sha256:...), when no Docker engine here has the image' });
  imageTarballUrl = Option.String('--image-tarball-url', { description: 'URL of the image as a `docker save` tarball' });
  baseUrl = Option.String('--base-url', { description: 'Where a local cube\'s files will be published (the record names URLs under it)' });
  operational = Option.Boolean('--operational', false, { description: 'Mark the cube operational (its hashes then never change)' });
  private = Option.Boolean('--private', false, { description: 'Encrypt the additional files (the weights) to a key made for this model; data owners run it once granted' });

  async execute(): Promise<number> {
    if (!this.folder && !this.mlcubeUrl) throw new UsageError('give a cube folder, or --mlcube-url with the URL of its mlcube.yaml or container_config.yaml');
    if (this.kind && !(CUBE_KINDS as readonly string[]).includes(this.kind)) {
      throw new UsageError(`--kind must be one of ${CUBE_KINDS.join(', ')}, not ${this.kind}`);
    }
    const dir = this.folder ? resolve(this.context.cwd, this.folder) : undefined;
    const name = this.name ?? (dir ? basename(dir) : undefined);
    if (!name) throw new UsageError('--name is required with --mlcube-url');
    if (!new RegExp(`^${NAME}$`).test(name)) {
      throw new UsageError(`the cube name ${JSON.stringify(name)} must be lower case letters, digits, '.', '_' and '-' (pass --name)`);
    }
    return withForge(this, async (forge) => {
      const login = requireLogin(forge);
      const assets = await withStatus(this.context, (status) =>
        computeCubeAssets(
        {
          dir,
          baseUrl: this.baseUrl,
          configUrl: urlFromArgument(this.mlcubeUrl, this.context.cwd),
          parametersUrl: urlFromArgument(this.parametersUrl, this.context.cwd),
          additionalFilesUrl: urlFromArgument(this.additionalFilesUrl, this.context.cwd),
          image: this.image,
          imageDigest: this.imageDigest,
          imageTarballUrl: urlFromArgument(this.imageTarballUrl, this.context.cwd),
        },
        { stateDir: this.stateDir, onProgress: (t) => status.update(t) },
        ),
      );
      const kind = (this.kind as CubeRecord['kind'] | undefined) ?? inferKind(assets.tasks);
      checkCubeTasks(kind, assets.tasks, dir ?? this.mlcubeUrl!);
      if (this.private && kind !== 'model') throw new UsageError(`--private is for models: this is a ${kind} cube, which every data owner must be able to run`);
      const id = `${login}/${name}`;
      const path = paths.cube(id);
      const view = await mainView(forge, [path]);
      const existing = (await view.cube(id))?.data;
      const made = this.private ? await privateCubeAssets(assets, { id, stateDir: this.stateDir, baseUrl: this.baseUrl, existing }) : undefined;
      const record = cubeRecord(made?.assets ?? assets, {
        name: this.title ?? assets.configName ?? name,
        description: this.description ?? assets.configDescription,
        kind,
        state: this.operational ? 'operational' : 'development',
        ...(made ? { private: made.private } : {}),
      });
      if (existing?.state === 'operational') {
        if (sameCube(existing, record)) {
          return this.done({ id, path, unchanged: true }, `The cube ${id} is already registered with exactly these hashes; nothing to do.`);
        }
        throw new MedperfError(
          'cube-immutable',
          `the cube ${id} is operational: its hashes never change, so results stay comparable; register this version under a new name (--name); nothing was submitted`,
        );
      }
      ensureConfirmable(this.context, `Open a pull request on ${forge.registry} adding this record?`, { yes: this.yes });
      const content = recordYaml('cube', path, record);
      if (!this.json) {
        this.print(`${existing ? 'Updating' : 'Registering'} the cube ${id} (${path}):`);
        this.print(indent(content.split('\n').slice(1).join('\n').trimEnd()));
        for (const note of (made?.assets ?? assets).notes) this.print(`Note: ${note}`);
        if (made) {
          this.print(
            `The model's key ${made.keyCreated ? 'was made and is' : 'is'} kept in ${made.keyFile} (readable by you alone; back it up: without it the model cannot be granted). ` +
              'Only the encrypted additional files are hosted.',
          );
        }
        const local = [record.mlcube, record.container_config, record.parameters, record.additional_files].filter((a) => a?.url.startsWith('file://'));
        if (forge.kind === 'github' && local.length) {
          this.print(
            'Note: the record names files on this machine (file:// URLs): nobody else can fetch them, and their paths are published. ' +
              'For a shared registry, publish the files and pass --base-url (or the --*-url options).',
          );
        }
        const toUpload = (made?.assets ?? assets).toUpload;
        if (toUpload.length) {
          this.print('Upload these files to the URLs the record names before anyone runs the cube:');
          for (const u of toUpload) this.print(`  ${u.file} -> ${u.url}`);
        }
      }
      await confirmOrCancel(this.context, `Open a pull request on ${forge.registry} adding this record?`, { yes: this.yes }, 'Not submitted');
      const result = await forge.propose({
        key: `cube/${id}`,
        title: `${existing ? 'Update' : 'Register'} cube ${id}`,
        body: [
          `Registers the ${kind} cube \`${id}\` (${record.name}), submitted with \`medperf-git mlcube submit\`.`,
          '',
          keyValues([
            ['config sha256', cubeConfigAsset(record).sha256],
            ['parameters sha256', record.parameters?.sha256],
            ['additional files sha256', record.additional_files?.sha256],
            ['private', record.private ? `yes: the additional files are encrypted (sha256 in clear ${record.private.additional_files_sha256})` : undefined],
            ['image', record.image.reference ?? record.image.digest],
            ['state', record.state],
          ])
            .split('\n')
            .map((l) => `- ${l}`)
            .join('\n'),
        ].join('\n'),
        files: [{ path, content }],
      });
      for (const note of result.notes ?? []) this.warn(`Note: ${note}`);
      const verb = result.created ? 'Opened' : result.pushed ? 'Updated' : 'Unchanged:';
      return this.done(
        { id, path, record, pull: result.pull, created: result.created, pushed: result.pushed },
        `${verb} pull request #${result.pull.number}: ${result.pull.url}\n` +
          `Next: once it is merged${forge.kind === 'local' ? ` (on this local registry: medperf-git pr merge ${result.pull.number})` : ''}, ` +
          `associate the cube with a benchmark: medperf-git mlcube associate -b BENCHMARK -m ${id}` +
          (record.private ? `; grant its key to data owners: medperf-git mlcube grant -m ${id} --to LOGIN (or --benchmark BENCHMARK --approved)` : ''),
      );
    });
  }

  private done(json: unknown, text: string): number {
    if (this.json) this.printJson(json);
    else this.print(text);
    return 0;
  }
}

/** The kind a cube's tasks say it is, when only one fits. */
function inferKind(tasks: string[]): CubeRecord['kind'] {
  const fits = CUBE_KINDS.filter((k) => REQUIRED_TASKS[k].every((t) => tasks.includes(t)));
  if (fits.length === 1) return fits[0]!;
  throw new UsageError(`cannot tell the cube's kind from its tasks (${tasks.join(', ')}); pass --kind data-preparator, model or metrics`);
}

function sameCube(a: CubeRecord, b: CubeRecord): boolean {
  const pins = (r: CubeRecord) =>
    JSON.stringify([cubeConfigAsset(r).sha256, r.parameters?.sha256, r.additional_files?.sha256, r.private, r.image.digest, r.image.tarball?.sha256]);
  return pins(a) === pins(b);
}
