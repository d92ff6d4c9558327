// The Kubernetes executor: each cube task of a chain is a Job on the data owner's cluster (see
// kubernetes-manifests.ts for what the Job holds), submitted, watched, its log read and, on Ctrl-C,
// deleted through @kubernetes/client-node with the user's kubeconfig. The chain itself (planning,
// caching, partial folders renamed into place, hashing) runs here, as on the local executor, on
// files the pods see through the volume the data owner names.
//
// Each Job is recorded under <state>/jobs/kubernetes/, named by the folder its task ends in: a
// command killed while a Job runs leaves it running, and the next one re-attaches to it (or takes
// what it finished meanwhile) instead of running the task again.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { BatchV1Api, CoreV1Api, KubeConfig, Log, NetworkingV1Api, V1Job, V1Pod, Watch } from '@kubernetes/client-node';
import writeFileAtomic from 'write-file-atomic';
import { outputDirs } from '../cube/plan.ts';
import { containerUser, createOutputs, handOutputsBack, runOwner } from '../runners/docker.ts';
import { pullReferences } from '../runners/docker-pull.ts';
import { closeLog, type CubeImage, DEFAULT_LIMITS, finishTask, openLog, type RunRequest, type RunResult, type Runner } from '../runners/runner.ts';
import { statePaths } from '../state.ts';
import { type ChainKind, runChain } from './chains.ts';
import { type ChainOutcome, type ChainRequest, type Executor, ExecutorError, taskLimits } from './executor.ts';
import { jobManifest, type KubernetesSettings, LABELS, networkPolicyManifest, probeJobManifest } from './kubernetes-manifests.ts';
import { withLimits } from './local.ts';

/** The API clients of one kubeconfig context. */
export interface KubernetesClient {
  config: KubeConfig;
  batch: BatchV1Api;
  core: CoreV1Api;
  networking: NetworkingV1Api;
  watch: Watch;
  log: Log;
  /** Request options that send a body as a JSON merge patch. */
  mergePatch: Parameters<BatchV1Api['patchNamespacedJob']>[1];
}

/** The user's kubeconfig ($KUBECONFIG, else ~/.kube/config, else the pod's service account), at `context` when given. */
export async function kubernetesClient(env: NodeJS.ProcessEnv, context?: string): Promise<KubernetesClient> {
  // Loaded only when a command runs on Kubernetes: the client is large, and start-up counts.
  const k8s = await import('@kubernetes/client-node');
  const config = new k8s.KubeConfig();
  const file = env.KUBECONFIG?.split(':').find(Boolean);
  try {
    if (file) config.loadFromFile(file);
    else config.loadFromDefault();
    if (context) config.setCurrentContext(context);
  } catch (error) {
    throw new ExecutorError('kubeconfig', `cannot read the kubeconfig${file ? ` ${file}` : ''}: ${(error as Error).message}`);
  }
  if (!config.getCurrentCluster()) throw new ExecutorError('kubeconfig', `no Kubernetes cluster in the kubeconfig${file ? ` ${file}` : ''}${context ? ` for context ${context}` : ''}: set KUBECONFIG, or kubernetes.context in the profile`);
  return {
    config,
    batch: config.makeApiClient(k8s.BatchV1Api),
    core: config.makeApiClient(k8s.CoreV1Api),
    networking: config.makeApiClient(k8s.NetworkingV1Api),
    watch: new k8s.Watch(config),
    log: new k8s.Log(config),
    mergePatch: k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
  };
}

/** An API error as a sentence: what was asked, what the server said, and for 403 what the user needs. */
function apiError(error: unknown, what: string, namespace: string): ExecutorError {
  const e = error as { code?: number; body?: unknown; message?: string; cause?: { code?: string } };
  let message = e.message ?? String(error);
  try {
    message = (typeof e.body === 'string' ? (JSON.parse(e.body) as { message?: string }) : (e.body as { message?: string }))?.message ?? message;
  } catch {}
  if (e.code === 403) {
    return new ExecutorError('kubernetes-forbidden', `${what}: forbidden (${message}); the kubeconfig's user needs create, get, watch, patch and delete on jobs and networkpolicies, and get and list on pods and pods/log, in namespace ${namespace}`);
  }
  return new ExecutorError('kubernetes-failed', `${what}: ${e.code ? `${e.code} ` : ''}${message.split('\n')[0]}`);
}

