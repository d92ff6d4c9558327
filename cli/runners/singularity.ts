// Singularity/Apptainer, by command line as MedPerf runs it: `run -eC --net --network none`, binds
// read-only for inputs and read-write for outputs, `--nv` for GPUs, `exec` for a custom entrypoint.
// Executed only when the binary exists on this machine.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { MedperfError } from '../../registry/errors.ts';
import { outputDirs, type TaskPlan } from '../cube/plan.ts';
import { type RunRequest, type RunResult, type Runner, runLoggedCommand } from './runner.ts';

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

export class SingularityRunner implements Runner {
  readonly name = 'singularity' as const;

  constructor(
    readonly stateDir: string,
    /** The .sif file for an image reference. */
    readonly imageFile: (image: string) => string,
    readonly binary = findSingularity(),
  ) {}

  /** Singularity runs a .sif built from the image (checked when the task runs): no engine image to prepare. */
  async prepareImage(): Promise<undefined> {
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
