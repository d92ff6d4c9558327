// The Slurm executor: each chain (a model's infer and evaluate, a dataset's preparation) is one
// `sbatch` job whose script re-enters medperf-git on the compute node (`medperf-git job run`),
// which runs the chain through the same hardened container runner as a local run, with the job's
// allocation (CPUs, memory, GPUs) applied to the container itself: Docker places containers under
// dockerd, outside the job's cgroup. Cancelling the job (scancel, its time limit, preemption)
// signals that process, which stops and removes the container.
//
// The job, its spec and its outcome live under <state>/jobs/<key>/ on storage the nodes share, so
// a CLI that was killed comes back, re-attaches to jobs still queued or running, and collects the
// finished ones; only what is missing is submitted again.
//
// A command's jobs are all submitted at once, so each already waits in Slurm's queue when a place
// frees: `run --jobs N` becomes N lanes, each job depending (afterany) on the one before it in its
// lane, and the first ones queue behind the probe job (afterok) that checks the state directory is
// visible on the nodes. The probe runs through srun, allocated at once, and holds its allocation
// until the first jobs are queued behind it, so its end starts them. Slurm, not the CLI, then keeps
// to N at a time and starts the next job as soon as one ends.
import { execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, type FSWatcher, watch } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../../registry/errors.ts';
import { packagePath } from '../../registry/package-root.ts';
import { DEFAULT_LIMITS, lastLines, type RunnerName } from '../runners/runner.ts';
import { statePaths } from '../state.ts';
import type { ChainKind } from './chains.ts';
import { ChainNotStartedError, type ChainOutcome, type ChainRequest, type Executor, ExecutorError, taskLimits } from './executor.ts';
import { withLimits } from './local.ts';

const run = promisify(execFile);

/** What a job writes when its chain ends: the chain's value, or its error. */
export interface JobOutcome {
  job: string;
  ok: boolean;
  value?: unknown;
  error?: { code: string; message: string; task?: string };
}

/** What the job on the node reads: the chain, its input, and the runner to run it with. */
export interface JobSpec {
  kind: ChainKind;
  input: unknown;
  label: string;
  stateDir: string;
  runner: RunnerName;
}

/** A chain that stopped on the cluster: the task that failed when it is known. */
export class ChainFailedError extends MedperfError {
  constructor(
    code: string,
    message: string,
    readonly task?: string,
  ) {
    super(code, message);
  }
}