const isNotFound = (error: unknown) => (error as { code?: number }).code === 404;

/** A Job's name: the same for the same task's folder on this machine, so a later command finds it. */
export function jobName(done: string): string {
  return `medperf-git-${createHash('sha256').update(`${hostname()}\n${done}`).digest('hex').slice(0, 20)}`;
}

/** What a Job's conditions say: still going, succeeded, or failed (and why). */
export function jobEnd(job: V1Job): { ok: boolean; reason?: string } | undefined {
  const conditions = job.status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return { ok: true };
  const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
  return failed ? { ok: false, reason: failed.reason ?? 'Failed' } : undefined;
}

interface JobRecord {
  job: string;
  namespace: string;
  /** The task's partial folder, kept for a re-attaching command. */
  partial: string;
  outputs: string[];
  submitted_at: string;
}

/** The folder under `done`'s parent that holds `path` (the task's partial folder). */
function partialOf(done: string, path: string): string {
  let p = path;
  while (dirname(p) !== dirname(done) && dirname(p) !== p) p = dirname(p);
  return p;
}

export class KubernetesRunner implements Runner {
  readonly name = 'kubernetes' as const;

  constructor(
    readonly stateDir: string,
    readonly settings: KubernetesSettings,
    readonly client: KubernetesClient,
    /** Told when a Job starts and stops being waited for (cancelAll deletes those). */
    readonly onJob: (name: string, waiting: boolean) => void = () => {},
  ) {}

  private recordFile(name: string): string {
    return join(statePaths(this.stateDir).root, 'jobs', 'kubernetes', `${name}.json`);
  }

  private async readJob(name: string): Promise<V1Job | undefined> {
    const namespace = this.settings.namespace;
    try {
      return await this.client.batch.readNamespacedJob({ name, namespace });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw apiError(error, `reading Job ${name}`, namespace);
    }
  }

  /** The cluster pulls the image by the cube's pin: its record's reference, else the repository at the pinned digest. */
  async prepareImage(cube: CubeImage): Promise<string | undefined> {
    if (!cube.image) throw new ExecutorError('no-image', `${cube.label}: the cube names no image, and a Kubernetes Job runs an image`);
    return pullReferences(cube.image, cube.digest, cube.reference)[0];
  }

  async attachable(done: string): Promise<string | undefined> {
    const name = jobName(done);
    const record = await readFile(this.recordFile(name), 'utf8').then((t) => JSON.parse(t) as JobRecord, () => undefined);
    if (!record || record.namespace !== this.settings.namespace || !existsSync(record.partial)) return undefined;
    const job = await this.readJob(name);
    return job && jobEnd(job)?.ok !== false ? record.partial : undefined;
  }

