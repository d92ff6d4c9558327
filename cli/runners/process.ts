// The process runner: a cube's `process: { command }` run on the host, for cube authors and for
// machines with no container engine. Nothing is isolated: the cube sees the network, the whole disk
// and runs as you. It says so every time, and is never chosen silently for a cube that names an
// image (the caller must ask for it).
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { MedperfError } from '../../registry/errors.ts';
import { outputDirs } from '../cube/plan.ts';
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

export const PROCESS_RUNNER_WARNING =
  'WARNING: the process runner runs the cube directly on this machine with NO isolation: it can use the network, read and write anything you can. Use it only for cubes you trust.';

/** What a cube needs to start on the host, and nothing else: no tokens or credentials from the environment. */
export function hostEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'CUDA_VISIBLE_DEVICES'];
  return Object.fromEntries(keep.filter((k) => env[k] !== undefined).map((k) => [k, env[k]!]));
}

export class NoProcessEntrypointError extends MedperfError {
  constructor(label: string) {
    super('no-process-entrypoint', `${label}: the cube declares no process entrypoint (\`process: { command: ... }\` in mlcube.yaml), so it cannot run without a container engine`);
  }
}

export class ProcessRunner implements Runner {
  readonly name = 'process' as const;

  constructor(
    readonly stateDir: string,
    readonly warn: (line: string) => void,
  ) {}

  async run(request: RunRequest): Promise<RunResult> {
    const { plan } = request;
    if (!plan.process) throw new NoProcessEntrypointError(request.label);
    this.warn(PROCESS_RUNNER_WARNING);
    for (const dir of outputDirs(plan)) await mkdir(dir, { recursive: true });
    const { path: logFile, stream: log } = await openLog(this.stateDir, request.label, plan.task, request.logFile);
    const [command, ...args] = plan.process.command;
    const timeoutMs = request.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
    const started = Date.now();
    const stopTicker = statusTicker(plan.task, request.onStatus);
    let timedOut = false;
    try {
      const exitCode = await new Promise<number>((resolve, reject) => {
        // Its own process group, so a timeout kills whatever it started too.
        const child = spawn(command!, args, { cwd: plan.process!.cwd, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...hostEnvironment(), ...plan.environment } });
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
        child.on('error', (e) => {
          clearTimeout(timer);
          reject(new TaskFailedError(request.label, plan.task, `cannot start ${command}: ${e.message}`, logFile, []));
        });
        child.on('close', (code, signal) => {
          clearTimeout(timer);
          resolve(code ?? (signal ? 128 : 1));
        });
      });
      log.write(`\n[medperf-git] ${plan.task} ${timedOut ? `killed after ${timeoutMs} ms` : `exited with ${exitCode}`}\n`);
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
