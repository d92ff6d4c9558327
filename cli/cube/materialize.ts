// A cube record made runnable: its config, parameters.yaml and additional files fetched through the
// verified cache and laid out as MedPerf lays out a cube (config, workspace/parameters.yaml,
// workspace/additional_files/); its image is the runner's to prepare (Runner.prepareImage). Every
// asset is checked against its sha256 on each use, before anything runs; a mismatch is a
// HashMismatchError naming the asset and nothing runs. The folder is staged aside and renamed into
// place, so a reader never sees half of it. A private model's key is asked for first (a data owner
// without a grant is refused before anything is fetched); its verified ciphertext is decrypted into
// the cache and checked against the plaintext hash before it is extracted.
import { existsSync, readFileSync } from 'node:fs';
import { copyFile, cp, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MedperfError } from '../../registry/errors.ts';
import { hashFolders, sha256Hex } from '../../registry/hash.ts';
import type { CubeRecord } from '../../registry/records.ts';
import { extractTarball, fetchAsset } from '../fetch.ts';
import { makeReadableByContainers } from '../runners/container-access.ts';
import { decryptedAdditionalFiles, type ModelKeyring } from '../private-models.ts';
import { statePaths } from '../state.ts';
import { loadCube } from './config.ts';
import type { CubeUnderTest, LoadedCube } from './cube.ts';

/** A cube of the registry, ready to run; also a cube under test (its folder, id and pinned image). */
export interface RegisteredCube extends CubeUnderTest {
  id: string;
  record: CubeRecord;
  cube: LoadedCube;
}

export interface MaterializeOptions {
  stateDir: string;
  onProgress?: (what: string, done: number, total?: number) => void;
  /** The keys of private models (cli/private-models.ts modelKeyring); a private cube without one is refused. */
  keyring?: ModelKeyring;
}

export class CubeUnavailableError extends MedperfError {
  constructor(message: string) {
    super('cube-unavailable', message);
  }
}

const ADDITIONAL_FILES_MARKER = '.additional_files.sha256';

/** Whether a cube folder still holds what its record pins: config, parameters and extracted files. */
async function intact(dir: string, record: CubeRecord, configName: string): Promise<boolean> {
  const config = record.mlcube ?? record.container_config!;
  const sameFile = (path: string, sha256: string) => existsSync(path) && sha256Hex(readFileSync(path)) === sha256;
  if (!sameFile(join(dir, configName), config.sha256)) return false;
  if (record.parameters && !sameFile(join(dir, 'workspace', 'parameters.yaml'), record.parameters.sha256)) return false;
  if (!record.additional_files) return true;
  // The extracted files are checked too: their folder hash must still be the one taken at extraction.
  const marker = join(dir, ADDITIONAL_FILES_MARKER);
  const target = join(dir, 'workspace', 'additional_files');
  if (!existsSync(marker) || !existsSync(target)) return false;
  return (await readFile(marker, 'utf8')).trim() === (await hashFolders(target));
}

/** Where a cube record is laid out: one folder per cube id and everything its record pins. */
export function cubeFolder(stateDir: string, id: string, record: CubeRecord): string {
  const config = record.mlcube ?? record.container_config;
  const source = config?.url.startsWith('file://') ? dirname(fileURLToPath(config.url)) : undefined;
  const key = sha256Hex(JSON.stringify([config?.sha256, record.parameters?.sha256, record.additional_files?.sha256, source])).slice(0, 24);
  return join(statePaths(stateDir).cubes, id, key);
}

/**
 * A cube record as a folder: mlcube.yaml (or container_config.yaml), workspace/parameters.yaml and
 * workspace/additional_files/, each fetched and verified against the record's sha256. Cubes whose
 * config is a local file (cube authors, the tutorial) also bring the rest of their folder (the
 * process runner's code), which no hash pins: the process runner says so loudly.
 */
export async function materializeCube(id: string, record: CubeRecord, options: MaterializeOptions): Promise<RegisteredCube> {
  const { stateDir } = options;
  const config = record.mlcube ?? record.container_config;
  if (!config) throw new CubeUnavailableError(`${id}: the record names neither an mlcube.yaml nor a container_config.yaml`);
  const configName = record.mlcube ? 'mlcube.yaml' : 'container_config.yaml';
  if (record.private && !options.keyring) throw new CubeUnavailableError(`${id} is a private model, and this command cannot open its grant`);
  const key = record.private ? await options.keyring!.keyFor(id, record) : undefined;
  const fetch = (asset: { url: string; sha256: string }, name: string) =>
    fetchAsset(asset, { stateDir, what: `${id}'s ${name}`, onProgress: (done, total) => options.onProgress?.(name, done, total) });
  const configFile = await fetch(config, configName);
  const parametersFile = record.parameters ? await fetch(record.parameters, 'parameters.yaml') : undefined;
  let additionalFiles = record.additional_files ? await fetch(record.additional_files, 'additional files') : undefined;
  if (key && additionalFiles) additionalFiles = await decryptedAdditionalFiles(id, record, additionalFiles, key, stateDir);
  const source = config.url.startsWith('file://') ? dirname(fileURLToPath(config.url)) : undefined;
  const dir = cubeFolder(stateDir, id, record);
  if (!existsSync(dir) || !(await intact(dir, record, configName))) {
    const staging = `${dir}.${process.pid}.staging`;
    await rm(staging, { recursive: true, force: true });
    await mkdir(join(staging, 'workspace'), { recursive: true });
    if (source) {
      for (const entry of await readdir(source)) {
        if (entry === 'workspace' || entry === configName) continue;
        await cp(join(source, entry), join(staging, entry), { recursive: true });
      }
    }
    await copyFile(configFile, join(staging, configName));
    if (parametersFile) await copyFile(parametersFile, join(staging, 'workspace', 'parameters.yaml'));
    if (additionalFiles) {
      const target = join(staging, 'workspace', 'additional_files');
      await extractTarball(additionalFiles, target);
      await writeFile(join(staging, ADDITIONAL_FILES_MARKER), (await hashFolders(target)) + '\n');
    }
    // The container reads the cube's folder as an unprivileged user when the CLI runs as root.
    await makeReadableByContainers(staging);
    await mkdir(dirname(dir), { recursive: true });
    // A damaged folder is moved aside first: a rename does not replace a folder that has files.
    if (existsSync(dir)) {
      const damaged = `${dir}.${process.pid}.damaged`;
      await rename(dir, damaged).catch(() => {});
      await rm(damaged, { recursive: true, force: true });
    }
    await rename(staging, dir).catch(async (error) => {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(dir)) throw error;
    });
  }
  return { id, record, cube: loadCube(dir), dir, label: id, imageDigest: record.image.digest };
}
