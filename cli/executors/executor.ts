// Where the cube tasks of a data owner's command run: here (local), or as jobs of the data owner's
// cluster (Slurm). An executor takes a chain of planned tasks (a model's infer and evaluate, a
// dataset's preparation) with its resources and returns what the chain returned; planning,
// caching, hashing and result records are the same on every executor, because the chain is the
// same code (cli/executors/chains.ts) wherever it runs.
import { MedperfError } from '../../registry/errors.ts';
import type { Limits } from '../runners/runner.ts';
import { type ChainInput, type ChainKind, type ChainOutput } from './chains.ts';

export type ExecutorName = 'local' | 'slurm' | 'kubernetes';
export const EXECUTORS: ExecutorName[] = ['local', 'slurm', 'kubernetes'];

/** What each cluster calls what it runs, for messages. */
export const JOB_WORD: Record<ExecutorName, string> = { local: 'task', slurm: 'Slurm job', kubernetes: 'Kubernetes Job' };

/** What a chain may use: from the command line and the profile, never from a cube record. */
export interface Resources {
  gpus?: string | number;
  memoryBytes?: number;
  cpus?: number;
  /** Per-task time limits (ms), MedPerf's --prepare-timeout ... --evaluate-timeout. */
  timeouts: Partial<Record<string, number>>;
  /** A Slurm partition. */
  partition?: string;
  /** Extra scheduler options, from the profile only. */
  schedulerOptions?: string[];
}

/** The limits each task of a chain runs with, as the local runner applies them. */
export function taskLimits(resources: Resources): { limits: Limits; taskLimits: Record<string, Limits> } {
  const limits: Limits = {
    ...(resources.gpus !== undefined ? { gpus: resources.gpus } : {}),
    ...(resources.memoryBytes ? { memoryBytes: resources.memoryBytes } : {}),
    ...(resources.cpus ? { cpus: resources.cpus } : {}),
  };
  const perTask = Object.fromEntries(Object.entries(resources.timeouts).flatMap(([task, ms]) => (ms ? [[task, { timeoutMs: ms }]] : [])));
  return { limits, taskLimits: perTask };
}

export interface ChainRequest<K extends ChainKind> {
  kind: K;
  input: ChainInput<K>;
  /** Who, for the job's name and progress lines: a model or dataset id. */
  label: string;
  /** Names the job in the state directory, so a later command re-attaches to it. */
  key: string;
  /** The tasks of the chain, for the job's time limit. */
  tasks: string[];
  resources: Resources;
  onStatus?: (line: string) => void;
  /**
   * Aborted when the command no longer needs this chain unless it has started (it stops at another
   * chain's failure): an executor that queued it ahead cancels it and throws ChainNotStartedError.
   */
  signal?: AbortSignal;
}

export interface ChainOutcome<K extends ChainKind> {
  value: ChainOutput<K>;
  /** The cluster job that ran it, when one did. */
  job?: string;
}

export interface Executor {
  readonly name: ExecutorName;
  /**
   * Takes every chain of a command at once and keeps to the number at once itself, in the
   * cluster's queue (Slurm): the command hands them all over instead of a few at a time.
   */
  readonly queuesAhead: boolean;
  run<K extends ChainKind>(request: ChainRequest<K>): Promise<ChainOutcome<K>>;
  /** Cancels the jobs this executor submitted or re-attached to that are still queued or running; returns their ids. */
  cancelAll(): Promise<string[]>;
}

export class ExecutorError extends MedperfError {}

/** A chain the command gave up before it started (see ChainRequest.signal): it did not run. */
export class ChainNotStartedError extends MedperfError {
  constructor(label: string, job?: string) {
    super('not-started', `${label} was not started${job ? ` (its job ${job} was cancelled while queued)` : ''}`);
  }
}

/** `--executor`'s description, shared by every command that runs cubes. */
export const EXECUTOR_OPTION = {
  description: 'local (default: cubes run on this machine), slurm (each chain of tasks is a Slurm job) or kubernetes (each task is a Kubernetes Job); the profile\'s `executor` sets another default',
} as const;