const ACTIVE = new Set(['PENDING', 'RUNNING', 'CONFIGURING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'RESIZING', 'STAGE_OUT', 'SIGNALING']);

/** Options a profile may add to sbatch; those that would change where or as whom the job runs, or what it runs, are refused. */
const REFUSED_OPTIONS = /^--(wrap|output|error|input|chdir|export|export-file|uid|gid|get-user-env|container|wckey=.*\/|array|dependency)(=|$)/;

export function checkSchedulerOptions(options: string[], where: string): string[] {
  for (const option of options) {
    if (!/^--[a-z][a-z-]*(=[^\s]*)?$/.test(option)) throw new ExecutorError('bad-scheduler-option', `${where}: ${JSON.stringify(option)}: scheduler options are --name=value, one per entry`);
    if (REFUSED_OPTIONS.test(option)) throw new ExecutorError('bad-scheduler-option', `${where}: ${option} is decided by medperf-git, not by a profile`);
  }
  return options;
}

/** Slurm's --time for a chain: the sum of its tasks' timeouts and a minute to start and stop, in minutes. */
export function jobMinutes(tasks: string[], timeouts: Partial<Record<string, number>>): number {
  const ms = tasks.reduce((sum, task) => sum + (timeouts[task] ?? DEFAULT_LIMITS.timeoutMs), 0);
  return Math.ceil(ms / 60_000) + 1;
}

/** The sbatch arguments of a chain: its resources from the command line, then the profile's options. */
export function sbatchArgs<K extends ChainKind>(request: ChainRequest<K>, dir: string): string[] {
  const r = request.resources;
  const gres = r.gpus === undefined || r.gpus === 0 || r.gpus === '0' ? [] : /^\d+$/.test(String(r.gpus)) ? [`--gres=gpu:${r.gpus}`] : [];
  if (r.gpus !== undefined && !gres.length && r.gpus !== 0 && r.gpus !== '0') {
    throw new ExecutorError('invalid-gpus', `--gpus ${r.gpus}: on Slurm, give a number of GPUs (the scheduler chooses which)`);
  }
  return [
    '--parsable',
    `--job-name=medperf-git:${request.label}`,
    `--output=${join(dir, 'slurm-%j.log')}`,
    `--chdir=${dir}`,
    `--cpus-per-task=${Math.max(1, Math.ceil(r.cpus ?? 1))}`,
    ...(r.memoryBytes ? [`--mem=${Math.ceil(r.memoryBytes / 1024 ** 2)}M`] : []),
    `--time=${jobMinutes(request.tasks, r.timeouts)}`,
    ...gres,
    ...(r.partition ? [`--partition=${r.partition}`] : []),
    // sbatch runs with jobEnvironment(env) only, all of which the job gets: a list of variables or
    // NONE would have slurmd load the user's login environment on the node (as --get-user-env
    // does), a login shell before every job, one job after the other.
    '--export=ALL',
    ...(r.schedulerOptions ?? []),
  ];
}

/** The variables a job gets from the submitting command: these, and Slurm's own (SLURM_*, SBATCH_*); no token of the data owner's. */
const JOB_VARIABLES = new Set(['PATH', 'HOME', 'LANG', 'DOCKER_HOST', 'TZ']);

export function jobEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([k, v]) => v !== undefined && (JOB_VARIABLES.has(k) || /^(SLURM|SBATCH)_/.test(k))));
}

/** A word for sh, quoted. */
const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The job script: checks the state directory is visible on the node, says the job started and where
 * (so the submitting command need not ask the scheduler), then re-enters medperf-git there.
 */
export function jobScript(specFile: string): string {
  // The job's own entry, bundled by `npm run build` (cli/job.ts); the CLI's when it was not built.
  const bundled = packagePath('build', 'job', 'job.js');
  const bin = existsSync(bundled) ? bundled : packagePath('bin', 'medperf-git.js');
  const q = shellQuote;
  return [
    '#!/bin/sh',
    '# A medperf-git chain of cube tasks, submitted by `medperf-git run`.',
    `if [ ! -r ${q(specFile)} ]; then`,
    `  echo "medperf-git: ${specFile.replace(/["$`\\]/g, '\\$&')} is not visible on $(hostname): the state directory must be on storage the compute nodes share (MEDPERF_GIT_HOME)" >&2`,
    '  exit 3',
    'fi',
    // Written whole, then renamed into place: the submitting command, watching the folder, never reads half of it.
    `printf '{"job":"%s","node":"%s"}\\n' "$SLURM_JOB_ID" "$SLURMD_NODENAME" > ${q(join(dirname(specFile), 'started.json.partial'))}`,
    `mv -f ${q(join(dirname(specFile), 'started.json.partial'))} ${q(join(dirname(specFile), 'started.json'))}`,
    `exec ${q(process.execPath)} ${q(bin)} job run ${q(specFile)}`,
    '',
  ].join('\n');
}

/** What the probe job asks for, through srun or sbatch: a minute, a CPU, a little memory, where the command's jobs run. */
function probeOptions(resources: ChainRequest<ChainKind>['resources']): string[] {
  return ['--job-name=medperf-git:probe', '--time=1', '--cpus-per-task=1', '--mem=16M', ...(resources.partition ? [`--partition=${resources.partition}`] : []), '--export=ALL', ...(resources.schedulerOptions ?? [])];
}

