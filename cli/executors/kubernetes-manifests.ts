// What a cube task becomes on the data owner's Kubernetes cluster: a Job whose one pod runs the
// cube's image with the Docker runner's isolation (non-root with the same uid rule, read-only root,
// no privilege escalation, every capability dropped, seccomp RuntimeDefault, an emptyDir /tmp,
// inputs read-only, no service-account token), its resources as requests and limits, its timeout
// as activeDeadlineSeconds, no retry; and a NetworkPolicy that denies every ingress and egress of
// the Job's pods. Pure: data in, manifests out.
import { relative, sep } from 'node:path';
import type { V1Container, V1Job, V1NetworkPolicy, V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { TaskPlan } from '../cube/plan.ts';
import { DEFAULT_LIMITS, type Limits, parseBytes } from '../runners/runner.ts';
import type { DockerUser } from '../runners/docker.ts';
import { ExecutorError } from './executor.ts';

/** Where the pods find the data owner's files: a PersistentVolumeClaim or a node's folder, seen here at `path`. */
export interface KubernetesData {
  /** A PersistentVolumeClaim in the namespace. */
  claim?: string;
  /** A folder on the nodes (every node that may run the job must have it, e.g. an NFS mount). */
  hostPath?: string;
  /** Where that volume is on this machine: every file a task reads or writes must be under it. */
  path: string;
}

export interface KubernetesSettings {
  namespace: string;
  data: KubernetesData;
  /** How long a finished Job stays for inspection (ttlSecondsAfterFinished). */
  ttlSeconds?: number;
  /** Extra pod labels' owner, for cancelling what one run submitted. */
  runOwner?: string;
  /** The image of the probe that checks the pods see the state directory (a shell and `read`). */
  probeImage?: string;
}

/** The probe's default image: a shell, and nothing else the probe needs. */
export const DEFAULT_PROBE_IMAGE = 'busybox:1.36';

/** Labels on every Job, pod and NetworkPolicy medperf-git makes. */
export const LABELS = { managedBy: 'app.kubernetes.io/managed-by', cube: 'medperf-git/cube', task: 'medperf-git/task', job: 'medperf-git/job' } as const;

/** A label value: at most 63 characters of [A-Za-z0-9._-], starting and ending alphanumeric. */
export function labelValue(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, '.').slice(0, 63).replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, '');
}

/** GPUs as Kubernetes schedules them: a count of nvidia.com/gpu. */
export function gpuCount(gpus: Limits['gpus']): number {
  if (gpus === undefined || gpus === '' || gpus === 0 || gpus === '0') return 0;
  if (typeof gpus === 'number' || /^\d+$/.test(gpus)) return Number(gpus);
  throw new ExecutorError('invalid-gpus', `--gpus ${gpus}: on Kubernetes, give a number of GPUs (the scheduler chooses which)`);
}

/** A folder of this machine as a path inside the data volume, or an error naming it. */
export function volumePath(data: KubernetesData, host: string): string {
  const rel = relative(data.path, host);
  if (rel === '..' || rel.startsWith(`..${sep}`) || rel.startsWith(sep)) {
    throw new ExecutorError(
      'outside-kubernetes-volume',
      `${host} is not under ${data.path}, the folder the cluster's pods see (${data.claim ? `PersistentVolumeClaim ${data.claim}` : `hostPath ${data.hostPath}`}): move it there, or name another volume in the profile (kubernetes.data)`,
    );
  }
  return rel.split(sep).join('/');
}

/** The data owner's volume, as a pod names it. */
function dataVolume(data: KubernetesData, readOnly = false): V1Volume {
  return data.claim
    ? { name: 'data', persistentVolumeClaim: { claimName: data.claim, ...(readOnly ? { readOnly } : {}) } }
    : { name: 'data', hostPath: { path: data.hostPath!, type: 'Directory' } };
}

export interface JobInput {
  name: string;
  plan: TaskPlan;
  /** The image the pod runs, pinned (repository@sha256:...). */
  image: string;
  /** Who, for labels: a cube id. */
  label: string;
  limits?: Limits;
  user: DockerUser;
  settings: KubernetesSettings;
}

