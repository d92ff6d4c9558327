// The Kubernetes executor. No cluster runs here: every manifest is checked against the Kubernetes
// OpenAPI schema (kubernetes-models' validators, and no field the schema does not know), and the
// client runs against the loopback stand-in of the API server (testing/kubernetes-standin.ts),
// whose simulated pods run the test cube to success, to failure and past their deadline, are
// cancelled, and outlive a killed CLI.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../testing/cli.ts';
import { type KubernetesStandin, manifestErrors, type PodRun, startKubernetesStandin } from '../../testing/kubernetes-standin.ts';
import { executionRequest } from '../../testing/executor-requests.ts';
import type { TaskPlan } from '../cube/plan.ts';
import type { TaskFailedError } from '../runners/runner.ts';
import type { ChainRequest } from './executor.ts';
import { KubernetesExecutor, kubernetesClient } from './kubernetes.ts';
import { gpuCount, jobManifest, labelValue, networkPolicyManifest, probeJobManifest, volumePath, type KubernetesSettings } from './kubernetes-manifests.ts';

const tmp = mkdtempSync(join(tmpdir(), 'kubernetes-executor-test-'));
const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** The test cube's program (testing/fixtures/slurm-cube/project/main.mjs), as a simulated container runs it. */
async function testCube({ container, fs, log, signal }: PodRun): Promise<number> {
  if (container.name === 'probe') {
    // The probe's shell line: the token, read through its read-only mount, holds the nonce.
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]));
    expect(container.command).toEqual(['sh', '-c', 'read -r seen < "/probe/$TOKEN" && [ "$seen" = "$NONCE" ]']);
    return fs.exists(`/probe/${env.TOKEN}`) && fs.read(`/probe/${env.TOKEN}`).trim() === env.NONCE ? 0 : 1;
  }
  const [task, ...rest] = container.args!;
  const arg = (k: string) => rest.find((a) => a.startsWith(`--${k}=`))?.slice(k.length + 3);
  const mode = /mode: (\w+)/.exec(fs.read(arg('parameters_file')!))![1];
  if (task === 'evaluate') {
    fs.write(arg('output_path')!, 'accuracy: 0.5\n');
    return 0;
  }
  log(`infer in mode ${mode}`);
  // Inputs are mounted read-only, and so is the root: a model cannot change the data it reads.
  for (const path of [`${arg('data_path')}/x.txt`, '/etc/passwd']) {
    try {
      fs.write(path, 'changed');
      return 99;
    } catch (error) {
      log(`refused: ${(error as Error).message}`);
    }
  }
  fs.write('/tmp/scratch', 'a private /tmp is writable');
  if (mode === 'fail') {
    log('out of memory after the last batch');
    return 3;
  }
  const seconds = ({ hang: 3600, slow: 3, ok: 0.3 } as Record<string, number>)[mode!] ?? 0;
  await new Promise((r) => {
    const t = setTimeout(r, seconds * 1000);
    signal.addEventListener('abort', () => clearTimeout(t));
  });
  if (signal.aborted) return 137;
  fs.write(`${arg('output_path')}/predictions.txt`, 'ok\n');
  return 0;
}

let standin: KubernetesStandin;
let kubeconfig: string;

beforeAll(async () => {
  // The claim holds every state directory of these tests: the pods see them all.
  // 'elsewhere' is a volume that does not hold this machine's state directories.
  standin = await startKubernetesStandin({ kubelet: testCube, claims: { 'medperf-data': tmp, elsewhere: mkdtempSync(join(tmpdir(), 'kubernetes-elsewhere-')) } });
  kubeconfig = standin.kubeconfig(tmp, 'radiology');
});
afterAll(() => standin.close());

const settings = (extra: Partial<KubernetesSettings> = {}): KubernetesSettings => ({ namespace: 'radiology', data: { claim: 'medperf-data', path: tmp }, ...extra });

const request = (stateDir: string, mode: string, extra: Partial<ChainRequest<'execute-model'>> = {}) =>
  executionRequest(tmp, stateDir, { prefix: 'k8s', mode, digest: DIGEST }, { key: `execute-${mode}`, resources: { cpus: 2, memoryBytes: 256 * 1024 ** 2, timeouts: {} }, ...extra });

const executor = async (stateDir: string, extra: Partial<KubernetesSettings> = {}) => new KubernetesExecutor(stateDir, settings(extra), await kubernetesClient({ KUBECONFIG: kubeconfig }));

