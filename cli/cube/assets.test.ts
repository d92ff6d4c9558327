import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load } from 'js-yaml';
import * as tar from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../registry/hash.ts';
import { loadRecord } from '../../registry/load.ts';
import { checkCubeTasks, computeCubeAssets, cubeRecord, urlFromArgument, verifyCubeUpstream } from './assets.ts';
import { recordYaml } from '../../registry/record-yaml.ts';

const EXAMPLE = 'examples/registry/mlcubes/bench-committee/chestxray-cnn.yaml';
const DIGEST = 'sha256:' + 'a'.repeat(64);
const MLCUBE = `name: Tiny model
docker:
  image: example/tiny:1.0
process:
  command: node main.mjs
tasks:
  infer:
    parameters:
      inputs: { data_path: data/, parameters_file: parameters.yaml }
      outputs: { output_path: { type: directory, default: predictions } }
`;

let dir: string;
let home: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'medperf-git-records-'));
  home = join(dir, 'home');
  await mkdir(join(dir, 'cube', 'workspace', 'additional_files'), { recursive: true });
  await writeFile(join(dir, 'cube', 'mlcube.yaml'), MLCUBE);
  await writeFile(join(dir, 'cube', 'workspace', 'parameters.yaml'), 'threshold: 0.5\n');
  await writeFile(join(dir, 'cube', 'workspace', 'additional_files', 'weights.json'), '[1,2,3]\n');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('recordYaml', () => {
  it('writes a record as the registry holds it: modeline, schema key order, dates quoted', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const data = load(text) as Record<string, unknown>;
    // Keys in a scrambled order come back in the schema's.
    const scrambled = Object.fromEntries(Object.entries(data).reverse());
    const path = 'mlcubes/bench-committee/chestxray-cnn.yaml';
    expect(recordYaml('cube', path, scrambled)).toBe(text.replace('../../../../schemas', '../../schemas'));
    const assoc = recordYaml('model-association', 'benchmarks/b/models/o/m.yaml', {
      priority: 0,
      compatibility_test: { medperf_git_version: '0.1.0', executed_at: '2026-11-02T10:00:00Z', metrics: { AUC: 0.7 }, dataset_generated_uid: 'f'.repeat(64) },
      initiated_by: 'o',
    });
    expect(assoc).toBe(
      [
        '# yaml-language-server: $schema=../../../../schemas/model-association.schema.json',
        'initiated_by: o',
        'compatibility_test:',
        '  metrics:',
        '    AUC: 0.7',
        `  dataset_generated_uid: ${'f'.repeat(64)}`,
        '  medperf_git_version: 0.1.0',
        '  executed_at: "2026-11-02T10:00:00Z"',
        'priority: 0',
        '',
      ].join('\n'),
    );
    expect(loadRecord('benchmarks/b/models/o/m.yaml', Buffer.from(assoc)).findings).toEqual([]);
  });
});

