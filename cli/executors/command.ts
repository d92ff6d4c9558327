// What every command that runs cubes shares: where they run (--runner, --executor), with what
// (--gpus, --memory, --cpus, per-task timeouts, --partition), the profile's defaults, and Ctrl-C
// cancelling what was submitted to a cluster.
import { readFile } from 'node:fs/promises';
import { Option, UsageError } from 'clipanion';
import yaml from 'js-yaml';
import { MedperfError } from '../../registry/errors.ts';
import { BaseCommand } from '../base.ts';
import { chooseRunner, RUNNER_OPTION } from '../execution.ts';
import { parseBytes, type Runner } from '../runners/runner.ts';
import { statePaths } from '../state.ts';
import { EXECUTOR_OPTION, EXECUTORS, type Executor, type ExecutorName, JOB_WORD, type Resources } from './executor.ts';
import { KubernetesExecutor, kubernetesClient } from './kubernetes.ts';
import { type KubernetesData, volumePath } from './kubernetes-manifests.ts';
import { LocalExecutor } from './local.ts';
import { checkSchedulerOptions, SlurmExecutor } from './slurm.ts';

/** The profile's executor settings (profile.yaml: `executor`, `slurm.partition`, `slurm.options`, `kubernetes.*`). */
export interface ExecutorProfile {
  executor?: ExecutorName;
  slurm?: { partition?: string; options?: string[] };
  kubernetes?: { namespace?: string; context?: string; data?: Partial<KubernetesData>; ttlSeconds?: number; probeImage?: string };
}

/** profile.yaml's `kubernetes:` section, each field checked. */
function kubernetesProfile(value: unknown, file: string): ExecutorProfile['kubernetes'] {
  if (value === undefined) return undefined;
  const bad = (field: string, what: string) => new MedperfError('bad-profile', `${file}: kubernetes${field ? `.${field}` : ''} must be ${what}`);
  const k = value as Record<string, unknown>;
  if (typeof k !== 'object' || k === null || Array.isArray(k)) throw bad('', 'a mapping');
  for (const field of ['namespace', 'context', 'probe_image'] as const) if (k[field] !== undefined && typeof k[field] !== 'string') throw bad(field, 'a string');
  if (k.ttl_seconds !== undefined && !(Number.isInteger(k.ttl_seconds) && (k.ttl_seconds as number) >= 0)) throw bad('ttl_seconds', 'a whole number of seconds');
  const data = (k.data ?? {}) as Record<string, unknown>;
  for (const field of ['claim', 'host_path', 'path'] as const) if (data[field] !== undefined && typeof data[field] !== 'string') throw bad(`data.${field}`, 'a string');
  if (data.claim && data.host_path) throw bad('data', 'either claim or host_path, not both');
  if (data.host_path !== undefined && !String(data.host_path).startsWith('/')) throw bad('data.host_path', 'an absolute path');
  return {
    ...(k.namespace ? { namespace: k.namespace as string } : {}),
    ...(k.context ? { context: k.context as string } : {}),
    ...(k.ttl_seconds !== undefined ? { ttlSeconds: k.ttl_seconds as number } : {}),
    ...(k.probe_image ? { probeImage: k.probe_image as string } : {}),
    data: { ...(data.claim ? { claim: data.claim as string } : {}), ...(data.host_path ? { hostPath: data.host_path as string } : {}), ...(data.path ? { path: data.path as string } : {}) },
  };
}

