// What every runner does with a task plan: run it once, isolated as far as the runner can, with its
// output in a log file under the state directory, and say how it went.
import { spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MedperfError } from '../../registry/errors.ts';
import type { TaskPlan } from '../cube/plan.ts';
import type { Asset } from '../fetch.ts';
import type { CubeBuild } from './docker-build.ts';
import { statePaths } from '../state.ts';

export type RunnerName = 'docker' | 'singularity' | 'process' | 'kubernetes';

export interface Limits {
  /** Kill the task after this long (ms). Default 2 hours. */
  timeoutMs?: number;
  /** Memory limit in bytes. Default 4 GiB. */
  memoryBytes?: number;
  /** Most processes the task may have at once. Default 256. */
  pids?: number;
  /** GPUs: 'all', a count, or `device=0,1`. None by default. */
  gpus?: string | number;
  /** CPUs the task may use (fractions allowed). No limit by default. */
  cpus?: number;
}

export interface RunRequest {
  plan: TaskPlan;
  /** Who is running what, for the log file's name and the status line: "bench-committee/chestxray-cnn". */
  label: string;
  /** The image id or digest the cube record pins; checked before running. */
  imageDigest?: string;
  limits?: Limits;
  /** The log file; default a new file under <state>/logs. */
  logFile?: string;
  /** A live status line ("infer: running 12s"), replaced in place by the caller. */
  onStatus?: (line: string) => void;
  /** The folder the task's outputs become once it succeeds: a cluster runner names its job by it. */
  done?: string;
}

export interface RunResult {
  exitCode: number;
  logFile: string;
  durationMs: number;
}

/** A cube's image as its record pins it. */
export interface CubeImage {
  /** Who it is, for messages: a cube id or a folder. */
  label: string;
  /** The image the cube's config names, if any. */
  image?: string;
  /** The pin: the image id or a registry digest. */
  digest?: string;
  /** Where the record says to pull it from, pinned (`repository@sha256:...`). */
  reference?: string;
  /** A tarball holding the pinned image, verified before it is loaded. */
  tarball?: Asset;
  /** A cube folder's own build (docker.build_context / build_file), used when the image is missing. */
  build?: CubeBuild;
}

export interface PrepareImageOptions {
  onStatus?: (line: string) => void;
  onProgress?: (what: string, done: number, total?: number) => void;
}

export interface Runner {
  readonly name: RunnerName;
  /**
   * Makes a cube's image ready before anything runs (a verified tarball loaded when the engine lacks
   * the pinned image) and checks it against its pin. Returns the image a plan runs (its id), or
   * undefined when this runner runs no engine image (the plan keeps the config's reference).
   */
  prepareImage(image: CubeImage, options?: PrepareImageOptions): Promise<string | undefined>;
  run(request: RunRequest): Promise<RunResult>;
  /**
   * A cluster runner: the partial folder into which a job of an earlier, interrupted command still
   * writes the task that ends in `done` (or wrote it, unseen), so that folder is kept and the job
   * re-attached to instead of run again.
   */
  attachable?(done: string): Promise<string | undefined>;
}

export const DEFAULT_LIMITS: Required<Omit<Limits, 'gpus' | 'cpus'>> = {
  timeoutMs: 2 * 60 * 60 * 1000,
  memoryBytes: 4 * 1024 ** 3,
  pids: 256,
};

/** A size as a user or a cube config types it: 512m, 4g, 1.5GB, or bytes. */
export function parseBytes(text: string | number, what: string): number {
  if (typeof text === 'number') return text;
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw new MedperfError('invalid-size', `${what} ${text}: say e.g. 512m or 4g`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2]!.toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  return Math.round(Number(m[1]) * unit);
}

export class TaskFailedError extends MedperfError {
  constructor(
    readonly label: string,
    readonly task: string,
    readonly reason: string,
    readonly logFile: string,
    readonly lastLines: string[],
  ) {
    super(
      'task-failed',
      `${label} ${task}: ${reason}\n` +
        (lastLines.length ? `last lines of the log:\n${lastLines.map((l) => `  | ${l}`).join('\n')}\n` : '') +
        `whole log: ${logFile}`,
    );
  }
}

export class TaskTimeoutError extends TaskFailedError {}

/** A fresh log file for one execution. */
export async function openLog(stateDir: string, label: string, task: string, logFile?: string): Promise<{ path: string; stream: WriteStream }> {
  const dir = statePaths(stateDir).logs;
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const path = logFile ?? join(dir, `${stamp}-${label.replace(/[^A-Za-z0-9._-]+/g, '_')}-${task}-${process.pid}.log`);
  const stream = createWriteStream(path, { flags: 'a' });
  await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
  return { path, stream };
}

export async function closeLog(stream: WriteStream): Promise<void> {
  await new Promise<void>((resolve) => stream.end(resolve));
}

export async function lastLines(path: string, n = 20): Promise<string[]> {
  const text = await readFile(path, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.length).slice(-n);
}

/** Calls onStatus every second with the elapsed time, until stopped. */
export function statusTicker(task: string, onStatus?: (line: string) => void): () => void {
  if (!onStatus) return () => {};
  const start = Date.now();
  onStatus(`${task}: running`);
  const timer = setInterval(() => onStatus(`${task}: running ${Math.round((Date.now() - start) / 1000)}s`), 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/**
 * The end of every run: its outcome written at the end of the log, then a timeout or a non-zero exit
 * is an error quoting the log's last lines.
 */
export async function finishTask(
  request: RunRequest,
  log: WriteStream,
  logFile: string,
  outcome: { exitCode: number; timedOut: boolean; timeoutMs: number; started: number },
): Promise<RunResult> {
  const { exitCode, timedOut, timeoutMs } = outcome;
  const task = request.plan.task;
  log.write(`\n[medperf-git] ${task} ${timedOut ? `killed after ${timeoutMs} ms` : `exited with ${exitCode}`}\n`);
  await closeLog(log);
  if (timedOut) throw new TaskTimeoutError(request.label, task, `killed after its timeout of ${Math.round(timeoutMs / 1000)}s`, logFile, await lastLines(logFile));
  if (exitCode !== 0) throw new TaskFailedError(request.label, task, `failed with exit code ${exitCode}`, logFile, await lastLines(logFile));
  return { exitCode, logFile, durationMs: Date.now() - outcome.started };
}

/**
 * A command run on the host with its output in the task's log, in its own process group, so a
 * timeout kills whatever it started too.
 */
export async function runLoggedCommand(
  stateDir: string,
  request: RunRequest,
  argv: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  const { plan } = request;
  const [command, ...args] = argv;
  const { path: logFile, stream: log } = await openLog(stateDir, request.label, plan.task, request.logFile);
  const timeoutMs = request.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
  const started = Date.now();
  const stopTicker = statusTicker(plan.task, request.onStatus);
  let timedOut = false;
  // The task runs in its own process group, which a terminal's Ctrl-C or a scheduler's signal to
  // this process does not reach: on SIGINT or SIGTERM the group is killed, then the signal goes on.
  let killGroup = () => {};
  const onSignal = (signal: NodeJS.Signals) => {
    killGroup();
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    process.kill(process.pid, signal);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      const child = spawn(command!, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      killGroup = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          child.kill('SIGKILL');
        }
      };
      child.stdout.pipe(log, { end: false });
      child.stderr.pipe(log, { end: false });
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
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
    return await finishTask(request, log, logFile, { exitCode, timedOut, timeoutMs, started });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    stopTicker();
    if (!log.closed) await closeLog(log);
  }
}
