// Running registered cubes on the data owner's machine: a cube record from the registry becomes a
// verified cube folder (every asset fetched through the content-addressed cache and checked
// against the record's sha256), tasks run through the chosen runner, and each task writes into a
// private partial folder renamed into place only on success, so an interrupted run resumes and
// never reads half-written output.
import { existsSync } from 'node:fs';
import { copyFile, cp, mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../registry/errors.ts';
import { sha256Hex } from '../registry/hash.ts';
import type { CubeHash, CubeRecord } from '../registry/records.ts';
import { cubeImage, loadCube, type LoadedCube } from './cube/config.ts';
import { loadImageTarball } from './cube/materialize.ts';
import { planTask, type TaskPlan } from './cube/plan.ts';
import { extractTarball, fetchAsset } from './fetch.ts';
import { DockerRunner } from './runners/docker.ts';
import { ProcessRunner } from './runners/process.ts';
import type { Limits, Runner } from './runners/runner.ts';
import { statePaths } from './state.ts';

/** A cube of the registry, ready to run. */
export interface RegisteredCube {
  id: string;
  record: CubeRecord;
  cube: LoadedCube;
}

/** Whether a Docker engine answers on this machine. */
export async function dockerAnswers(): Promise<boolean> {
  try {
    await new Docker().ping();
    return true;
  } catch {
    return false;
  }
}

/**
 * The runner a command asked for. `auto` is Docker when an engine answers and the process runner
 * otherwise; the caller says which was chosen (the process runner also warns on every task).
 */
export async function chooseRunner(name: string, stateDir: string, warn: (line: string) => void): Promise<Runner> {
  const chosen = name === 'auto' ? ((await dockerAnswers()) ? 'docker' : 'process') : name;
  if (chosen === 'docker') return new DockerRunner(stateDir);
  if (chosen !== 'process') throw new MedperfError('unknown-runner', `--runner ${name}: say docker, process or auto`);
  let warned = false;
  // The process runner's warning, once per command rather than once per task.
  return new ProcessRunner(stateDir, (line) => {
    if (!warned) warn(line);
    warned = true;
  });
}

export class CubeUnavailableError extends MedperfError {
  constructor(message: string) {
    super('cube-unavailable', message);
  }
}

/**
 * A cube record as a folder: mlcube.yaml (or container_config.yaml), workspace/parameters.yaml and
 * workspace/additional_files/, each fetched and verified against the record's sha256. Cubes whose
 * config is a local file (cube authors, the tutorial) also bring the rest of their folder (the
 * process runner's code), which no hash pins: the process runner says so loudly.
 */
export async function materializeCube(stateDir: string, id: string, record: CubeRecord): Promise<RegisteredCube> {
  const config = record.mlcube ?? record.container_config;
  if (!config) throw new CubeUnavailableError(`${id}: the record names neither an mlcube.yaml nor a container_config.yaml`);
  const configName = record.mlcube ? 'mlcube.yaml' : 'container_config.yaml';
  const what = (asset: string) => `${id}'s ${asset}`;
  const configFile = await fetchAsset(config, { stateDir, what: what(configName) });
  const parametersFile = record.parameters ? await fetchAsset(record.parameters, { stateDir, what: what('parameters.yaml') }) : undefined;
  const additionalFiles = record.additional_files ? await fetchAsset(record.additional_files, { stateDir, what: what('additional files') }) : undefined;
  const source = config.url.startsWith('file://') ? dirname(fileURLToPath(config.url)) : undefined;
  const key = sha256Hex(JSON.stringify([config.sha256, record.parameters?.sha256, record.additional_files?.sha256, source])).slice(0, 24);
  const dir = join(statePaths(stateDir).cubes, id, key);
  if (!existsSync(dir)) {
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
    if (additionalFiles) await extractTarball(additionalFiles, join(staging, 'workspace', 'additional_files'));
    await mkdir(dirname(dir), { recursive: true });
    await rename(staging, dir).catch(async (error) => {
      await rm(staging, { recursive: true, force: true });
      if (!existsSync(dir)) throw error;
    });
  }
  return { id, record, cube: loadCube(dir) };
}

/** The hashes of a cube as it ran, for provenance: the record's pins, each verified before use. */
export function cubeHash(cube: RegisteredCube): CubeHash {
  const r = cube.record;
  return {
    id: cube.id,
    config_sha256: (r.mlcube ?? r.container_config)!.sha256,
    ...(r.parameters ? { parameters_sha256: r.parameters.sha256 } : {}),
    ...(r.additional_files ? { additional_files_sha256: r.additional_files.sha256 } : {}),
    image: r.image.digest,
  };
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export interface StepOptions {
  runner: Runner;
  cube: RegisteredCube;
  task: string;
  /** The finished step's folder: reused when it exists. */
  done: string;
  /** Parameter bindings, given the partial folder outputs go to. */
  bindings: (out: string) => Record<string, string>;
  limits?: Limits;
  onStatus?: (line: string) => void;
  /** Where the outputs of a failed task are kept (for MedPerf's partial results); default dropped. */
  failedTo?: string;
  /** For image tarballs: the verified download cache. */
  stateDir?: string;
}

/** A cube whose image is published as a tarball: loaded (after its sha256 matched) when the engine lacks it. */
async function loadPinnedImage(runner: DockerRunner, cube: RegisteredCube, stateDir?: string): Promise<void> {
  const { tarball, digest } = cube.record.image;
  if (!tarball || !stateDir) return;
  const present = await runner.docker
    .getImage(digest)
    .inspect()
    .then((i) => i.Id === digest)
    .catch(() => false);
  if (present) return;
  const file = await fetchAsset(tarball, { stateDir, what: `${cube.id}'s image tarball` });
  await loadImageTarball(runner.docker, file, digest, `${cube.id}'s image tarball`);
}

/**
 * Runs one task unless its folder exists already. Outputs go to a partial folder renamed to `done`
 * only when the task succeeds. Returns whether it ran now (false: reused).
 */
export async function runStep(options: StepOptions): Promise<boolean> {
  const { runner, cube, task, done } = options;
  if (await exists(done)) {
    options.onStatus?.(`${task}: done earlier, reused`);
    return false;
  }
  await mkdir(dirname(done), { recursive: true });
  // Partial folders of an interrupted run are never read.
  const prefix = `${done.slice(dirname(done).length + 1)}.partial-`;
  for (const entry of await readdir(dirname(done))) if (entry.startsWith(prefix)) await rm(join(dirname(done), entry), { recursive: true, force: true });
  const partial = `${done}.partial-${process.pid}-${Date.now()}`;
  await mkdir(partial, { recursive: true });
  try {
    let plan: TaskPlan = planTask(cube.cube, task, { bindings: options.bindings(partial) });
    if (runner.name === 'docker' && cubeImage(cube.cube)) {
      await loadPinnedImage(runner as DockerRunner, cube, options.stateDir);
      const imageId = await (runner as DockerRunner).checkImage(cubeImage(cube.cube)!, cube.record.image.digest);
      plan = { ...plan, image: imageId };
    }
    await runner.run({ plan, label: cube.id, imageDigest: cube.record.image.digest, limits: options.limits, onStatus: options.onStatus });
    await writeFileAtomic(join(partial, '.task'), `${task} ${cube.id}\n`);
    await rename(partial, done);
  } catch (error) {
    if (options.failedTo) {
      await rm(options.failedTo, { recursive: true, force: true });
      await rename(partial, options.failedTo);
    } else await rm(partial, { recursive: true, force: true });
    throw error;
  }
  options.onStatus?.(`${task}: done`);
  return true;
}