export async function readExecutorProfile(stateDir: string): Promise<ExecutorProfile> {
  const file = statePaths(stateDir).profile;
  const text = await readFile(file, 'utf8').catch(() => '');
  const data = (text ? yaml.load(text, { schema: yaml.CORE_SCHEMA }) : {}) as Record<string, unknown> | null;
  const executor = data?.executor;
  if (executor !== undefined && !EXECUTORS.includes(executor as ExecutorName)) throw new MedperfError('bad-profile', `${file}: executor must be one of ${EXECUTORS.join(', ')}`);
  const slurm = (data?.slurm ?? {}) as { partition?: unknown; options?: unknown };
  if (slurm.partition !== undefined && typeof slurm.partition !== 'string') throw new MedperfError('bad-profile', `${file}: slurm.partition must be a string`);
  if (slurm.options !== undefined && !(Array.isArray(slurm.options) && slurm.options.every((o) => typeof o === 'string'))) {
    throw new MedperfError('bad-profile', `${file}: slurm.options must be a list of --name=value strings`);
  }
  const kubernetes = kubernetesProfile(data?.kubernetes, file);
  return {
    ...(executor ? { executor: executor as ExecutorName } : {}),
    ...(kubernetes ? { kubernetes } : {}),
    slurm: {
      ...(slurm.partition ? { partition: slurm.partition as string } : {}),
      ...(slurm.options ? { options: checkSchedulerOptions(slurm.options as string[], `${file}: slurm.options`) } : {}),
    },
  };
}