const plan: TaskPlan = {
  task: 'infer',
  image: 'example/model@' + DIGEST,
  command: ['infer', '--data_path=/mlcube_io0', '--output_path=/mlcube_io1'],
  mounts: [
    { host: join(tmp, 'data'), target: '/mlcube_io0', readOnly: true },
    { host: join(tmp, 'out'), target: '/mlcube_io1', readOnly: false },
  ],
  parameters: [],
  environment: { LANG: 'C.UTF-8' },
  shmSize: '2g',
  ignored: [],
};
const manifest = (extra: Partial<Parameters<typeof jobManifest>[0]> = {}) =>
  jobManifest({ name: 'medperf-git-0123456789abcdef0123', plan, image: plan.image!, label: 'bench-committee/chestxray-cnn', limits: { timeoutMs: 90_500, gpus: 2, cpus: 1.5 }, user: { uid: 1000, gid: 1000 }, settings: settings(), ...extra });

describe('Kubernetes manifests', () => {
  it('a task is a Job with the Docker runner\'s isolation, valid against the Kubernetes schema', () => {
    const job = manifest();
    expect(manifestErrors('Job', job)).toEqual([]);
    const pod = job.spec!.template.spec!;
    const container = pod.containers[0]!;
    expect(job.spec).toMatchObject({ suspend: true, backoffLimit: 0, activeDeadlineSeconds: 91, ttlSecondsAfterFinished: 3600 });
    expect(pod).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false, securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } } });
    expect(container.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.resources).toEqual({ requests: { cpu: '1.5', memory: String(4 * 1024 ** 3), 'nvidia.com/gpu': '2' }, limits: { cpu: '1.5', memory: String(4 * 1024 ** 3), 'nvidia.com/gpu': '2' } });
    expect(container.volumeMounts).toEqual([
      { name: 'tmp', mountPath: '/tmp' },
      { name: 'data', mountPath: '/mlcube_io0', subPath: 'data', readOnly: true },
      { name: 'data', mountPath: '/mlcube_io1', subPath: 'out', readOnly: false },
      { name: 'shm', mountPath: '/dev/shm' },
    ]);
    expect(pod.volumes).toEqual([
      { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
      { name: 'data', persistentVolumeClaim: { claimName: 'medperf-data' } },
      { name: 'shm', emptyDir: { medium: 'Memory', sizeLimit: String(2 * 1024 ** 3) } },
    ]);
    expect(container.args).toEqual(plan.command);
    expect(container.env).toEqual([{ name: 'LANG', value: 'C.UTF-8' }, { name: 'HOME', value: '/tmp' }]);
    expect(job.metadata!.labels).toEqual({ 'app.kubernetes.io/managed-by': 'medperf-git', 'medperf-git/cube': 'bench-committee.chestxray-cnn', 'medperf-git/task': 'infer', 'medperf-git/job': 'medperf-git-0123456789abcdef0123' });
    expect(job.spec!.template.metadata!.labels).toEqual(job.metadata!.labels);
    const hostPath = manifest({ settings: settings({ data: { hostPath: '/srv/medperf', path: tmp }, ttlSeconds: 60 }) });
    expect(manifestErrors('Job', hostPath)).toEqual([]);
    expect(hostPath.spec!.template.spec!.volumes![1]).toEqual({ name: 'data', hostPath: { path: '/srv/medperf', type: 'Directory' } });
    expect(hostPath.spec!.ttlSecondsAfterFinished).toBe(60);
  });

  it('the NetworkPolicy denies all ingress and egress of the Job\'s pods, and is owned by the Job', () => {
    const job = { ...manifest(), metadata: { ...manifest().metadata, uid: '0c3b2a9e-5f1d-4e7a-9d41-2f0f6a6c1b7e' } };
    const policy = networkPolicyManifest(job);
    expect(manifestErrors('NetworkPolicy', policy)).toEqual([]);
    expect(policy.spec).toEqual({ podSelector: { matchLabels: { 'medperf-git/job': job.metadata.name } }, policyTypes: ['Ingress', 'Egress'] });
    expect(policy.metadata!.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, uid: job.metadata.uid }]);
  });

  it('the schema check refuses what the API server would: unknown fields, wrong types, values outside an enum', () => {
    const job = () => JSON.parse(JSON.stringify(manifest()));
    const variants: [string, (j: ReturnType<typeof job>) => void, RegExp][] = [
      ['a misspelt field', (j) => (j.spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem = true), /unknown field "spec.template.spec.containers\[0\].securityContext.readOnlyRootFileSystem"/],
      ['a field at the top', (j) => (j.spec.retries = 1), /unknown field "spec.retries"/],
      ['a number as a string', (j) => (j.spec.backoffLimit = '0'), /backoffLimit must be integer/],
      ['a restart policy that is not one', (j) => (j.spec.template.spec.restartPolicy = 'Sometimes'), /restartPolicy must be equal to one of the allowed values/],
      ['a seccomp profile that is not one', (j) => (j.spec.template.spec.securityContext.seccompProfile.type = 'Strict'), /type must be equal to one of the allowed values/],
      ['a container without a name', (j) => delete j.spec.template.spec.containers[0].name, /containers\/0 must have required property name/],
      ['no template', (j) => delete j.spec.template, /must have required property template/],
    ];
    for (const [what, mutate, expected] of variants) {
      const j = job();
      mutate(j);
      expect(manifestErrors('Job', j).join('\n'), what).toMatch(expected);
    }
    expect(manifestErrors('NetworkPolicy', { ...networkPolicyManifest(manifest()), spec: { podSelector: {}, policyTypes: ['Sideways'] } }).join('\n')).toMatch(/policyTypes\/0 must be equal to one of the allowed values/);
  });

  it('the probe is a Job with a task\'s isolation that only reads the state directory, valid against the Kubernetes schema', () => {
    const probe = (extra: Partial<KubernetesSettings> = {}) =>
      probeJobManifest({ name: 'medperf-git-probe-0123456789ab', folder: join(tmp, 'state', 'jobs', 'probe'), token: 'token-n', nonce: 'n', user: { uid: 1000, gid: 1000 }, settings: settings(extra) });
    const job = probe();
    expect(manifestErrors('Job', job)).toEqual([]);
    const pod = job.spec!.template.spec!;
    const container = pod.containers[0]!;
    expect(job.spec).toMatchObject({ suspend: true, backoffLimit: 0, activeDeadlineSeconds: 300 });
    expect(pod).toMatchObject({ restartPolicy: 'Never', automountServiceAccountToken: false, securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } } });
    expect(container.securityContext).toEqual({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, privileged: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.volumeMounts).toEqual([{ name: 'data', mountPath: '/probe', subPath: 'state/jobs/probe', readOnly: true }]);
    expect(pod.volumes).toEqual([{ name: 'data', persistentVolumeClaim: { claimName: 'medperf-data', readOnly: true } }]);
    expect(container.image).toBe('busybox:1.36');
    expect(job.metadata!.labels!['medperf-git/task']).toBe('probe');
    const other = probe({ data: { hostPath: '/srv/medperf', path: tmp }, probeImage: 'registry.hospital.example/tools/busybox:1.36' });
    expect(manifestErrors('Job', other)).toEqual([]);
    expect(other.spec!.template.spec!.containers[0]!.image).toBe('registry.hospital.example/tools/busybox:1.36');
    expect(manifestErrors('NetworkPolicy', networkPolicyManifest({ ...job, metadata: { ...job.metadata, uid: '0c3b2a9e-5f1d-4e7a-9d41-2f0f6a6c1b7e' } }))).toEqual([]);
    expect(() => probeJobManifest({ name: 'p', folder: '/elsewhere/jobs/probe', token: 't', nonce: 'n', user: { uid: 1000, gid: 1000 }, settings: settings() })).toThrow('/elsewhere/jobs/probe is not under');
    expect(() => probeJobManifest({ name: 'p', folder: join(tmp, 'p'), token: 't', nonce: 'n', user: { uid: 0, gid: 0 }, settings: settings() })).toThrow('a probe never runs as root');
  });

  it('label values are valid for any cube id', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (id) => {
        const v = labelValue(id);
        expect(v.length).toBeLessThanOrEqual(63);
        expect(v).toMatch(/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/);
      }),
    );
  });

  it('refuses what the cluster cannot do as asked, naming it', () => {
    expect(() => volumePath({ claim: 'medperf-data', path: tmp }, '/home/someone/raw-ct')).toThrow(`/home/someone/raw-ct is not under ${tmp}, the folder the cluster's pods see (PersistentVolumeClaim medperf-data): move it there`);
    expect(() => volumePath({ hostPath: '/srv/m', path: join(tmp, 'a') }, join(tmp, 'ab'))).toThrow('(hostPath /srv/m)');
    expect(volumePath({ claim: 'c', path: tmp }, tmp)).toBe('');
    for (const gpus of ['all', 'device=0,1', 'two']) expect(() => gpuCount(gpus)).toThrow(`--gpus ${gpus}: on Kubernetes, give a number of GPUs`);
    expect([gpuCount(undefined), gpuCount('0'), gpuCount(3), gpuCount('2')]).toEqual([0, 0, 3, 2]);
  });
});

