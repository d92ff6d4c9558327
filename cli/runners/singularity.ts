// Singularity/Apptainer, by command line as MedPerf runs it: `run -eC --net --network none`, binds
// read-only for inputs and read-write for outputs, `--nv` for GPUs, `exec` for a custom entrypoint.
// Executed only when the binary exists on this machine.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { MedperfError } from '../../registry/errors.ts';
import { outputDirs, type TaskPlan } from '../cube/plan.ts';
import {
  closeLog,
  DEFAULT_LIMITS,
  lastLines,
  openLog,
  type RunRequest,
  type RunResult,
  type Runner,
  statusTicker,
  TaskFailedError,
  TaskTimeoutError,
} from './runner.ts';

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
    const { path: logFile, stream: log } = await openLog(this.stateDir, request.label, plan.task, request.logFile);
    const timeoutMs = request.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
    const started = Date.now();
    const stopTicker = statusTicker(plan.task, request.onStatus);
    let timedOut = false;
    try {
      const exitCode = await new Promise<number>((resolve, reject) => {
        const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
        child.stdout.pipe(log, { end: false });
        child.stderr.pipe(log, { end: false });
        const timer = setTimeout(() => {
          timedOut = true;
          try {
            process.kill(-child.pid!, 'SIGKILL');
          } catch {
            child.kill('SIGKILL');
          }
        }, timeoutMs);
        child.on('error', (e) => reject(e));
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve(code ?? 1);
        });
      });
      await closeLog(log);
      if (timedOut) throw new TaskTimeoutError(request.label, plan.task, `killed after its timeout of ${Math.round(timeoutMs / 1000)}s`, logFile, await lastLines(logFile));
      if (exitCode !== 0) throw new TaskFailedError(request.label, plan.task, `failed with exit code ${exitCode}`, logFile, await lastLines(logFile));
      return { exitCode, logFile, durationMs: Date.now() - started };
    } finally {
      stopTicker();
      if (!log.closed) await closeLog(log);
    }
  }
}
