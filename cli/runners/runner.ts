// What every runner does with a task plan: run it once, isolated as far as the runner can, with its
// output in a log file under the state directory, and say how it went.
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MedperfError } from '../../registry/errors.ts';
import type { TaskPlan } from '../cube/plan.ts';
import { statePaths } from '../state.ts';

export type RunnerName = 'docker' | 'singularity' | 'process';

export interface Limits {
  /** Kill the task after this long (ms). Default 2 hours. */
  timeoutMs?: number;
  /** Memory limit in bytes. Default 4 GiB. */
  memoryBytes?: number;
  /** Most processes the task may have at once. Default 256. */
  pids?: number;
  /** GPUs: 'all', a count, or `device=0,1`. None by default. */
  gpus?: string | number;
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
}

export interface RunResult {
  exitCode: number;
  logFile: string;
  durationMs: number;
}

export interface Runner {
  readonly name: RunnerName;
  run(request: RunRequest): Promise<RunResult>;
}

export const DEFAULT_LIMITS: Required<Omit<Limits, 'gpus'>> = {
  timeoutMs: 2 * 60 * 60 * 1000,
  memoryBytes: 4 * 1024 ** 3,
  pids: 256,
};

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
