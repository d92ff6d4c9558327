// Which runner runs the cubes of a command (`--runner`), and the hashes of a cube as it ran; the
// tasks themselves run through cube/execute.ts.
import { join } from 'node:path';
import { DockerClient } from './runners/dockerode.ts';
import { MedperfError } from '../registry/errors.ts';
import { cubeProvenance } from '../registry/provenance.ts';
import type { CubeHash } from '../registry/records.ts';
import type { RegisteredCube } from './cube/materialize.ts';
import { DockerRunner } from './runners/docker.ts';
import { ProcessRunner } from './runners/process.ts';
import { SingularityRunner } from './runners/singularity.ts';
import type { Runner } from './runners/runner.ts';
import { statePaths } from './state.ts';

/** Whether a Docker engine answers on this machine. */
export async function dockerAnswers(): Promise<boolean> {
  try {
    await new DockerClient().ping();
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
  return cubeProvenance(cube.id, cube.record);
}
