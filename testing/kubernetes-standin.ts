// A loopback stand-in of the Kubernetes API server, for the Kubernetes executor's tests: the Job
// (create, read, merge patch, delete, list and watch), Pod (list, log, followed or not) and
// NetworkPolicy endpoints. Every object it is sent is checked as the API server checks it with
// fieldValidation=Strict: against the Kubernetes OpenAPI schema (the validators npm's
// kubernetes-models generates from it) and for fields the schema does not know. A Job's pod "runs"
// on a simulated node through a kubelet the test gives, which reads and writes files as the
// container would see them (through its volume mounts; read-only mounts and root refuse writes),
// so a pod runs to success, to failure, or past its activeDeadlineSeconds.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import type { V1Container, V1Job, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';

/** Paths of `value` that the client's models (generated from the same OpenAPI schema) do not know, as `.spec.foo`. */
export function unknownFields(value: unknown, type: string, path = ''): string[] {
  if (value === null || value === undefined || typeof value !== 'object') return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return (value as unknown[]).flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`));
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`));
  const model = (k8s as unknown as Record<string, { getAttributeTypeMap?: () => { baseName: string; type: string }[] }>)[type];
  if (!model?.getAttributeTypeMap) return [];
  const known = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value).flatMap(([k, v]) => (known.has(k) ? unknownFields(v, known.get(k)!, `${path}.${k}`) : [`${path}.${k}`]));
}

/** What the API server would refuse in a Job or NetworkPolicy: schema errors and unknown fields. */
export function manifestErrors(kind: 'Job' | 'NetworkPolicy', manifest: unknown): string[] {
  // As it goes over the wire: dates as strings, undefined fields left out.
  const body = JSON.parse(JSON.stringify(manifest)) as unknown;
  const errors = unknownFields(body, kind === 'Job' ? 'V1Job' : 'V1NetworkPolicy').map((p) => `unknown field "${p.slice(1)}"`);
  try {
    (kind === 'Job' ? new Job(body as never) : new NetworkPolicy(body as never)).validate();
  } catch (error) {
    errors.push(...(error as Error).message.split('\n'));
  }
  return errors;
}

/** What a simulated container sees and does. */
export interface PodRun {
  pod: V1Pod;
  container: V1Container;
  /** Files through the container's mounts: writes to a read-only mount or to the read-only root are refused (EROFS). */
  fs: { read(path: string): string; write(path: string, text: string): void; exists(path: string): boolean };
  log(line: string): void;
  /** Aborted when the pod is killed (deadline, deletion). */
  signal: AbortSignal;
}

/** Runs a pod's container; resolves with its exit code. */
export type Kubelet = (run: PodRun) => Promise<number>;

export interface StandinOptions {
  kubelet: Kubelet;
  /** PersistentVolumeClaims, by name: the folder that holds each. */
  claims?: Record<string, string>;
  token?: string;
  node?: string;
}

interface PodState {
  pod: V1Pod;
  log: string;
  followers: Set<ServerResponse>;
  abort: AbortController;
  /** Whether a NetworkPolicy denying all ingress and egress selected the pod when it started. */
  isolated: boolean;
}

export interface KubernetesStandin {
  url: string;
  token: string;
  jobs: Map<string, V1Job>;
  pods: Map<string, PodState>;
  policies: Map<string, V1NetworkPolicy>;
  /** Every request as `METHOD path`, in order. */
  requests: string[];
  /** Requests refused as invalid, with why. */
  refused: { request: string; errors: string[] }[];
  /** A kubeconfig for this server, in `dir`, with `namespace` as its context's namespace. */
  kubeconfig(dir: string, namespace?: string): string;
  close(): Promise<void>;
}

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 300 ? 'Success' : 'Failure', message, reason, code });

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...(target as object) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

const selects = (selector: Record<string, string> | undefined, labels: Record<string, string> | undefined) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

