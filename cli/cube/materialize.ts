// A cube record made runnable: its config, parameters.yaml and additional files fetched through the
// verified cache and laid out as MedPerf lays out a cube (config, workspace/parameters.yaml,
// workspace/additional_files/), and its image present in the engine with the pinned id. Every
// asset is checked against its sha256 each time, before anything runs; a mismatch is a
// HashMismatchError naming the asset and nothing runs.
import { readFile, rm, mkdir, copyFile, writeFile } from 'node:fs/promises';
import { createReadStream, existsSync } from 'node:fs';
import { join } from 'node:path';
import Docker from 'dockerode';
import { HashMismatchError } from '../../registry/errors.ts';
import { hashFolders, sha256Hex } from '../../registry/hash.ts';
import type { CubeRecord } from '../../registry/records.ts';
import { extractTarball, fetchAsset } from '../fetch.ts';
import { statePaths } from '../state.ts';
import type { CubeUnderTest } from '../compatibility.ts';

export interface MaterializeOptions {
  stateDir: string;
  /** The engine to load image tarballs into; omit for runners that do not use Docker. */
  docker?: Docker;
  onProgress?: (what: string, done: number, total?: number) => void;
}

/** Loads an image tarball into the engine, after its sha256 matched; the loaded id must be the pinned one. */
export async function loadImageTarball(docker: Docker, file: string, expectedId: string, what: string): Promise<void> {
  const stream = await docker.loadImage(createReadStream(file), { quiet: true });
  const output = await new Promise<string>((resolve, reject) => {
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
  const ids = [...output.matchAll(/Loaded image ID: (sha256:[0-9a-f]{64})/g)].map((m) => m[1]!);
  const names = [...output.matchAll(/Loaded image: ([^\\"\s]+)/g)].map((m) => m[1]!);
  for (const name of names) ids.push((await docker.getImage(name).inspect()).Id);
  if (!ids.includes(expectedId)) throw new HashMismatchError(what, expectedId, ids.join(', ') || 'no image in the tarball');
}

export async function materializeCube(id: string, record: CubeRecord, options: MaterializeOptions): Promise<CubeUnderTest> {
  const { stateDir } = options;
  const assets = { config: record.mlcube ?? record.container_config!, parameters: record.parameters, additional_files: record.additional_files, image: record.image };
  const key = sha256Hex(JSON.stringify(assets)).slice(0, 24);
  const dir = join(statePaths(stateDir).cubes, id, key);
  const workspace = join(dir, 'workspace');
  await mkdir(workspace, { recursive: true });
  const progress = (what: string) => (done: number, total?: number) => options.onProgress?.(what, done, total);

  const configName = record.mlcube ? 'mlcube.yaml' : 'container_config.yaml';
  const config = await fetchAsset(assets.config, { stateDir, what: `${id} ${configName}`, onProgress: progress(configName) });
  await copyFile(config, join(dir, configName));
  if (assets.parameters) {
    const parameters = await fetchAsset(assets.parameters, { stateDir, what: `${id} parameters.yaml`, onProgress: progress('parameters.yaml') });
    await copyFile(parameters, join(workspace, 'parameters.yaml'));
  }
  if (assets.additional_files) {
    const tarball = await fetchAsset(assets.additional_files, { stateDir, what: `${id} additional files`, onProgress: progress('additional files') });
    const target = join(workspace, 'additional_files');
    const marker = join(dir, '.additional_files.sha256');
    // The extracted files are checked too: their folder hash must still be the one taken at extraction.
    const recorded = existsSync(marker) ? (await readFile(marker, 'utf8')).trim() : undefined;
    const current = existsSync(target) ? await hashFolders(target) : undefined;
    if (!recorded || recorded !== current) {
      await rm(target, { recursive: true, force: true });
      await extractTarball(tarball, target);
      await writeFile(marker, (await hashFolders(target)) + '\n');
    }
  }
  if (options.docker && assets.image.tarball) {
    const tarball = await fetchAsset(assets.image.tarball, { stateDir, what: `${id} image tarball`, onProgress: progress('image tarball') });
    const present = await options.docker
      .getImage(assets.image.digest)
      .inspect()
      .then((i) => i.Id === assets.image.digest)
      .catch(() => false);
    if (!present) await loadImageTarball(options.docker, tarball, assets.image.digest, `${id} image tarball`);
  }
  return { dir, label: id, imageDigest: assets.image.digest };
}