  async run(request: RunRequest): Promise<RunResult> {
    const { plan } = request;
    const { namespace } = this.settings;
    const outputs = outputDirs(plan);
    const done = request.done ?? outputs[0] ?? plan.task;
    const name = jobName(done);
    const status = (line: string) => request.onStatus?.(`${plan.task}: ${line}`);
    const timeoutMs = request.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
    const user = containerUser();
    const created = await createOutputs(plan, user);
    const { path: logFile, stream: log } = await openLog(this.stateDir, request.label, plan.task, request.logFile);
    const started = Date.now();
    const recordFile = this.recordFile(name);
    let settled = false;
    try {
      const record = await readFile(recordFile, 'utf8').then((t) => JSON.parse(t) as JobRecord, () => undefined);
      let job = await this.readJob(name);
      if (job && record && jobEnd(job)?.ok !== false && JSON.stringify(record.outputs) === JSON.stringify(outputs)) {
        status(`re-attached to Kubernetes Job ${name} (${jobEnd(job) ? 'finished' : 'running'})`);
      } else {
        if (job) await this.remove(name, true);
        const manifest = jobManifest({ name, plan, image: plan.image!, label: request.label, limits: request.limits, user, settings: { ...this.settings, runOwner: runOwner() } });
        await this.start(manifest, async () => {
          await mkdir(dirname(recordFile), { recursive: true });
          const saved: JobRecord = { job: name, namespace, partial: partialOf(done, outputs[0] ?? done), outputs, submitted_at: new Date().toISOString() };
          await writeFileAtomic(recordFile, JSON.stringify(saved) + '\n');
        });
        status(`submitted as Kubernetes Job ${name} (namespace ${namespace})`);
      }
      this.onJob(name, true);
      const end = await this.follow(name, log, status, timeoutMs);
      settled = true;
      return await finishTask(request, log, logFile, { exitCode: end.exitCode, timedOut: end.timedOut, timeoutMs, started });
    } finally {
      this.onJob(name, false);
      if (!log.closed) await closeLog(log);
      // Finished, one way or the other: nothing is left to re-attach to.
      if (settled) await rm(recordFile, { force: true });
      await handOutputsBack(created, user);
    }
  }

  /**
   * Creates a Job suspended, then the NetworkPolicy that denies all its pods' traffic, then (after
   * `created`) lets it start: no pod of it ever runs unisolated. A failure deletes what was made.
   */
  async start(manifest: V1Job, created: () => Promise<void> = async () => {}): Promise<V1Job> {
    const { namespace } = this.settings;
    const name = manifest.metadata!.name!;
    let job: V1Job | undefined;
    try {
      job = await this.client.batch.createNamespacedJob({ namespace, body: manifest });
      await this.client.networking.createNamespacedNetworkPolicy({ namespace, body: networkPolicyManifest(job) });
      await created();
      await this.client.batch.patchNamespacedJob({ name, namespace, body: { spec: { suspend: false } } }, this.client.mergePatch);
      return job;
    } catch (error) {
      if (job?.metadata?.uid) await this.remove(name, false).catch(() => {});
      throw error instanceof ExecutorError ? error : apiError(error, `submitting Job ${name}`, namespace);
    }
  }

  /** Reads a Job until it ends (or `deadlineMs` passes): whether it succeeded, and the node its pod ran on. */
  async waitForEnd(name: string, deadlineMs: number): Promise<{ ok: boolean; reason?: string; node?: string }> {
    const until = Date.now() + deadlineMs;
    while (Date.now() < until) {
      const job = await this.readJob(name);
      if (!job) return { ok: false, reason: 'deleted' };
      const end = jobEnd(job);
      if (end) return { ...end, ...(await this.pod(name).then((p) => (p?.spec?.nodeName ? { node: p.spec.nodeName } : {}))) };
      await new Promise((r) => setTimeout(r, 200));
    }
    return { ok: false, reason: 'not finished in time' };
  }

  /** Deletes a Job with its pods and NetworkPolicy; `wait` until it is gone (to reuse its name). */
  async remove(name: string, wait: boolean): Promise<void> {
    const namespace = this.settings.namespace;
    try {
      await this.client.batch.deleteNamespacedJob({ name, namespace, propagationPolicy: 'Foreground' });
    } catch (error) {
      if (!isNotFound(error)) throw apiError(error, `deleting Job ${name}`, namespace);
    }
    for (let i = 0; wait && i < 600 && (await this.readJob(name)); i++) await new Promise((r) => setTimeout(r, 100));
  }