describe('computeCubeAssets', () => {
  it('hashes a local cube folder: config, parameters, a deterministic additional-files tarball, the image id', async () => {
    const inspected: string[] = [];
    const inspectImage = async (ref: string) => (inspected.push(ref), { id: DIGEST, repoDigests: [] });
    const assets = await computeCubeAssets({ dir: join(dir, 'cube') }, { stateDir: home, inspectImage });
    expect(inspected).toEqual(['example/tiny:1.0']);
    expect(assets.format).toBe('mlcube');
    expect(assets.tasks).toEqual(['infer']);
    expect(assets.config).toEqual({ url: pathToFileURL(join(dir, 'cube', 'mlcube.yaml')).href, sha256: sha256Hex(MLCUBE) });
    expect(assets.parameters!.sha256).toBe(sha256Hex('threshold: 0.5\n'));
    expect(assets.image).toEqual({ digest: DIGEST });
    expect(assets.notes.join('\n')).toContain('has no registry digest here');
    // The same files give the same tarball, whenever they are packed.
    const again = await computeCubeAssets({ dir: join(dir, 'cube'), imageDigest: DIGEST }, { stateDir: join(dir, 'other-home') });
    expect(again.additional_files!.sha256).toBe(assets.additional_files!.sha256);
    const record = cubeRecord(assets, { name: 'Tiny model', kind: 'model' });
    const path = 'mlcubes/alice/tiny.yaml';
    expect(loadRecord(path, Buffer.from(recordYaml('cube', path, record))).findings).toEqual([]);
  });

  it('with --base-url the record names where the files will be published and lists what to upload', async () => {
    const assets = await computeCubeAssets(
      { dir: join(dir, 'cube'), baseUrl: 'https://example.org/tiny/', imageDigest: DIGEST, image: `example/tiny@${DIGEST}` },
      { stateDir: home },
    );
    expect(assets.config.url).toBe('https://example.org/tiny/mlcube.yaml');
    expect(assets.additional_files!.url).toBe('https://example.org/tiny/additional_files.tar.gz');
    expect(assets.toUpload.map((u) => u.url)).toEqual([
      'https://example.org/tiny/mlcube.yaml',
      'https://example.org/tiny/parameters.yaml',
      'https://example.org/tiny/additional_files.tar.gz',
    ]);
    expect(assets.image).toEqual({ digest: DIGEST, reference: `example/tiny@${DIGEST}` });
  });

  it('from URLs, validating the config; a missing image digest says what to do', async () => {
    const url = pathToFileURL(join(dir, 'cube', 'mlcube.yaml')).href;
    const assets = await computeCubeAssets({ configUrl: url, imageDigest: DIGEST }, { stateDir: home });
    expect(assets.config.sha256).toBe(sha256Hex(MLCUBE));
    await expect(computeCubeAssets({ configUrl: url }, { stateDir: home, inspectImage: async () => undefined })).rejects.toThrow(
      `${url}: cannot read the digest of the image example/tiny:1.0: no Docker engine answers here, or it does not have the image (docker pull or build it first), or pass --image-digest sha256:...`,
    );
    await writeFile(join(dir, 'bad.yaml'), 'tasks: 3\n');
    await expect(computeCubeAssets({ configUrl: pathToFileURL(join(dir, 'bad.yaml')).href }, { stateDir: home })).rejects.toThrow(/bad\.yaml:1:\d+ /);
  });

  it('refuses a cube without the tasks its kind needs', () => {
    expect(() => checkCubeTasks('metrics', ['infer'], 'cube/mlcube.yaml')).toThrow('cube/mlcube.yaml: a metrics cube needs the task evaluate; it declares infer');
  });

  it('finds what changed upstream since registration', async () => {
    const assets = await computeCubeAssets({ dir: join(dir, 'cube'), imageDigest: DIGEST }, { stateDir: home });
    const record = cubeRecord(assets, { name: 'Tiny', kind: 'model' });
    expect(await verifyCubeUpstream('alice/tiny', record, { stateDir: home })).toEqual([]);
    await writeFile(join(dir, 'cube', 'workspace', 'parameters.yaml'), 'threshold: 0.9\n');
    expect(await verifyCubeUpstream('alice/tiny', record, { stateDir: home })).toEqual([
      { what: 'parameters.yaml', url: record.parameters!.url, expected: sha256Hex('threshold: 0.5\n'), actual: sha256Hex('threshold: 0.9\n') },
    ]);
  });

  it("hashes MedPerf's own tutorial cubes: an MLCube with parameters.yaml beside it, and a container config", async () => {
    const fixtures = 'testing/fixtures/real-mlcubes';
    const cnn = await computeCubeAssets(
      { dir: `${fixtures}/medperf-chestxray-tutorial-mlcube/model_custom_cnn` },
      { stateDir: home, inspectImage: async (ref) => (ref === 'mlcommons/chestxray-tutorial-cnn:0.0.0' ? { id: DIGEST, repoDigests: [`mlcommons/chestxray-tutorial-cnn@sha256:${'b'.repeat(64)}`] } : undefined) },
    );
    expect(cnn.format).toBe('mlcube');
    expect(cnn.tasks).toEqual(['infer']);
    expect(cnn.parameters!.sha256).toBe(sha256Hex(await readFile(`${fixtures}/medperf-chestxray-tutorial-mlcube/model_custom_cnn/parameters.yaml`)));
    // A pulled image pins both its registry digest and its id.
    expect(cnn.image).toEqual({ digest: DIGEST, reference: `mlcommons/chestxray-tutorial-cnn@sha256:${'b'.repeat(64)}` });
    const container = await computeCubeAssets({ dir: `${fixtures}/medperf-chestxray-tutorial-container/model_mobilenetv2`, imageDigest: DIGEST }, { stateDir: home });
    expect(container.format).toBe('container-config');
    const record = cubeRecord(container, { name: 'mobilenet', kind: 'model' });
    expect(Object.keys(record)).toEqual(['name', 'kind', 'container_config', 'image', 'state']);
    const path = 'mlcubes/alice/mobilenet.yaml';
    expect(loadRecord(path, Buffer.from(recordYaml('cube', path, record))).findings).toEqual([]);
  });

  it('reads the image id from a `docker save` tarball, so no engine is needed', async () => {
    const staging = join(dir, 'image');
    await mkdir(join(staging, 'blobs', 'sha256'), { recursive: true });
    await writeFile(join(staging, 'manifest.json'), JSON.stringify([{ Config: `blobs/sha256/${'c'.repeat(64)}`, RepoTags: ['example/tiny:1.0'], Layers: [] }]));
    await writeFile(join(staging, 'blobs', 'sha256', 'c'.repeat(64)), '{}');
    const tarball = join(dir, 'image.tar');
    await tar.c({ cwd: staging, file: tarball, portable: true }, ['manifest.json', 'blobs']);
    const url = pathToFileURL(tarball).href;
    const assets = await computeCubeAssets({ dir: join(dir, 'cube'), imageTarballUrl: url }, { stateDir: home, inspectImage: async () => undefined });
    expect(assets.image).toEqual({ digest: `sha256:${'c'.repeat(64)}`, tarball: { url, sha256: sha256Hex(await readFile(tarball)) } });
    await writeFile(join(dir, 'not-an-image.tar'), 'nothing');
    await expect(
      computeCubeAssets({ dir: join(dir, 'cube'), imageTarballUrl: pathToFileURL(join(dir, 'not-an-image.tar')).href }, { stateDir: home }),
    ).rejects.toThrow('not a `docker save` tarball with a manifest.json; pass --image-digest sha256:...');
  });

  it('takes local paths where URLs are expected, as file:// URLs', () => {
    expect(urlFromArgument('https://example.org/a.tar.gz', '/work')).toBe('https://example.org/a.tar.gz');
    expect(urlFromArgument('data/demo.tar.gz', '/srv')).toBe('file:///srv/data/demo.tar.gz');
    expect(urlFromArgument('/srv/demo.tar.gz', '/work')).toBe('file:///srv/demo.tar.gz');
    expect(() => urlFromArgument('s3://bucket/demo.tar.gz', '/work')).toThrow('s3://bucket/demo.tar.gz: only https://, http:// and file:// URLs, or local paths, can be used');
  });
});