export async function startKubernetesStandin(options: StandinOptions): Promise<KubernetesStandin> {
  const token = options.token ?? randomBytes(12).toString('hex');
  const node = options.node ?? 'standin-node-1';
  const jobs = new Map<string, V1Job>();
  const pods = new Map<string, PodState>();
  const policies = new Map<string, V1NetworkPolicy>();
  const watchers = new Set<{ namespace: string; name?: string; res: ServerResponse }>();
  const timers = new Set<NodeJS.Timeout>();
  const requests: string[] = [];
  const refused: KubernetesStandin['refused'] = [];
  const scratch = mkdtempSync(join(tmpdir(), 'kubernetes-standin-'));
  let version = 1;
  const key = (ns: string, name: string) => `${ns}/${name}`;
  const later = (ms: number, f: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      f();
    }, ms);
    timers.add(t);
  };

  const emit = (type: 'ADDED' | 'MODIFIED' | 'DELETED', job: V1Job) => {
    job.metadata!.resourceVersion = String(++version);
    for (const w of watchers) {
      if (w.namespace === job.metadata!.namespace && (!w.name || w.name === job.metadata!.name)) w.res.write(JSON.stringify({ type, object: job }) + '\n');
    }
  };

  const endPod = (state: PodState, phase: 'Succeeded' | 'Failed', exitCode: number, reason: string) => {
    const s = state.pod.status!;
    if (s.phase === 'Succeeded' || s.phase === 'Failed') return;
    s.phase = phase;
    const started = s.containerStatuses?.[0]?.state?.running?.startedAt ?? new Date();
    s.containerStatuses = [{ name: 'cube', image: state.pod.spec!.containers[0]!.image!, imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode, reason, startedAt: started, finishedAt: new Date() } } }];
    for (const f of state.followers) f.end();
    state.followers.clear();
    state.abort.abort();
  };

  const finishJob = (job: V1Job, ok: boolean, reason?: string, message?: string) => {
    const now = new Date();
    job.status = {
      ...job.status,
      active: 0,
      ready: 0,
      ...(ok ? { succeeded: 1, completionTime: now } : { failed: 1 }),
      conditions: ok
        ? [{ type: 'SuccessCriteriaMet', status: 'True', lastTransitionTime: now }, { type: 'Complete', status: 'True', lastTransitionTime: now }]
        : [{ type: 'FailureTarget', status: 'True', reason, message, lastTransitionTime: now }, { type: 'Failed', status: 'True', reason, message, lastTransitionTime: now }],
    } as V1Job['status'];
    emit('MODIFIED', job);
    const ttl = job.spec?.ttlSecondsAfterFinished;
    if (ttl !== undefined && ttl < 60) later(ttl * 1000, () => jobs.get(key(job.metadata!.namespace!, job.metadata!.name!)) === job && deleteJob(job));
  };

  /** The container's view of files: its mounts, longest first. */
  const containerFs = (pod: V1Pod, container: V1Container, podDir: string): PodRun['fs'] => {
    const volumes = new Map((pod.spec!.volumes ?? []).map((v) => [v.name, v]));
    const mounts = [...(container.volumeMounts ?? [])].sort((a, b) => b.mountPath.length - a.mountPath.length);
    const resolve = (path: string) => {
      const m = mounts.find((mount) => path === mount.mountPath || path.startsWith(mount.mountPath.replace(/\/?$/, '/')));
      if (!m) return undefined;
      const v = volumes.get(m.name)!;
      const root = v.persistentVolumeClaim ? options.claims?.[v.persistentVolumeClaim.claimName] : v.hostPath ? v.hostPath.path : join(podDir, v.name);
      if (!root) throw Object.assign(new Error(`volume ${m.name}: no such claim`), { code: 'ENOENT' });
      return { host: join(root, m.subPath ?? '', path.slice(m.mountPath.length)), readOnly: !!m.readOnly };
    };
    const erofs = (path: string) => Object.assign(new Error(`EROFS: read-only file system, open '${path}'`), { code: 'EROFS' });
    return {
      read: (path) => {
        const r = resolve(path);
        if (!r) throw Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
        return readFileSync(r.host, 'utf8');
      },
      exists: (path) => {
        const r = resolve(path);
        return !!r && existsSync(r.host);
      },
      write: (path, text) => {
        const r = resolve(path);
        if (!r || r.readOnly) {
          if (!r && container.securityContext?.readOnlyRootFilesystem !== true) return writeFileSync(join(podDir, 'root', path.replace(/\//g, '_')), text);
          throw erofs(path);
        }
        mkdirSync(dirname(r.host), { recursive: true });
        writeFileSync(r.host, text);
      },
    };
  };

  const startPod = (job: V1Job) => {
    const ns = job.metadata!.namespace!;
    const template = job.spec!.template;
    const name = `${job.metadata!.name}-${randomBytes(3).toString('hex').slice(0, 5)}`;
    const labels = template.metadata?.labels ?? {};
    const pod: V1Pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: ns, labels, creationTimestamp: new Date(), uid: randomUUID(), ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata!.name!, uid: job.metadata!.uid!, controller: true }] },
      spec: { ...template.spec!, nodeName: node },
      status: { phase: 'Pending' },
    };
    const isolated = [...policies.values()].some(
      (p) => p.metadata!.namespace === ns && selects(p.spec!.podSelector?.matchLabels, labels) && ['Ingress', 'Egress'].every((t) => p.spec!.policyTypes?.includes(t)) && !p.spec!.ingress?.length && !p.spec!.egress?.length,
    );
    const state: PodState = { pod, log: '', followers: new Set(), abort: new AbortController(), isolated };
    pods.set(key(ns, name), state);
    job.status = { ...job.status, active: 1, startTime: new Date() };
    emit('MODIFIED', job);
    const deadline = job.spec!.activeDeadlineSeconds;
    if (deadline) {
      later(deadline * 1000, () => {
        if (jobs.get(key(ns, job.metadata!.name!)) !== job || jobEnded(job)) return;
        endPod(state, 'Failed', 137, 'Error');
        finishJob(job, false, 'DeadlineExceeded', 'Job was active longer than specified deadline');
      });
    }
    later(20, () => {
      if (state.abort.signal.aborted) return;
      const container = pod.spec!.containers[0]!;
      pod.status = { phase: 'Running', containerStatuses: [{ name: container.name, image: container.image!, imageID: '', ready: true, restartCount: 0, started: true, state: { running: { startedAt: new Date() } } }] };
      job.status = { ...job.status, ready: 1 };
      emit('MODIFIED', job);
      const podDir = join(scratch, name);
      mkdirSync(join(podDir, 'root'), { recursive: true });
      const log = (line: string) => {
        state.log += line + '\n';
        for (const f of state.followers) f.write(line + '\n');
      };
      const run: PodRun = { pod, container, fs: containerFs(pod, container, podDir), log, signal: state.abort.signal };
      options.kubelet(run).then(
        (code) => code,
        (error: Error) => (log(`${error.message}`), 1),
      ).then((code) => {
        if (state.abort.signal.aborted) return;
        endPod(state, code === 0 ? 'Succeeded' : 'Failed', code, code === 0 ? 'Completed' : 'Error');
        if (jobs.get(key(ns, job.metadata!.name!)) === job) finishJob(job, code === 0, code === 0 ? undefined : 'BackoffLimitExceeded', code === 0 ? undefined : 'Job has reached the specified backoff limit');
      });
    });
  };

  const jobEnded = (job: V1Job) => (job.status?.conditions ?? []).some((c) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');

  const deleteJob = (job: V1Job) => {
    const ns = job.metadata!.namespace!;
    jobs.delete(key(ns, job.metadata!.name!));
    for (const [k, state] of pods) {
      if (state.pod.metadata!.ownerReferences?.[0]?.uid !== job.metadata!.uid) continue;
      endPod(state, 'Failed', 137, 'Error');
      pods.delete(k);
    }
    // The garbage collector: objects the Job owns go with it.
    for (const [k, p] of policies) if (p.metadata!.ownerReferences?.some((o) => o.uid === job.metadata!.uid)) policies.delete(k);
    emit('DELETED', job);
  };

  const body = async (req: IncomingMessage): Promise<unknown> => {
    let text = '';
    for await (const chunk of req) text += chunk;
    return text ? JSON.parse(text) : undefined;
  };

  // HTTPS, as every API server: a certificate for 127.0.0.1 made for this run, its CA in the kubeconfig.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(scratch, 'key.pem'), '-out', join(scratch, 'cert.pem')], { stdio: 'ignore' });
  const cert = readFileSync(join(scratch, 'cert.pem'));
  const server = createServer({ key: readFileSync(join(scratch, 'key.pem')), cert }, async (req, res) => {
    const url = new URL(req.url!, 'http://standin');
    const path = url.pathname;
    const request = `${req.method} ${path}`;
    requests.push(request);
    const send = (code: number, value: unknown) => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value));
    };
    const invalid = (kind: string, name: string, errors: string[]) => {
      refused.push({ request, errors });
      send(422, status(422, 'Invalid', `${kind} "${name}" is invalid: ${errors.join('; ')}`));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, status(401, 'Unauthorized', 'Unauthorized'));
    try {
      let m: RegExpExecArray | null;
      if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs$/.exec(path))) {
        const ns = m[1]!;
        if (req.method === 'POST') {
          const job = (await body(req)) as V1Job;
          const errors = manifestErrors('Job', job);
          if (job.metadata?.namespace && job.metadata.namespace !== ns) errors.push('metadata.namespace does not match the request');
          if (errors.length) return invalid('Job', job.metadata?.name ?? '', errors);
          if (jobs.has(key(ns, job.metadata!.name!))) return send(409, status(409, 'AlreadyExists', `jobs.batch "${job.metadata!.name}" already exists`));
          job.metadata = { ...job.metadata, namespace: ns, uid: randomUUID(), creationTimestamp: new Date(), generation: 1 };
          const uid = job.metadata.uid!;
          job.spec!.template.metadata = { ...job.spec!.template.metadata, labels: { ...job.spec!.template.metadata?.labels, 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': job.metadata.name!, 'controller-uid': uid, 'job-name': job.metadata.name! } };
          job.status = {};
          jobs.set(key(ns, job.metadata.name!), job);
          emit('ADDED', job);
          if (!job.spec!.suspend) startPod(job);
          return send(201, job);
        }
        if (req.method === 'GET' && url.searchParams.get('watch') === 'true') {
          const name = /^metadata\.name=(.+)$/.exec(url.searchParams.get('fieldSelector') ?? '')?.[1];
          res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
          const w = { namespace: ns, ...(name ? { name } : {}), res };
          watchers.add(w);
          for (const job of jobs.values()) if (job.metadata!.namespace === ns && (!name || job.metadata!.name === name)) res.write(JSON.stringify({ type: 'ADDED', object: job }) + '\n');
          req.on('close', () => watchers.delete(w));
          return;
        }
        if (req.method === 'GET') return send(200, { apiVersion: 'batch/v1', kind: 'JobList', metadata: { resourceVersion: String(version) }, items: [...jobs.values()].filter((j) => j.metadata!.namespace === ns) });
      }
      if ((m = /^\/apis\/batch\/v1\/namespaces\/([^/]+)\/jobs\/([^/]+)$/.exec(path))) {
        const [ns, name] = [m[1]!, m[2]!];
        const job = jobs.get(key(ns, name));
        if (!job) return send(404, status(404, 'NotFound', `jobs.batch "${name}" not found`));
        if (req.method === 'GET') return send(200, job);
        if (req.method === 'PATCH') {
          if (req.headers['content-type'] !== 'application/merge-patch+json') return send(415, status(415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${req.headers['content-type']}`));
          const patched = mergePatch(job, await body(req)) as V1Job;
          const errors = manifestErrors('Job', { ...patched, status: undefined });
          if (errors.length) return invalid('Job', name, errors);
          const resumed = job.spec!.suspend && !patched.spec!.suspend;
          Object.assign(job, patched);
          emit('MODIFIED', job);
          if (resumed) startPod(job);
          return send(200, job);
        }
        if (req.method === 'DELETE') {
          await body(req);
          deleteJob(job);
          return send(200, status(200, '', `jobs.batch "${name}" deleted`));
        }
      }
      if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods$/.exec(path)) && req.method === 'GET') {
        const selector = Object.fromEntries((url.searchParams.get('labelSelector') ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]));
        const items = [...pods.values()].map((p) => p.pod).filter((p) => p.metadata!.namespace === m![1] && selects(selector, p.metadata!.labels));
        return send(200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: String(version) }, items });
      }
      if ((m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/log$/.exec(path)) && req.method === 'GET') {
        const state = pods.get(key(m[1]!, m[2]!));
        if (!state) return send(404, status(404, 'NotFound', `pods "${m[2]}" not found`));
        if (url.searchParams.get('container') !== state.pod.spec!.containers[0]!.name) return send(400, status(400, 'BadRequest', `container ${url.searchParams.get('container')} is not valid for pod ${m[2]}`));
        res.writeHead(200, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
        res.write(state.log);
        const ended = state.pod.status!.phase === 'Succeeded' || state.pod.status!.phase === 'Failed';
        if (url.searchParams.get('follow') !== 'true' || ended) return res.end();
        state.followers.add(res);
        req.on('close', () => state.followers.delete(res));
        return;
      }
      if ((m = /^\/apis\/networking\.k8s\.io\/v1\/namespaces\/([^/]+)\/networkpolicies(?:\/([^/]+))?$/.exec(path))) {
        const [ns, name] = [m[1]!, m[2]];
        if (!name && req.method === 'POST') {
          const policy = (await body(req)) as V1NetworkPolicy;
          const errors = manifestErrors('NetworkPolicy', policy);
          for (const o of policy.metadata?.ownerReferences ?? []) if (![...jobs.values()].some((j) => j.metadata!.uid === o.uid)) errors.push(`metadata.ownerReferences: no ${o.kind} with uid ${o.uid}`);
          if (errors.length) return invalid('NetworkPolicy', policy.metadata?.name ?? '', errors);
          if (policies.has(key(ns, policy.metadata!.name!))) return send(409, status(409, 'AlreadyExists', `networkpolicies.networking.k8s.io "${policy.metadata!.name}" already exists`));
          policy.metadata = { ...policy.metadata, namespace: ns, uid: randomUUID(), creationTimestamp: new Date() };
          policies.set(key(ns, policy.metadata.name!), policy);
          return send(201, policy);
        }
        if (!name && req.method === 'GET') return send(200, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicyList', metadata: {}, items: [...policies.values()].filter((p) => p.metadata!.namespace === ns) });
        const policy = name ? policies.get(key(ns, name)) : undefined;
        if (!policy) return send(404, status(404, 'NotFound', `networkpolicies.networking.k8s.io "${name}" not found`));
        if (req.method === 'GET') return send(200, policy);
        if (req.method === 'DELETE') {
          policies.delete(key(ns, name!));
          return send(200, status(200, '', 'deleted'));
        }
      }
      send(404, status(404, 'NotFound', `the server could not find the requested resource (${request})`));
    } catch (error) {
      send(500, status(500, 'InternalError', (error as Error).message));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url,
    token,
    jobs,
    pods,
    policies,
    requests,
    refused,
    kubeconfig(dir, namespace = 'default') {
      const file = join(dir, 'kubeconfig');
      writeFileSync(
        file,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'standin', cluster: { server: url, 'certificate-authority-data': cert.toString('base64') } }],
          users: [{ name: 'data-owner', user: { token } }],
          contexts: [{ name: 'standin', context: { cluster: 'standin', user: 'data-owner', namespace } }],
          'current-context': 'standin',
        }),
      );
      return file;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const state of pods.values()) endPod(state, 'Failed', 137, 'Error');
      for (const w of watchers) w.res.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}