/** A job file's content; undefined while it is missing or not yet whole (a job writes it on another node). */
async function readJson<T>(file: string): Promise<T | undefined> {
  const text = await readFile(file, 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/**
 * Waits for a change in `dir` or `ms`, whichever comes first: on a local file system a job's files
 * are seen as soon as they are written; on shared storage, whose changes made on other nodes raise
 * no event here, `ms` bounds the wait. Returns the waiter and how to stop watching.
 */
function folderChanges(dir: string): { next: (ms: number) => Promise<void>; close: () => void } {
  let wake: (() => void) | undefined;
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(dir, () => wake?.());
    watcher.on('error', () => {});
  } catch {
    // No watching here (the folder went, or the platform has none): the timer alone.
  }
  return {
    next: (ms) =>
      new Promise<void>((resolve) => {
        let timer = setTimeout(() => done(), ms);
        const done = () => {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        };
        // A burst of changes (a job's log being written) wakes the waiter once.
        wake = () => {
          clearTimeout(timer);
          wake = undefined;
          timer = setTimeout(done, 5);
        };
      }),
    close: () => watcher?.close(),
  };
}

export interface SlurmSettings {
  /** The environment sbatch, squeue and scancel see (SLURM_CONF). */
  env?: NodeJS.ProcessEnv;
  /** How often the job's files (its start, its outcome) are read. */
  pollMs?: number;
  /** How often the scheduler is asked about the job. */
  stateEveryMs?: number;
  /**
   * How many of this executor's jobs run at once (`run --jobs`), kept by Slurm: each job waits for
   * the one this many places before it. Unset: as many as the cluster gives.
   */
  atOnce?: number;
}

export class SlurmExecutor implements Executor {
  readonly name = 'slurm' as const;
  readonly queuesAhead = true;
  private readonly jobs = new Set<string>();
  /** The last job of each lane (settings.atOnce of them), while it is queued or running. */
  private readonly lanes: Array<string | undefined> = [];
  /** Chains handed over and not yet submitted (or re-attached, or given up). */
  private waitingToSubmit = 0;
  /**
   * While the probe job holds its allocation: released once the first jobs are queued behind it
   * (one per lane) or nothing more is waiting to be queued, so its end starts them at once.
   */
  private probeHold?: { released: Promise<void>; release: () => void; dependents: number };
  /** Submissions one after the other, in the order the chains came, so each knows the job it waits for. */
  private submitting: Promise<void> = Promise.resolve();

  constructor(
    readonly stateDir: string,
    readonly runner: RunnerName,
    readonly settings: SlurmSettings = {},
  ) {}

  private async slurm(command: string, args: string[]): Promise<string> {
    const env = this.settings.env ?? process.env;
    try {
      const { stdout } = await run(command, args, { env: command === 'sbatch' ? jobEnvironment(env) : env, timeout: 60_000 });
      return stdout;
    } catch (error) {
      const e = error as NodeJS.ErrnoException & { stderr?: string };
      if (e.code === 'ENOENT') throw new ExecutorError('slurm-missing', `${command} is not on this machine's PATH: run from a Slurm login node, or use --executor local`);
      throw new ExecutorError('slurm-failed', `${command} ${args.join(' ')}: ${(e.stderr ?? e.message).trim()}`);
    }
  }

  /** The job's state and node: from squeue while Slurm holds it, then from the job completion log. */
  async jobState(id: string): Promise<{ state: string; node: string; exitCode?: string } | undefined> {
    const queued = await this.slurm('squeue', ['-h', '-j', id, '-o', '%T|%N']).catch(() => '');
    const line = queued.trim().split('\n')[0];
    if (line) {
      const [state, node] = line.split('|');
      return { state: state!, node: node ?? '' };
    }
    const done = await this.slurm('sacct', ['-c', '-n', '-P', '-j', id, '-o', 'State,ExitCode,NodeList']).catch(() => '');
    const row = done.trim().split('\n')[0];
    if (!row) return undefined;
    const [state, exitCode, node] = row.split('|');
    return { state: state!.split(' ')[0]!, node: node ?? '', exitCode };
  }

  async run<K extends ChainKind>(request: ChainRequest<K>): Promise<ChainOutcome<K>> {
    const status = (line: string) => request.onStatus?.(`${request.label} ${line}`);
    const dir = join(statePaths(this.stateDir).root, 'jobs', request.key);
    const files = { spec: join(dir, 'spec.json'), script: join(dir, 'job.sh'), record: join(dir, 'job.json'), outcome: join(dir, 'outcome.json') };
    // Jobs are queued in the order their chains were handed over: each submission waits for the one before.
    const turn = this.submitting;
    let release: () => void = () => {};
    this.submitting = new Promise<void>((resolve) => (release = resolve));
    this.waitingToSubmit++;
    let id: string | undefined;
    // Why a job still queued is given up: the probe found the state directory not visible.
    let refused: Error | undefined;
    try {
      await mkdir(dir, { recursive: true });
      const recorded = await readJson<{ id: string }>(files.record);
      if (recorded) {
        const state = await this.jobState(recorded.id);
        // Still queued or running: wait for it. Ended: the chain runs again, reusing what it finished.
        if (state && ACTIVE.has(state.state)) {
          id = recorded.id;
          this.occupyLane(id);
          status(`re-attached to Slurm job ${id} (${state.state.toLowerCase()})`);
        }
      }
      if (!id) {
        if (request.signal?.aborted) throw new ChainNotStartedError(request.label);
        const visible = this.checkVisible(request.resources);
        visible.catch((error: Error) => (refused = error));
        // Queued behind the probe job as soon as it is submitted; or after the check, when none was
        // needed or it has succeeded already (Slurm forgets ended jobs after a while).
        const checked = visible.then(() => true);
        const probe = await Promise.race([this.probeSubmitted(), checked.then(() => undefined)]);
        const behind = (await Promise.race([checked, Promise.resolve(false)])) ? undefined : probe;
        const { limits, taskLimits: perTask } = taskLimits(request.resources);
        const spec: JobSpec = { kind: request.kind, input: withLimits(request.kind, request.input, limits, perTask), label: request.label, stateDir: this.stateDir, runner: this.runner };
        await rm(files.outcome, { force: true });
        await rm(join(dir, 'started.json'), { force: true });
        await writeFileAtomic(files.spec, JSON.stringify(spec) + '\n');
        await writeFile(files.script, jobScript(files.spec), { mode: 0o755 });
        const submitted = await this.submit(sbatchArgs(request, dir), files.script, behind, turn);
        id = submitted.id;
        this.jobs.add(id);
        await writeFileAtomic(files.record, JSON.stringify({ id, submitted_at: new Date().toISOString(), label: request.label, after: submitted.after }) + '\n');
        status(`submitted as Slurm job ${id}`);
      }
    } finally {
      this.waitingToSubmit--;
      this.releaseProbeWhenQueued();
      release();
    }
    if (!id) throw new ExecutorError('slurm-failed', `no job was submitted for ${request.label}`);
    this.jobs.add(id);
    try {
      const giveUp = () => refused ?? (request.signal?.aborted ? new ChainNotStartedError(request.label, id!) : undefined);
      const final = await this.wait(id, request, status, files.outcome, giveUp);
      return await this.collect(id, final, files.outcome, join(dir, `slurm-${id}.log`), request.label);
    } finally {
      this.jobs.delete(id);
      const lane = this.lanes.indexOf(id);
      if (lane >= 0) this.lanes[lane] = undefined;
    }
  }

  /**
   * Submits a job script, one submission at a time: behind the probe job when one is running, and
   * in a lane, behind the lane's last job, when settings.atOnce is set. Returns the job and what it waits for.
   */
  private async submit(args: string[], script: string, probe: string | undefined, turn: Promise<void>): Promise<{ id: string; after: string[] }> {
    await turn;
    const atOnce = this.settings.atOnce;
    let lane: number | undefined;
    if (atOnce) {
      // A free lane when there is one, else the one whose last job was submitted first.
      for (let i = 0; i < atOnce && lane === undefined; i++) if (this.lanes[i] === undefined) lane = i;
      lane ??= this.laneOrder.shift()!;
    }
    const before = lane === undefined ? undefined : this.lanes[lane];
    const after = [...(probe ? [probe] : []), ...(before ? [before] : [])];
    const dependency = [...(probe ? [`afterok:${probe}`] : []), ...(before ? [`afterany:${before}`] : [])];
    const answer = await this.slurm('sbatch', [...args, ...(dependency.length ? [`--dependency=${dependency.join(',')}`] : []), script]);
    const id = answer.trim().split(';')[0]!;
    if (!/^\d+$/.test(id)) throw new ExecutorError('slurm-failed', `sbatch answered ${JSON.stringify(id)}, not a job id`);
    if (probe && this.probeHold) this.probeHold.dependents++;
    if (lane !== undefined) {
      this.lanes[lane] = id;
      this.laneOrder = [...this.laneOrder.filter((l) => l !== lane), lane];
    }
    return { id, after };
  }

  /** Lets the probe job end once a job waits behind it in every lane, or nothing more is to be queued. */
  private releaseProbeWhenQueued(): void {
    const hold = this.probeHold;
    if (hold && (hold.dependents >= (this.settings.atOnce ?? 1) || this.waitingToSubmit === 0)) hold.release();
  }

  /** Lanes in the order their last job was submitted, the oldest first. */
  private laneOrder: number[] = [];

  /** A job re-attached to takes a free lane, so the jobs submitted after it wait for it. */
  private occupyLane(id: string): void {
    const atOnce = this.settings.atOnce ?? 0;
    for (let i = 0; i < atOnce; i++) {
      if (this.lanes[i] === undefined) {
        this.lanes[i] = id;
        this.laneOrder = [...this.laneOrder.filter((l) => l !== i), i];
        return;
      }
    }
  }

  /** Until the job ends: a progress line when its state changes. Bounded by its time limit and a day in the queue. */
  private async wait<K extends ChainKind>(
    id: string,
    request: ChainRequest<K>,
    status: (line: string) => void,
    outcomeFile: string,
    giveUp: () => Error | undefined,
  ): Promise<{ state: string; node: string; exitCode?: string }> {
    const deadline = Date.now() + jobMinutes(request.tasks, request.resources.timeouts) * 60_000 + 24 * 3600_000;
    let shown = '';
    let unknown = 0;
    let started = false;
    // The job's files say first when it starts and ends; the scheduler is asked only after a while.
    let asked = Date.now();
    const startedFile = join(dirname(outcomeFile), 'started.json');
    const show = (line: string) => line !== shown && status((shown = line));
    const changes = folderChanges(dirname(outcomeFile));
    try {
      while (Date.now() < deadline) {
        // The chain wrote its outcome: the job is ending, nothing more to wait for.
        const written = await readJson<JobOutcome>(outcomeFile);
        if (written?.job === id) {
          const node = /running on (\S+)/.exec(shown)?.[1] || (await this.jobState(id))?.node || 'unknown-node';
          return { state: written.ok ? 'COMPLETED' : 'FAILED', node };
        }
        // Files on the shared state directory are cheap to read; the scheduler is asked only every few
        // seconds, to learn of a job that ended without an outcome (cancelled, past its time, its node lost).
        const start = await readJson<{ job: string; node: string }>(startedFile);
        if (start?.job === id) {
          started = true;
          show(`running on ${start.node || 'a node'} (Slurm job ${id})`);
        }
        const reason = started ? undefined : giveUp();
        if (reason) {
          // Only a job still pending is cancelled; one that just started runs on, and is waited for.
          await this.slurm('scancel', ['--state=PENDING', id]).catch(() => '');
          const state = await this.jobState(id);
          if (!state || state.state === 'CANCELLED' || state.state === 'PENDING') {
            if (state?.state === 'PENDING') await this.slurm('scancel', [id]).catch(() => '');
            throw reason;
          }
          started = true;
        }
        if (Date.now() - asked < (this.settings.stateEveryMs ?? 2000)) {
          await changes.next(this.settings.pollMs ?? 100);
          continue;
        }
        asked = Date.now();
        const state = await this.jobState(id);
        if (!state) {
          // Just submitted, or purged: a few empty answers are normal.
          if (++unknown > 20) throw new ExecutorError('slurm-job-lost', `Slurm knows nothing of job ${id} (${request.label}); run again to submit it anew`);
        } else {
          unknown = 0;
          if (!ACTIVE.has(state.state) || state.state === 'COMPLETING') {
            if (state.state !== 'COMPLETING') return state;
          }
          if (state.state === 'PENDING') show(`queued (Slurm job ${id})`);
          else if (state.state === 'RUNNING') show(`running on ${state.node} (Slurm job ${id})`);
          else if (!/^running on /.test(shown)) show(`${state.state.toLowerCase()} (Slurm job ${id})`);
        }
        await changes.next(this.settings.pollMs ?? 100);
      }
    } finally {
      changes.close();
    }
    throw new ExecutorError('slurm-job-waited-too-long', `Slurm job ${id} (${request.label}) has not ended; it is still in the queue, and a later run re-attaches to it`);
  }

  private async collect<K extends ChainKind>(id: string, final: { state: string; node: string; exitCode?: string }, outcomeFile: string, log: string, label: string): Promise<ChainOutcome<K>> {
    const outcome = await readJson<JobOutcome>(outcomeFile);
    if (outcome && outcome.job === id) {
      if (outcome.ok) return { value: outcome.value as ChainOutcome<K>['value'], job: id };
      const e = outcome.error!;
      throw new ChainFailedError(e.code, `${e.message}\n(Slurm job ${id} on ${final.node}; its log: ${log})`, e.task);
    }
    const tail = (await lastLines(log, 10)).map((l) => `  | ${l}`).join('\n');
    const where = `Slurm job ${id} (${label})`;
    if (final.state === 'TIMEOUT') throw new ChainFailedError('job-time-limit', `${where} exceeded its time limit and was stopped, its container with it; its log: ${log}`);
    if (final.state === 'CANCELLED') throw new ChainFailedError('job-cancelled', `${where} was cancelled, and its container removed; its log: ${log}`);
    // The job script's own check: the spec was not readable on the node (nor the log writable there).
    if (final.state === 'COMPLETED' || final.exitCode?.startsWith('3:')) {
      throw new ChainFailedError('state-not-shared', `${where} finished but its outcome is not in ${outcomeFile}: the state directory must be on storage the compute nodes share (MEDPERF_GIT_HOME)`);
    }
    throw new ChainFailedError('job-failed', `${where} ended ${final.state.toLowerCase()}${tail ? `:\n${tail}` : ''}\nits log: ${log}`);
  }

  private visible?: Promise<void>;
  /** The probe job's id once it is submitted, for jobs to queue behind. */
  private probeJob?: { id: Promise<string>; submitted: (id: string) => void };

  private probeSubmitted(): Promise<string> {
    if (!this.probeJob) {
      let submitted: (id: string) => void = () => {};
      const id = new Promise<string>((resolve) => (submitted = resolve));
      this.probeJob = { id, submitted };
    }
    return this.probeJob.id;
  }

  /**
   * Before the first job of a command: the state directory must be visible where Slurm runs jobs,
   * or every job would fail on its node. A probe job (on the same partition, with the profile's
   * options) reads a token written here; jobs submitted meanwhile wait for it to succeed (afterok),
   * and are cancelled before they start if it does not. A success is remembered for a day.
   */
  checkVisible(resources: ChainRequest<ChainKind>['resources']): Promise<void> {
    this.visible ??= (async () => {
      const dir = join(statePaths(this.stateDir).root, 'jobs', 'probe');
      const key = JSON.stringify([resources.partition ?? '', resources.schedulerOptions ?? []]);
      const seen = join(dir, 'visible.json');
      const last = await readFile(seen, 'utf8').then((t) => JSON.parse(t) as { key: string; checked_at: string }, () => undefined);
      if (last?.key === key && Date.now() - Date.parse(last.checked_at) < 24 * 3600_000) return;
      await mkdir(dir, { recursive: true });
      const nonce = randomBytes(16).toString('hex');
      const token = join(dir, `token-${nonce}`);
      await writeFile(token, nonce);
      let release: () => void = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      // Never held for long: a command that queues nothing behind it lets it go after a few seconds.
      const timer = setTimeout(release, 5000);
      timer.unref();
      this.probeHold = { released, release, dependents: 0 };
      try {
        this.probeSubmitted();
        const { visible, node } = await this.probe(token, nonce, resources, this.probeJob!.submitted, released);
        if (!visible) {
          const queued = [...this.jobs].length;
          throw new ExecutorError(
            'state-not-shared',
            `the state directory ${this.stateDir} is not visible on ${node || 'the node'} where Slurm runs jobs: put it on storage the compute nodes share (MEDPERF_GIT_HOME), or use --executor local; ${queued ? 'the jobs queued behind the check were cancelled before they started' : 'nothing was submitted'}`,
          );
        }
        await writeFileAtomic(seen, JSON.stringify({ key, node, checked_at: new Date().toISOString() }) + '\n');
      } finally {
        clearTimeout(timer);
        this.probeHold = undefined;
        await rm(token, { force: true });
      }
    })();
    return this.visible;
  }

  /**
   * Runs the probe job: does its node read `token` holding `nonce`? A node that does answers in a
   * file beside the token, seen here as soon as it is written; one that does not fails the job,
   * which the scheduler says. `submitted` is told the probe's job id as soon as it has one.
   */
  async probe(
    token: string,
    nonce: string,
    resources: ChainRequest<ChainKind>['resources'],
    submitted: (id: string) => void = () => {},
    released: Promise<void> = Promise.resolve(),
  ): Promise<{ visible: boolean; node: string }> {
    return (await this.probeInteractive(token, nonce, resources, submitted, released)) ?? this.probeBatch(token, nonce, resources, submitted);
  }

  /**
   * The probe through srun: an interactive allocation, which a cluster with room gives at once,
   * where a batch job waits for slurmctld's next scheduling pass (up to a second). It says its job
   * id and its answer on its output, then holds its allocation until `released` (the command has
   * queued the jobs that wait for it), so that its end, reported by the node's Epilog, starts them at
   * once. Its job ends successfully only when the node read the token. Undefined when srun could
   * not run it (no srun, or a node that cannot reach this machine for its output): the batch probe
   * is used instead.
   */
  private async probeInteractive(
    token: string,
    nonce: string,
    resources: ChainRequest<ChainKind>['resources'],
    submitted: (id: string) => void,
    released: Promise<void>,
  ): Promise<{ visible: boolean; node: string } | undefined> {
    const env = this.settings.env ?? process.env;
    // Inside a Slurm allocation (a command run from salloc or a batch job) srun would run a step
    // of that allocation, not a job of its own that the others could wait for.
    if (env.SLURM_JOB_ID || env.SLURM_JOBID) return undefined;
    const q = shellQuote;
    const script =
      `printf 'job %s\\n' "$SLURM_JOB_ID"; read -r seen < ${q(token)} 2>/dev/null; ` +
      `if [ "$seen" = ${q(nonce)} ]; then v=visible; else v=absent; fi; printf '%s %s\\n' "$v" "$SLURMD_NODENAME"; read -r go; [ "$v" = visible ]`;
    const args = ['--ntasks=1', ...probeOptions(resources), '/bin/sh', '-c', script];
    const child = spawn('srun', args, { env: jobEnvironment(env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    child.stdin.on('error', () => {});
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', () => resolve(null));
      child.once('close', (code) => resolve(code));
    });
    let id: string | undefined;
    let answer: { visible: boolean; node: string } | undefined;
    for await (const line of createInterface({ input: child.stdout })) {
      const [word, value = ''] = line.trim().split(' ', 2);
      if (word === 'job' && /^\d+$/.test(value) && !id) {
        id = value;
        this.jobs.add(id);
        submitted(id);
      } else if (id && (word === 'visible' || word === 'absent')) {
        answer = { visible: word === 'visible', node: value };
        break;
      }
    }
    if (!id) {
      // srun ran nothing of ours: nothing waits behind it.
      child.kill();
      await exited;
      return undefined;
    }
    try {
      if (answer) {
        await released;
        child.stdin.end('go\n');
      }
      const code = await exited;
      if (answer?.visible && code === 0) return answer;
      if (answer && !answer.visible) return answer;
      throw new ExecutorError('slurm-failed', `the probe job ${id} ended before it answered: ${stderr.trim() || `srun exited with ${code}`}`);
    } finally {
      this.jobs.delete(id);
    }
  }

  /**
   * The probe as a batch job: its node answers in a file beside the token, seen here as soon as it
   * is whole (written aside and renamed, so an answer being written is never read empty).
   */
  private async probeBatch(token: string, nonce: string, resources: ChainRequest<ChainKind>['resources'], submitted: (id: string) => void): Promise<{ visible: boolean; node: string }> {
    const q = shellQuote;
    const answer = `${token}.seen`;
    const script = `#!/bin/sh\n# Is medperf-git's state directory visible on this node?\nread -r seen < ${q(token)} 2>/dev/null; [ "$seen" = ${q(nonce)} ] || exit 3\nprintf '%s\\n' "$SLURMD_NODENAME" > ${q(`${answer}.partial`)} && mv -f ${q(`${answer}.partial`)} ${q(answer)}\n`;
    const args = ['--parsable', '--output=/dev/null', ...probeOptions(resources)];
    const dir = join(statePaths(this.stateDir).root, 'jobs', 'probe');
    await mkdir(dir, { recursive: true });
    const file = join(dir, `probe-${randomBytes(6).toString('hex')}.sh`);
    await writeFile(file, script, { mode: 0o755 });
    const id = (await this.slurm('sbatch', [...args, file])).trim().split(';')[0]!;
    await rm(file, { force: true });
    this.jobs.add(id);
    submitted(id);
    try {
      let asked = Date.now();
      for (let unknown = 0; ; ) {
        const node = await readFile(answer, 'utf8').then((t) => t.trim(), () => undefined);
        if (node !== undefined) return { visible: true, node };
        if (Date.now() - asked >= (this.settings.stateEveryMs ?? 1000)) {
          asked = Date.now();
          const state = await this.jobState(id);
          if (state && !ACTIVE.has(state.state)) {
            // Ended: its answer, if any, was written before it ended.
            const late = await readFile(answer, 'utf8').then((t) => t.trim(), () => undefined);
            return late !== undefined ? { visible: true, node: late } : { visible: false, node: state.node };
          }
          if (!state && ++unknown > 40) throw new ExecutorError('slurm-job-lost', `Slurm knows nothing of the probe job ${id}`);
        }
        await new Promise((r) => setTimeout(r, this.settings.pollMs ?? 100));
      }
    } finally {
      this.jobs.delete(id);
      await Promise.all([rm(answer, { force: true }), rm(`${answer}.partial`, { force: true })]);
    }
  }

  async cancelAll(): Promise<string[]> {
    const ids = [...this.jobs];
    if (ids.length) await this.slurm('scancel', ids).catch(() => '');
    return ids;
  }
}
