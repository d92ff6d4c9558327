// Running registered cubes on the data owner's machine (cube/materialize.ts makes a record a
// verified cube folder): tasks run through the chosen runner, and each task writes into a
// private partial folder renamed into place only on success, so an interrupted run resumes and
// never reads half-written output.
import { mkdir, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Docker from 'dockerode';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../registry/errors.ts';
import type { CubeHash } from '../registry/records.ts';
import { cubeImage } from './cube/config.ts';
import { loadPinnedImage, type RegisteredCube } from './cube/materialize.ts';
import { planTask, type TaskPlan } from './cube/plan.ts';
import { DockerRunner } from './runners/docker.ts';
import { ProcessRunner } from './runners/process.ts';
import { SingularityRunner } from './runners/singularity.ts';
import type { Limits, Runner } from './runners/runner.ts';
import { statePaths } from './state.ts';

/** Whether a Docker engine answers on this machine. */
export async function dockerAnswers(): Promise<boolean> {
  try {
    await new Docker().ping();
    return true;
  } catch {
    return false;
  }
}

/** The `--runner` option every command that runs cubes shares. */
export const RUNNER_OPTION = {
  description: 'docker (default), singularity, process (no isolation: for cube authors and machines without an engine), or auto (docker when an engine answers, else process)',
} as const;

/** Where the Singularity runner looks for the .sif file of an image (built from the Docker image, once). */
export function sifFile(stateDir: string, image: string): string {
  return join(statePaths(stateDir).cache, 'sif', `${image.replace(/[^A-Za-z0-9._-]+/g, '_')}.sif`);
}

/**
 * The runner a command asked for: docker, singularity, process, or `auto` — Docker when an engine
 * answers and the process runner otherwise; the caller says which was chosen. The process runner
 * warns once per command that nothing is isolated.
 */
export async function chooseRunner(name: string, stateDir: string, warn: (line: string) => void): Promise<Runner> {
  const chosen = name === 'auto' ? ((await dockerAnswers()) ? 'docker' : 'process') : name;
  if (chosen === 'docker') return new DockerRunner(stateDir);
  if (chosen === 'singularity') return new SingularityRunner(stateDir, (image) => sifFile(stateDir, image));
  if (chosen !== 'process') throw new MedperfError('unknown-runner', `--runner ${name}: say docker, singularity, process or auto`);
  let warned = false;
  // The process runner's warning, once per command rather than once per task.
  return new ProcessRunner(stateDir, (line) => {
    if (!warned) warn(line);
    warned = true;
  });
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
      if (options.stateDir) await loadPinnedImage((runner as DockerRunner).docker, cube.id, cube.record, { stateDir: options.stateDir });
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
