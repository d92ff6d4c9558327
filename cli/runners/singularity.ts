// Singularity/Apptainer, by command line as MedPerf runs it: `run -eC --net --network none`, binds
// read-only for inputs and read-write for outputs, `--nv` for GPUs, `exec` for a custom entrypoint.
// Executed only when the binary exists on this machine.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { MedperfError } from '../../registry/errors.ts';
import { outputDirs, type TaskPlan } from '../cube/plan.ts';
import { pullReferences } from './docker-pull.ts';
import { type CubeImage, type PrepareImageOptions, type RunRequest, type RunResult, type Runner, runLoggedCommand } from './runner.ts';

/** `apptainer` or `singularity`, whichever is installed, or undefined. */
export function findSingularity(): string | undefined {
  for (const bin of ['apptainer', 'singularity']) {
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0) return bin;
  }
  return undefined;
}

export function singularityArgv(binary: string, plan: TaskPlan, imageFile: string, options: { gpus?: boolean } = {}): string[] {
  const binds = plan.mounts.flatMap((m) => ['--bind', `${m.host}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`]);
  const env = Object.entries(plan.environment).flatMap(([k, v]) => ['--env', `${k}=${v}`]);
  const common = ['-eC', '--net', '--network', 'none', ...binds, ...env, ...(options.gpus ? ['--nv'] : [])];
  if (plan.entrypoint) return [binary, 'exec', ...common, imageFile, ...plan.entrypoint, ...plan.command];
  return [binary, 'run', ...common, imageFile, ...plan.command];
}

/**
 * How MedPerf makes a cube's .sif when none is cached: \`build\` from the Docker image, pinned
 * (the record's reference, else the config's repository at the pinned digest), into a partial
 * file that is renamed into place only once the build succeeds.
 */
export function singularityBuildArgv(binary: string, sif: string, cube: Pick<CubeImage, 'image' | 'digest' | 'reference'>, partial = `${sif}.partial`): string[] {
  if (!cube.image) throw new MedperfError('no-image', 'the cube names no Docker image to build a Singularity image from');
  const [source] = pullReferences(cube.image, cube.digest, cube.reference);
  return [binary, 'build', partial, `docker://${source}`];
}

export class SingularityRunner implements Runner {
  readonly name = 'singularity' as const;

  constructor(
    readonly stateDir: string,
    /** The .sif file for an image reference. */
    readonly imageFile: (image: string) => string,
    readonly binary = findSingularity(),
  ) {}

  /** A cube's .sif, built from its pinned Docker image when none is cached. */
  async prepareImage(cube: CubeImage, options: PrepareImageOptions = {}): Promise<undefined> {
    if (!cube.image) return undefined;
    const sif = this.imageFile(cube.image);
    if (existsSync(sif) || !this.binary) return undefined;
    // Cluster jobs on several nodes may build the same image at once: each into its own partial file.
    const partial = `${sif}.partial-${hostname()}-${process.pid}`;
    const argv = singularityBuildArgv(this.binary, sif, cube, partial);
    options.onStatus?.(`${cube.label}: building its Singularity image: ${argv.join(' ')}`);
    await mkdir(dirname(sif), { recursive: true });
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', resolve);
    });
    if (code !== 0) {
      await rm(partial, { force: true });
      throw new MedperfError('sif-build', `${cube.label}: \`${argv.join(' ')}\` failed (exit ${code}); nothing was run`);
    }
    await rename(partial, sif);
    return undefined;
  }

  async run(request: RunRequest): Promise<RunResult> {
    if (!this.binary) throw new MedperfError('singularity-missing', 'neither apptainer nor singularity is installed on this machine');
    const { plan } = request;
    for (const dir of outputDirs(plan)) await mkdir(dir, { recursive: true });
    const gpus = request.limits?.gpus ?? plan.gpus;
    const sif = this.imageFile(plan.image ?? '');
    if (!existsSync(sif)) {
      throw new MedperfError('sif-missing', `no Singularity image for ${plan.image} at ${sif}; build it with \`${this.binary} build ${sif} docker-daemon://${plan.image}\``);
    }
    const argv = singularityArgv(this.binary, plan, sif, { gpus: gpus !== undefined && gpus !== 0 && gpus !== '0' });
    return runLoggedCommand(this.stateDir, request, argv);
  }
}