describe('the Kubernetes executor, against the API server stand-in', () => {
  it('runs infer and evaluate as two Jobs, each started only under its deny-all NetworkPolicy, and reads their logs', async () => {
    const stateDir = join(tmp, 'state-ok');
    const lines: string[] = [];
    const before = standin.requests.length;
    const { value, job } = await (await executor(stateDir)).run(await request(stateDir, 'ok', { onStatus: (l) => lines.push(l) }));
    expect(value.result.metrics).toEqual({ accuracy: 0.5 });
    const names = job!.split(',');
    expect(names).toHaveLength(2);
    expect(lines).toContain(`test/k8s-ok infer: submitted as Kubernetes Job ${names[0]} (namespace radiology)`);
    expect(lines).toContain(`test/k8s-ok infer: running on standin-node-1 (Kubernetes Job ${names[0]})`);
    expect(lines).toContain(`test/k8s-ok evaluate: submitted as Kubernetes Job ${names[1]} (namespace radiology)`);
    const pods = [...standin.pods.values()].filter((p) => names.includes(p.pod.metadata!.labels!['medperf-git/job']!));
    expect(pods.map((p) => [p.pod.metadata!.labels!['medperf-git/task'], p.isolated])).toEqual([['infer', true], ['evaluate', true]]);
    expect(standin.refused).toEqual([]);
    const probe = standin.requests.slice(before).find((r) => r.startsWith('PATCH'))!.split('/').pop()!;
    expect(probe).toMatch(/^medperf-git-probe-[0-9a-f]{12}$/);
    expect(standin.requests.slice(before).filter((r) => !r.startsWith('GET'))).toEqual([
      // First the probe: do the pods see the state directory?
      'POST /apis/batch/v1/namespaces/radiology/jobs',
      'POST /apis/networking.k8s.io/v1/namespaces/radiology/networkpolicies',
      `PATCH /apis/batch/v1/namespaces/radiology/jobs/${probe}`,
      `DELETE /apis/batch/v1/namespaces/radiology/jobs/${probe}`,
      'POST /apis/batch/v1/namespaces/radiology/jobs',
      'POST /apis/networking.k8s.io/v1/namespaces/radiology/networkpolicies',
      `PATCH /apis/batch/v1/namespaces/radiology/jobs/${names[0]}`,
      'POST /apis/batch/v1/namespaces/radiology/jobs',
      'POST /apis/networking.k8s.io/v1/namespaces/radiology/networkpolicies',
      `PATCH /apis/batch/v1/namespaces/radiology/jobs/${names[1]}`,
    ]);
    // The infer log holds what the pod printed: the writes its isolation refused, too.
    const log = readFileSync(join(stateDir, 'logs', readdirLog(stateDir, 'infer')), 'utf8');
    expect(log).toContain('infer in mode ok');
    expect(log).toMatch(/refused: EROFS: read-only file system, open '\/mlcube_io\d\/x.txt'/);
    expect(log).toContain("refused: EROFS: read-only file system, open '/etc/passwd'");
    expect(log).toContain('[medperf-git] infer exited with 0');
  });

  it('stops before any task when the pods do not see the state directory, naming the volume, and remembers a success for a day', async () => {
    const stateDir = join(tmp, 'state-probe');
    const jobsBefore = standin.requests.filter((r) => r === 'POST /apis/batch/v1/namespaces/radiology/jobs').length;
    const elsewhere = await executor(stateDir, { data: { claim: 'elsewhere', path: tmp } });
    const error = (await elsewhere.run(await request(stateDir, 'ok')).catch((e) => e)) as Error & { code: string };
    expect(error.code).toBe('state-not-shared');
    expect(error.message).toMatch(new RegExp(`^the state directory ${stateDir} is not visible in the pods of namespace radiology \\(node standin-node-1\\) through PersistentVolumeClaim elsewhere \\(the probe Job medperf-git-probe-[0-9a-f]{12} ended: BackoffLimitExceeded\\)`));
    expect(error.message).toMatch(/nothing was submitted$/);
    // Only the probe was submitted, and it is gone with its NetworkPolicy; so is its token.
    expect(standin.requests.filter((r) => r === 'POST /apis/batch/v1/namespaces/radiology/jobs').length).toBe(jobsBefore + 1);
    expect([...standin.jobs.keys()].some((k) => k.includes('probe'))).toBe(false);
    expect([...standin.policies.keys()].some((k) => k.includes('probe'))).toBe(false);
    expect(readdirSync(join(stateDir, 'jobs', 'probe')).filter((f) => f.startsWith('token-'))).toEqual([]);
    // The volume that holds it: the probe passes once, then a second command asks nothing.
    await (await executor(stateDir)).run(await request(stateDir, 'ok'));
    const seen = standin.requests.filter((r) => r === 'POST /apis/batch/v1/namespaces/radiology/jobs').length;
    await (await executor(stateDir)).run(await request(stateDir, 'ok', { key: 'execute-ok-again' }));
    expect(standin.requests.filter((r) => r === 'POST /apis/batch/v1/namespaces/radiology/jobs').length).toBe(seen);
  });

  it('reports a model that fails with its task, its exit code and its log', async () => {
    const stateDir = join(tmp, 'state-fail');
    const error = (await (await executor(stateDir)).run(await request(stateDir, 'fail')).catch((e) => e)) as TaskFailedError;
    expect(error.code).toBe('task-failed');
    expect(error.task).toBe('infer');
    expect(error.message).toMatch(/^test\/k8s-fail infer: failed with exit code 3\n/);
    expect(error.message).toContain('  | out of memory after the last batch');
  });

  it('a task past its timeout is stopped by the Job\'s activeDeadlineSeconds', async () => {
    const stateDir = join(tmp, 'state-deadline');
    const req = await request(stateDir, 'hang', { resources: { timeouts: { infer: 1000 } } });
    const error = (await (await executor(stateDir)).run(req).catch((e) => e)) as TaskFailedError;
    expect(error.code).toBe('task-failed');
    expect(error.constructor.name).toBe('TaskTimeoutError');
    expect(error.message).toMatch(/^test\/k8s-hang infer: killed after its timeout of 1s\n/);
    const job = [...standin.jobs.values()].find((j) => j.metadata!.labels!['medperf-git/cube'] === 'test.k8s-hang');
    expect(job?.spec?.activeDeadlineSeconds).toBe(1);
    expect(job?.status?.conditions?.find((c) => c.type === 'Failed')?.reason).toBe('DeadlineExceeded');
  });

  it('cancelling deletes the running Job, its pod and its NetworkPolicy', async () => {
    const stateDir = join(tmp, 'state-cancel');
    const lines: string[] = [];
    const k8s = await executor(stateDir);
    const running = k8s.run(await request(stateDir, 'hang', { onStatus: (l) => lines.push(l) })).catch((e) => e as Error);
    for (let i = 0; i < 200 && !lines.some((l) => l.includes('running on')); i++) await new Promise((r) => setTimeout(r, 25));
    const name = /Kubernetes Job (\S+)\)/.exec(lines.find((l) => l.includes('running on'))!)![1]!;
    expect(await k8s.cancelAll()).toEqual([name]);
    expect(((await running) as Error).message).toBe(`Kubernetes Job ${name} was deleted before it finished`);
    expect(standin.jobs.has(`radiology/${name}`)).toBe(false);
    expect(standin.policies.has(`radiology/${name}`)).toBe(false);
    expect([...standin.pods.values()].some((p) => p.pod.metadata!.labels!['medperf-git/job'] === name)).toBe(false);
    expect(await k8s.cancelAll()).toEqual([]);
  });

  it('keeps running when the CLI is killed, and the next one re-attaches to the Job instead of submitting it again', async () => {
    const stateDir = join(tmp, 'state-reattach');
    const req = await request(stateDir, 'slow');
    const script = join(tmp, 'submit.mts');
    writeFileSync(
      script,
      `import { KubernetesExecutor, kubernetesClient } from ${JSON.stringify(fileURLToPath(new URL('./kubernetes.ts', import.meta.url)))};
const req = JSON.parse(process.argv[2]);
const client = await kubernetesClient(process.env);
await new KubernetesExecutor(${JSON.stringify(stateDir)}, ${JSON.stringify(settings())}, client).run({ ...req, onStatus: (l) => console.log(l) });
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(req)], { env: { ...process.env, KUBECONFIG: kubeconfig }, stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 600 && !/running on/.test(out); i++) await new Promise((r) => setTimeout(r, 25));
    const name = /submitted as Kubernetes Job (\S+)/.exec(out)![1]!;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const submitted = standin.requests.filter((r) => r === 'POST /apis/batch/v1/namespaces/radiology/jobs').length;
    const lines: string[] = [];
    const { value, job } = await (await executor(stateDir)).run({ ...req, onStatus: (l) => lines.push(l) });
    expect(lines[0]).toBe(`test/k8s-slow infer: re-attached to Kubernetes Job ${name} (running)`);
    expect(value.result.metrics).toEqual({ accuracy: 0.5 });
    expect(job!.split(',')[0]).toBe(name);
    // Only evaluate was submitted anew.
    expect(standin.requests.filter((r) => r === 'POST /apis/batch/v1/namespaces/radiology/jobs').length).toBe(submitted + 1);
  }, 60_000);
});

function readdirLog(stateDir: string, task: string): string {
  return readdirSync(join(stateDir, 'logs')).find((f) => f.endsWith(`-${task}-${process.pid}.log`))!;
}

describe('medperf-git --executor kubernetes, before anything is submitted', () => {
  const home = join(tmp, 'cli-home');
  const cli = async (profile: string, argv: string[]) => {
    mkdirSync(home, { recursive: true });
    writeFileSync(join(home, 'profile.yaml'), profile);
    return runCli(['test', 'run', '--executor', 'kubernetes', ...argv], { env: { ...process.env, MEDPERF_GIT_HOME: home, KUBECONFIG: kubeconfig }, cwd: tmp });
  };

  it('asks for the volume the pods see', async () => {
    const r = await cli('kubernetes:\n  namespace: radiology\n', []);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`--executor kubernetes: name the volume the pods read and write in ${join(home, 'profile.yaml')}: kubernetes.data.claim (a PersistentVolumeClaim) or kubernetes.data.host_path`);
  });

  it('refuses a profile it cannot read, naming the file and the field', async () => {
    const file = join(home, 'profile.yaml');
    const variants: [string, string][] = [
      ['kubernetes: [a]\n', `${file}: kubernetes must be a mapping`],
      ['kubernetes:\n  namespace: 3\n', `${file}: kubernetes.namespace must be a string`],
      ['kubernetes:\n  probe_image: [busybox]\n', `${file}: kubernetes.probe_image must be a string`],
      ['kubernetes:\n  ttl_seconds: -1\n', `${file}: kubernetes.ttl_seconds must be a whole number of seconds`],
      ['kubernetes:\n  data: { claim: a, host_path: /b }\n', `${file}: kubernetes.data must be either claim or host_path, not both`],
      ['kubernetes:\n  data: { host_path: srv/data }\n', `${file}: kubernetes.data.host_path must be an absolute path`],
      ['executor: kubernetess\n', `${file}: executor must be one of local, slurm, kubernetes`],
    ];
    for (const [profile, message] of variants) {
      const r = await cli(profile, []);
      expect(r.err, profile).toContain(message);
      expect(r.code, profile).not.toBe(0);
    }
  });

  it('says before anything is submitted that the pods would not see the state directory', async () => {
    const r = await cli('kubernetes:\n  data: { host_path: /srv/medperf, path: /srv/medperf }\n', []);
    expect(r.err).toContain(`${home} is not under /srv/medperf, the folder the cluster's pods see (hostPath /srv/medperf): move it there`);
    expect(r.code).not.toBe(0);
  });

  it('leaves the container runtime to the cluster', async () => {
    const r = await cli('kubernetes:\n  data: { claim: medperf-data }\n', ['--runner', 'singularity']);
    expect(r.err).toContain("--runner singularity: on Kubernetes the cluster runs the cube's image; leave --runner out");
  });
});