  /** The Job's pod (the latest, should there be one more), for its node, state and log. */
  private async pod(name: string): Promise<V1Pod | undefined> {
    const namespace = this.settings.namespace;
    const pods = await this.client.core.listNamespacedPod({ namespace, labelSelector: `${LABELS.job}=${name}` }).catch((error) => {
      throw apiError(error, `listing the pods of Job ${name}`, namespace);
    });
    const created = (p: V1Pod) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();
    return pods.items.sort((a, b) => created(a) - created(b)).at(-1);
  }

  /** Watches the Job until it ends, with a progress line per change and its pod's log in `log`. */
  private follow(name: string, log: NodeJS.WritableStream, status: (line: string) => void, timeoutMs: number): Promise<{ exitCode: number; timedOut: boolean }> {
    const namespace = this.settings.namespace;
    return new Promise((resolve, reject) => {
      let finished = false;
      let shown = '';
      let logging: Promise<void> | undefined;
      let watching: AbortController | undefined;
      let queue = Promise.resolve();
      let rewatches = 0;
      const copyLog = (pod: string, follow: boolean) => {
        const out = new PassThrough();
        out.pipe(log, { end: false });
        return new Promise<void>((ended) => {
          out.once('end', () => ended());
          this.client.log.log(namespace, pod, 'cube', out, { follow }).catch(() => ended());
        });
      };
      const finish = (error: Error | undefined, value?: { exitCode: number; timedOut: boolean }) => {
        if (finished) return;
        finished = true;
        watching?.abort();
        // The log's last lines arrive as the pod ends: a few seconds at most.
        const last = Promise.race([logging ?? Promise.resolve(), new Promise((r) => setTimeout(r, 5000))]);
        last.then(() => (error ? reject(error) : resolve(value!)));
      };
      const onEvent = async (type: string, job: V1Job) => {
        if (finished) return;
        if (type === 'DELETED') return finish(new ExecutorError('job-cancelled', `Kubernetes Job ${name} was deleted before it finished`));
        const pod = await this.pod(name);
        const phase = pod?.status?.phase;
        const end = jobEnd(job);
        if (pod && !logging && (phase !== 'Pending' || end)) logging = copyLog(pod.metadata!.name!, !end);
        if (!end) {
          const line = phase === 'Running' ? `running on ${pod?.spec?.nodeName ?? 'a node'} (Kubernetes Job ${name})` : `queued (Kubernetes Job ${name})`;
          if (line !== shown) status((shown = line));
          return;
        }
        if (end.ok) return finish(undefined, { exitCode: 0, timedOut: false });
        if (end.reason === 'DeadlineExceeded') return finish(undefined, { exitCode: -1, timedOut: true });
        const terminated = pod?.status?.containerStatuses?.find((c) => c.name === 'cube')?.state?.terminated;
        if (terminated) return finish(undefined, { exitCode: terminated.exitCode, timedOut: false });
        finish(new ExecutorError('job-failed', `Kubernetes Job ${name} failed (${end.reason}) before its cube ran: kubectl -n ${namespace} describe job ${name}`));
      };
      const watch = () => {
        this.client.watch
          .watch(
            `/apis/batch/v1/namespaces/${namespace}/jobs`,
            { fieldSelector: `metadata.name=${name}` },
            (type, job: V1Job) => {
              rewatches = 0;
              queue = queue.then(() => onEvent(type, job)).catch((error) => finish(error as Error));
            },
            (error) => {
              // Watches end (the server's timeout, a dropped connection): watch again, a few times in a row at most.
              if (finished) return;
              if (++rewatches > 10) return finish(apiError(error ?? new Error('the watch kept ending'), `watching Job ${name}`, namespace));
              setTimeout(watch, 1000);
            },
          )
          .then((c) => (finished ? c.abort() : (watching = c)), (error) => finish(apiError(error, `watching Job ${name}`, namespace)));
      };
      watch();
      // activeDeadlineSeconds ends the Job; this bounds a cluster that never says so.
      setTimeout(() => finish(new ExecutorError('job-lost', `Kubernetes Job ${name} has not ended an hour past its deadline; a later run re-attaches to it`)), timeoutMs + 3600_000).unref();
    });
  }
}