export function jobManifest(input: JobInput): V1Job {
  const { name, plan, settings, user } = input;
  const limits = { ...DEFAULT_LIMITS, ...input.limits };
  const labels = { [LABELS.managedBy]: 'medperf-git', [LABELS.cube]: labelValue(input.label), [LABELS.task]: labelValue(plan.task), [LABELS.job]: name };
  const gpus = gpuCount(input.limits?.gpus ?? plan.gpus);
  const cpu = String(limits.cpus ?? 1);
  const resources = {
    requests: { cpu, memory: String(limits.memoryBytes), ...(gpus ? { 'nvidia.com/gpu': String(gpus) } : {}) },
    limits: { ...(limits.cpus ? { cpu } : {}), memory: String(limits.memoryBytes), ...(gpus ? { 'nvidia.com/gpu': String(gpus) } : {}) },
  };
  const data = dataVolume(settings.data);
  const shm = plan.shmSize !== undefined ? parseBytes(plan.shmSize, 'shm_size') : undefined;
  const volumes: V1Volume[] = [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }, data, ...(shm ? [{ name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: String(shm) } }] : [])];
  const mounts: V1VolumeMount[] = [
    { name: 'tmp', mountPath: '/tmp' },
    ...plan.mounts.map((m) => ({ name: 'data', mountPath: m.target, subPath: volumePath(settings.data, m.host), readOnly: m.readOnly })),
    ...(shm ? [{ name: 'shm', mountPath: '/dev/shm' }] : []),
  ];
  if (user.uid === 0) throw new ExecutorError('root-container', 'a cube never runs as root');
  return isolatedJob({
    name,
    settings,
    user,
    labels,
    annotations: { 'medperf-git/cube': input.label, 'medperf-git/task': plan.task },
    activeDeadlineSeconds: Math.max(1, Math.ceil(limits.timeoutMs / 1000)),
    ttlSecondsAfterFinished: settings.ttlSeconds ?? 3600,
    container: {
      name: 'cube',
      image: input.image,
      imagePullPolicy: 'IfNotPresent',
      ...(plan.entrypoint ? { command: plan.entrypoint } : {}),
      args: plan.command,
      env: [...Object.entries(plan.environment).map(([k, v]) => ({ name: k, value: v })), { name: 'HOME', value: '/tmp' }],
      resources,
      volumeMounts: mounts,
    },
    volumes,
  });
}

/**
 * A Job of one pod with the Docker runner's isolation: non-root, read-only root, no privilege
 * escalation, every capability dropped, seccomp RuntimeDefault, no service-account token, no
 * retry; created suspended, so its pod starts only once its NetworkPolicy exists.
 */
function isolatedJob(job: {
  name: string;
  settings: KubernetesSettings;
  user: DockerUser;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  activeDeadlineSeconds: number;
  ttlSecondsAfterFinished: number;
  container: Omit<V1Container, 'securityContext'>;
  volumes: V1Volume[];
}): V1Job {
  const { name, settings, user, labels } = job;
  const identity = { runAsNonRoot: true, runAsUser: user.uid, runAsGroup: user.gid };
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name, namespace: settings.namespace, labels, annotations: { ...job.annotations, ...(settings.runOwner ? { 'medperf-git/run': settings.runOwner } : {}) } },
    spec: {
      // Created suspended: its pods start only once their NetworkPolicy exists.
      suspend: true,
      backoffLimit: 0,
      activeDeadlineSeconds: job.activeDeadlineSeconds,
      ttlSecondsAfterFinished: job.ttlSecondsAfterFinished,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: { ...identity, seccompProfile: { type: 'RuntimeDefault' } },
          containers: [
            {
              ...job.container,
              securityContext: {
                ...identity,
                readOnlyRootFilesystem: true,
                allowPrivilegeEscalation: false,
                privileged: false,
                capabilities: { drop: ['ALL'] },
                seccompProfile: { type: 'RuntimeDefault' },
              },
            },
          ],
          volumes: job.volumes,
        },
      },
    },
  };
}

export interface ProbeInput {
  name: string;
  /** The folder that holds the token, on this machine (under the data volume). */
  folder: string;
  /** The token file's name in that folder, and what it holds. */
  token: string;
  nonce: string;
  user: DockerUser;
  settings: KubernetesSettings;
}

/**
 * The probe: a Job whose pod reads a token from the state directory through the data volume (read
 * only, with a task's isolation) and succeeds only when it holds the nonce written here.
 */
export function probeJobManifest(input: ProbeInput): V1Job {
  const { name, settings, user } = input;
  const labels = { [LABELS.managedBy]: 'medperf-git', [LABELS.task]: 'probe', [LABELS.job]: name };
  if (user.uid === 0) throw new ExecutorError('root-container', 'a probe never runs as root');
  const data = dataVolume(settings.data, true);
  return isolatedJob({
    name,
    settings,
    user,
    labels,
    annotations: { 'medperf-git/task': 'probe' },
    // Time to pull a small image and read one file.
    activeDeadlineSeconds: 300,
    ttlSecondsAfterFinished: 60,
    container: {
      name: 'probe',
      image: settings.probeImage ?? DEFAULT_PROBE_IMAGE,
      imagePullPolicy: 'IfNotPresent',
      command: ['sh', '-c', 'read -r seen < "/probe/$TOKEN" && [ "$seen" = "$NONCE" ]'],
      env: [
        { name: 'TOKEN', value: input.token },
        { name: 'NONCE', value: input.nonce },
      ],
      resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '100m', memory: '16Mi' } },
      volumeMounts: [{ name: 'data', mountPath: '/probe', subPath: volumePath(settings.data, input.folder), readOnly: true }],
    },
    volumes: [data],
  });
}

/** Denies every ingress and egress of the Job's pods; owned by the Job, so it goes when the Job goes. */
export function networkPolicyManifest(job: V1Job): V1NetworkPolicy {
  const name = job.metadata!.name!;
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: {
      name,
      namespace: job.metadata!.namespace!,
      labels: job.metadata!.labels!,
      ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name, uid: job.metadata!.uid! }],
    },
    spec: { podSelector: { matchLabels: { [LABELS.job]: name } }, policyTypes: ['Ingress', 'Egress'] },
  };
}