/** A positive number typed for an option, or a usage error naming it. */
function positive(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${option} ${text}: give a positive number`);
  return n;
}
const TASKS = ['prepare', 'sanity_check', 'statistics', 'infer', 'evaluate'] as const;

export abstract class CubeCommand extends BaseCommand {
  runner = Option.String('--runner', 'docker', RUNNER_OPTION);
  executor = Option.String('--executor', { description: EXECUTOR_OPTION.description });
  gpus = Option.String('--gpus', { description: 'GPUs for the cubes: all, a number, or device=0,1 (on Slurm: a number)' });
  memory = Option.String('--memory', { description: 'Memory per task, e.g. 8g (default 4g)' });
  cpus = Option.String('--cpus', { description: 'CPUs per task (default: no limit locally, 1 on Slurm)' });
  prepareTimeout = Option.String('--prepare-timeout', { description: 'Stop prepare after this many seconds (default 7200)' });
  sanityCheckTimeout = Option.String('--sanity-check-timeout', { description: 'Stop sanity_check after this many seconds' });
  statisticsTimeout = Option.String('--statistics-timeout', { description: 'Stop statistics after this many seconds' });
  inferTimeout = Option.String('--infer-timeout', { description: 'Stop infer after this many seconds' });
  evaluateTimeout = Option.String('--evaluate-timeout', { description: 'Stop evaluate after this many seconds' });
  partition = Option.String('--partition', { description: 'The Slurm partition (default: the profile\'s, then the cluster\'s default)' });
  namespace = Option.String('--namespace', { description: 'The Kubernetes namespace (default: the profile\'s kubernetes.namespace, then the kubeconfig context\'s)' });

  /** Timeouts for every task, when a command has one option for all (test run's --timeout). */
  protected defaultTimeoutMs?: number;

  async resources(): Promise<Resources> {
    const profile = await readExecutorProfile(this.stateDir);
    const given: Record<(typeof TASKS)[number], number | undefined> = {
      prepare: positive(this.prepareTimeout, '--prepare-timeout'),
      sanity_check: positive(this.sanityCheckTimeout, '--sanity-check-timeout'),
      statistics: positive(this.statisticsTimeout, '--statistics-timeout'),
      infer: positive(this.inferTimeout, '--infer-timeout'),
      evaluate: positive(this.evaluateTimeout, '--evaluate-timeout'),
    };
    const timeouts = Object.fromEntries(TASKS.flatMap((task) => {
      const s = given[task];
      const ms = s !== undefined ? s * 1000 : this.defaultTimeoutMs;
      return ms ? [[task, ms]] : [];
    }));
    return {
      ...(this.gpus !== undefined ? { gpus: this.gpus } : {}),
      ...(this.memory !== undefined ? { memoryBytes: parseBytes(this.memory, '--memory') } : {}),
      ...(this.cpus !== undefined ? { cpus: positive(this.cpus, '--cpus') } : {}),
      timeouts,
      ...(this.partition ?? profile.slurm?.partition ? { partition: this.partition ?? profile.slurm?.partition } : {}),
      ...(profile.slurm?.options ? { schedulerOptions: profile.slurm.options } : {}),
    };
  }

  /** The runner and executor the command asked for (or the profile's executor); `atOnce`: how many chains run at once (`run --jobs`). */
  async chooseExecutor(options: { atOnce?: number } = {}): Promise<{ runner: Runner; executor: Executor }> {
    const profile = await readExecutorProfile(this.stateDir);
    const name = this.executor ?? profile.executor ?? 'local';
    if (!EXECUTORS.includes(name as ExecutorName)) throw new UsageError(`--executor ${name}: say ${EXECUTORS.join(' or ')}`);
    const runner = await chooseRunner(this.runner, this.stateDir, (line) => this.warn(line));
    if (name === 'slurm') return { runner, executor: new SlurmExecutor(this.stateDir, runner.name, { env: this.context.env, ...(options.atOnce ? { atOnce: options.atOnce } : {}) }) };
    if (name === 'kubernetes') return { runner, executor: await this.kubernetesExecutor(profile.kubernetes ?? {}) };
    return { runner, executor: new LocalExecutor(this.stateDir, runner) };
  }

  /** The Kubernetes executor: the kubeconfig's cluster, the namespace and data volume from the options and the profile. */
  private async kubernetesExecutor(profile: NonNullable<ExecutorProfile['kubernetes']>): Promise<Executor> {
    if (this.runner !== 'docker') throw new UsageError(`--runner ${this.runner}: on Kubernetes the cluster runs the cube's image; leave --runner out`);
    const client = await kubernetesClient(this.context.env, profile.context);
    const namespace = this.namespace ?? profile.namespace ?? client.config.getContextObject(client.config.getCurrentContext())?.namespace ?? 'default';
    const data = profile.data ?? {};
    if (!data.claim && !data.hostPath) {
      throw new UsageError(`--executor kubernetes: name the volume the pods read and write in ${statePaths(this.stateDir).profile}: kubernetes.data.claim (a PersistentVolumeClaim) or kubernetes.data.host_path (a folder on the nodes), and kubernetes.data.path (where it is on this machine; default the state directory)`);
    }
    const volume = { ...data, path: data.path ?? this.stateDir };
    // Every task reads and writes under the state directory: the pods must see it, said before anything is submitted.
    volumePath(volume, this.stateDir);
    return new KubernetesExecutor(this.stateDir, { namespace, data: volume, ...(profile.ttlSeconds !== undefined ? { ttlSeconds: profile.ttlSeconds } : {}), ...(profile.probeImage ? { probeImage: profile.probeImage } : {}) }, client);
  }

  /**
   * Runs `work`; Ctrl-C (or SIGTERM) during it cancels the cluster jobs the executor submitted,
   * says which, and ends the command with 130.
   */
  async cancellable<T>(executor: Executor, work: () => Promise<T>): Promise<T> {
    if (executor.name === 'local') return work();
    let interrupted: Promise<never> | undefined;
    let onSignal: (signal: NodeJS.Signals) => void = () => {};
    const stop = new Promise<never>((_, reject) => {
      onSignal = (signal) => {
        interrupted ??= executor.cancelAll().then((ids) => {
          const word = JOB_WORD[executor.name];
          this.warn(ids.length ? `Interrupted (${signal}): cancelled ${word}${ids.length === 1 ? '' : 's'} ${ids.join(', ')}.` : `Interrupted (${signal}): no ${word} was running.`);
          throw new InterruptedError(signal);
        });
        interrupted.catch(reject);
      };
    });
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      return await Promise.race([work(), stop]);
    } finally {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    }
  }
}

export class InterruptedError extends MedperfError {
  /** The shell's code for a command ended by a signal. */
  readonly exitCode = 130;

  constructor(readonly signal: NodeJS.Signals) {
    super('interrupted', `interrupted by ${signal}; a later run resumes what finished`);
  }
}