export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes' as const;
  readonly queuesAhead = false;
  private readonly waiting = new Set<string>();

  constructor(
    readonly stateDir: string,
    readonly settings: KubernetesSettings,
    readonly client: KubernetesClient,
  ) {}

  private visible?: Promise<void>;

  /**
   * Before the first Job of a command: the pods must see the state directory through the data
   * volume, or every task would fail in its pod. A probe Job reads a token written here; a success
   * is remembered for a day (for this namespace and volume).
   */
  checkVisible(): Promise<void> {
    this.visible ??= (async () => {
      const dir = join(statePaths(this.stateDir).root, 'jobs', 'probe');
      const { namespace, data } = this.settings;
      const key = JSON.stringify(['kubernetes', namespace, data.claim ?? '', data.hostPath ?? '', data.path, this.settings.probeImage ?? '']);
      const seen = join(dir, 'kubernetes-visible.json');
      const last = await readFile(seen, 'utf8').then((t) => JSON.parse(t) as { key: string; checked_at: string }, () => undefined);
      if (last?.key === key && Date.now() - Date.parse(last.checked_at) < 24 * 3600_000) return;
      await mkdir(dir, { recursive: true });
      const nonce = randomBytes(16).toString('hex');
      const token = `token-${nonce}`;
      await writeFile(join(dir, token), nonce + '\n');
      // The probe runs as the tasks do, maybe not as this user: it reads as any user could, whatever the umask.
      await chmod(dir, 0o755);
      await chmod(join(dir, token), 0o644);
      const runner = new KubernetesRunner(this.stateDir, this.settings, this.client, (name, waiting) => void (waiting ? this.waiting.add(name) : this.waiting.delete(name)));
      const name = `medperf-git-probe-${nonce.slice(0, 12)}`;
      const volume = data.claim ? `PersistentVolumeClaim ${data.claim}` : `hostPath ${data.hostPath}`;
      try {
        await runner.start(probeJobManifest({ name, folder: dir, token, nonce, user: containerUser(), settings: { ...this.settings, runOwner: runOwner() } }));
        runner.onJob(name, true);
        const end = await runner.waitForEnd(name, 330_000);
        if (!end.ok) {
          throw new ExecutorError(
            'state-not-shared',
            `the state directory ${this.stateDir} is not visible in the pods of namespace ${namespace}${end.node ? ` (node ${end.node})` : ''} through ${volume} (the probe Job ${name} ended: ${end.reason ?? 'failed'}): kubernetes.data.path must be where that volume is on this machine, and the state directory under it; nothing was submitted`,
          );
        }
        await writeFileAtomic(seen, JSON.stringify({ key, node: end.node ?? '', checked_at: new Date().toISOString() }) + '\n');
      } finally {
        runner.onJob(name, false);
        await rm(join(dir, token), { force: true });
        await runner.remove(name, false).catch(() => {});
      }
    })();
    return this.visible;
  }

  async run<K extends ChainKind>(request: ChainRequest<K>): Promise<ChainOutcome<K>> {
    await this.checkVisible();
    const jobs: string[] = [];
    const runner = new KubernetesRunner(this.stateDir, this.settings, this.client, (name, waiting) => {
      if (!waiting) return void this.waiting.delete(name);
      this.waiting.add(name);
      if (!jobs.includes(name)) jobs.push(name);
    });
    const { limits, taskLimits: perTask } = taskLimits(request.resources);
    const input = withLimits(request.kind, request.input, limits, perTask);
    const value = await runChain(request.kind, input, { stateDir: this.stateDir, runner, onStatus: request.onStatus });
    return { value, ...(jobs.length ? { job: jobs.join(',') } : {}) };
  }

  async cancelAll(): Promise<string[]> {
    const names = [...this.waiting];
    const runner = new KubernetesRunner(this.stateDir, this.settings, this.client);
    await Promise.all(names.map((name) => runner.remove(name, false).catch(() => {})));
    return names;
  }
}
