// The Slurm executor against a real single-node Slurm cluster (testing/slurm-cluster.ts starts it)
// running real containers: a model's infer and evaluate as one job with its resources applied to
// the container, a job that fails, a job past its time limit, a CLI killed while its job runs and
// a second one re-attaching, and Ctrl-C cancelling the job with its container.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Docker from 'dockerode';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildCubeImage } from '../demo/images.ts';
import { executionRequest, TEST_CUBE } from '../../testing/executor-requests.ts';
import type { ChainRequest } from './executor.ts';
import { type ChainFailedError, SlurmExecutor } from './slurm.ts';

const docker = new Docker();
const tmp = mkdtempSync(join(tmpdir(), 'slurm-executor-test-'));
const BIN = fileURLToPath(new URL('../../bin/medperf-git.js', import.meta.url));
const env = () => ({ ...process.env, SLURM_CONF: process.env.SLURM_CONF! });
const squeue = (id: string) => execFileSync('squeue', ['-h', '-j', id, '-o', '%T'], { env: env(), encoding: 'utf8' }).trim();
const jobContainers = (id: string) => docker.listContainers({ all: true, filters: { label: [`org.medperf-git.job=${id}`] } });

let imageId: string;

const request = (stateDir: string, mode: string, extra: Partial<ChainRequest<'execute-model'>> = {}) => executionRequest(tmp, stateDir, { prefix: 'slurm', mode, digest: imageId }, extra);

beforeAll(async () => {
  imageId = await buildCubeImage(TEST_CUBE, 'medperf-git-test/slurm-cube:2', docker);
}, 120_000);

describe('the Slurm executor, on a real cluster', () => {
  it('runs a model\'s infer and evaluate as one job, its allocation applied to the container', async () => {
    const stateDir = join(tmp, 'state-ok');
    const lines: string[] = [];
    const executor = new SlurmExecutor(stateDir, 'docker', { env: env() });
    const req = await request(stateDir, 'ok', { onStatus: (l) => lines.push(l) });
    const running = executor.run(req);
    // While infer runs, its container carries the job's id and the job's CPUs and memory.
    let seen: Docker.ContainerInspectInfo | undefined;
    for (let i = 0; i < 300 && !seen; i++) {
      const id = lines.map((l) => /Slurm job (\d+)/.exec(l)?.[1]).find(Boolean);
      const [c] = id ? await jobContainers(id) : [];
      if (c) seen = await docker.getContainer(c.Id).inspect().catch(() => undefined);
      else await new Promise((r) => setTimeout(r, 100));
    }
    const { value, job } = await running;
    expect(value.result.metrics).toEqual({ accuracy: 0.5 });
    expect(value.cached).toBe(false);
    expect(job).toMatch(/^\d+$/);
    expect(lines[0]).toBe(`test/slurm-ok submitted as Slurm job ${job}`);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^test/slurm-ok running on \\S+ \\(Slurm job ${job}\\)$`)));
    expect(seen?.HostConfig.NanoCpus).toBe(1e9);
    expect(seen?.HostConfig.Memory).toBe(256 * 1024 ** 2);
    expect(seen?.HostConfig.NetworkMode).toBe('none');
    expect(await jobContainers(job!)).toEqual([]);
    const log = readFileSync(join(stateDir, 'jobs', req.key, `slurm-${job}.log`), 'utf8');
    expect(log).toContain(`medperf-git job ${job}: execute-model of test/slurm-ok`);
    expect(log).toContain('infer: done');
  }, 120_000);

  it('runs the chain with --runner singularity: Apptainer on the node, with MedPerf\'s isolation flags and no Docker', async () => {
    const stateDir = join(tmp, 'state-singularity');
    // No Apptainer here: a stand-in on the job's PATH runs the test cube's program as the .sif would.
    const apptainer = fileURLToPath(new URL('../../testing/fixtures/apptainer-standin/', import.meta.url));
    const executor = new SlurmExecutor(stateDir, 'singularity', { env: { ...env(), PATH: `${apptainer}:${process.env.PATH}` } });
    const req = await request(stateDir, 'ok');
    const { value, job } = await executor.run(req);
    expect(value.result.metrics).toEqual({ accuracy: 0.5 });
    expect(await jobContainers(job!)).toEqual([]);
    const calls = readFileSync(join(stateDir, 'cache', 'sif', 'calls.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as string[]);
    // The .sif is built once, from the pinned image, into a partial file of this node's own.
    expect(calls.filter((c) => c[0] === 'build')).toEqual([['build', expect.stringMatching(/medperf-git-test_slurm-cube_2\.sif\.partial-\S+-\d+$/), `docker://medperf-git-test/slurm-cube@${imageId}`]]);
    const runs = calls.filter((c) => c[0] === 'run');
    const sif = join(stateDir, 'cache', 'sif', 'medperf-git-test_slurm-cube_2.sif');
    expect(runs.map((c) => c[c.indexOf(sif) + 1])).toEqual(['infer', 'evaluate']);
    for (const run of runs) expect(run.slice(0, 5)).toEqual(['run', '-eC', '--net', '--network', 'none']);
    expect(runs[0]).toContainEqual(expect.stringMatching(new RegExp(`^${join(stateDir, 'prepared', 'data')}:/mlcube_io\\d:ro$`)));
    expect(runs[0]).toContainEqual(expect.stringMatching(/predictions\.partial-\d+-\d+\/predictions:\/mlcube_io\d:rw$/));
  }, 120_000);

  it('checks that the state directory is visible where jobs run before the first one, and remembers it for a day', async () => {
    const stateDir = join(tmp, 'state-probe');
    const executor = new SlurmExecutor(stateDir, 'docker', { env: env() });
    // A node that does not see the state directory does not read the token written there.
    const blind = await executor.probe(join(stateDir, 'not-on-this-node'), 'x', { timeouts: {} });
    expect(blind.visible).toBe(false);
    expect(blind.node).not.toBe('');
    await executor.checkVisible({ timeouts: {} });
    const seen = JSON.parse(readFileSync(join(stateDir, 'jobs', 'probe', 'visible.json'), 'utf8'));
    expect(seen.node).toBe(blind.node);
    expect(readdirSync(join(stateDir, 'jobs', 'probe'))).toEqual(['visible.json']);
    // Not visible: nothing is submitted, and the message says where and what to do.
    class Blind extends SlurmExecutor {
      override probe = async () => ({ visible: false, node: 'gpu-node-7' });
    }
    const other = join(tmp, 'state-probe-blind');
    const error = (await new Blind(other, 'docker', { env: env() }).run(await request(other, 'ok')).catch((e) => e)) as ChainFailedError;
    expect(error.code).toBe('state-not-shared');
    expect(error.message).toBe(`the state directory ${other} is not visible on gpu-node-7 where Slurm runs jobs: put it on storage the compute nodes share (MEDPERF_GIT_HOME), or use --executor local; nothing was submitted`);
    expect(readdirSync(join(other, 'jobs')).filter((f) => f !== 'probe').flatMap((f) => readdirSync(join(other, 'jobs', f)))).not.toContain('job.json');
  }, 120_000);

  it('cancels the jobs queued behind a probe job that finds the state directory not visible, before they start', async () => {
    const stateDir = join(tmp, 'state-probe-queued');
    // The probe job reads a token that is not there, as on a node that does not see the state directory.
    class Elsewhere extends SlurmExecutor {
      override probe(token: string, nonce: string, resources: ChainRequest<'execute-model'>['resources'], submitted?: (id: string) => void, released?: Promise<void>) {
        return super.probe(join(tmp, 'not-on-this-node'), nonce, resources, submitted, released);
      }
    }
    const req = await request(stateDir, 'ok');
    const error = (await new Elsewhere(stateDir, 'docker', { env: env() }).run(req).catch((e) => e)) as ChainFailedError;
    expect(error.code).toBe('state-not-shared');
    expect(error.message).toMatch(new RegExp(`^the state directory ${stateDir} is not visible on \\S+ where Slurm runs jobs: .*; the jobs queued behind the check were cancelled before they started$`));
    const job = JSON.parse(readFileSync(join(stateDir, 'jobs', req.key, 'job.json'), 'utf8')) as { id: string; after: string[] };
    expect(job.after).toHaveLength(1);
    expect(['', 'CANCELLED']).toContain(squeue(job.id));
    expect(readdirSync(join(stateDir, 'jobs', req.key))).not.toContain('started.json');
  }, 120_000);

  it('runs the probe through srun (allocated at once), and as a batch job where srun cannot run it or would run a step of an allocation the command runs in', async () => {
    const realSrun = execFileSync('sh', ['-c', 'command -v srun'], { encoding: 'utf8' }).trim();
    for (const works of [true, false, 'inside an allocation'] as const) {
      const bin = join(tmp, `srun-${works}`);
      mkdirSync(bin, { recursive: true });
      const log = join(bin, 'calls.log');
      // srun as it is here, or as on a cluster whose nodes cannot reach this machine for its output.
      writeFileSync(
        join(bin, 'srun'),
        `#!/bin/sh\nprintf '%s\\n' "$*" >> '${log}'\n${works ? `'${realSrun}' "$@"; code=$?; echo "exit $code" >> '${log}'; exit $code` : `echo 'srun: error: Task launch failed: Connection refused' >&2; exit 1`}\n`,
        { mode: 0o755 },
      );
      const stateDir = join(tmp, `state-srun-${works}`);
      const inside = works === 'inside an allocation' ? { SLURM_JOB_ID: '999999' } : {};
      const executor = new SlurmExecutor(stateDir, 'docker', { env: { ...env(), ...inside, PATH: `${bin}:${process.env.PATH}` } });
      const { value } = await executor.run(await request(stateDir, 'ok'));
      expect(value.result.metrics).toEqual({ accuracy: 0.5 });
      expect(JSON.parse(readFileSync(join(stateDir, 'jobs', 'probe', 'visible.json'), 'utf8')).node).not.toBe('');
      if (works === 'inside an allocation') {
        expect(existsSync(log)).toBe(false);
        continue;
      }
      const calls = readFileSync(log, 'utf8').trim().split('\n');
      expect(calls[0]).toContain('--job-name=medperf-git:probe');
      // Through srun, the probe's job ended well (the node read the token); else srun was tried once.
      expect(calls.slice(1)).toEqual(works ? ['exit 0'] : []);
    }
  }, 120_000);

  it('reports a model that fails with its task, its log and its job', async () => {
    const stateDir = join(tmp, 'state-fail');
    const error = (await new SlurmExecutor(stateDir, 'docker', { env: env() }).run(await request(stateDir, 'fail')).catch((e) => e)) as ChainFailedError;
    expect(error.code).toBe('task-failed');
    expect(error.task).toBe('infer');
    expect(error.message).toMatch(/^test\/slurm-fail infer: failed with exit code 3\n/);
    expect(error.message).toContain('  | out of memory after the last batch');
    expect(error.message).toMatch(/\(Slurm job \d+ on \S+; its log: .*slurm-\d+\.log\)$/);
  }, 120_000);

  it('stops a job past its time limit, and its container with it', async () => {
    const stateDir = join(tmp, 'state-time');
    // A time limit from the profile's scheduler options: one minute, for a model that hangs.
    const req = await request(stateDir, 'hang', { resources: { cpus: 1, timeouts: {}, schedulerOptions: ['--time=1'] } });
    const lines: string[] = [];
    const error = (await new SlurmExecutor(stateDir, 'docker', { env: env() }).run({ ...req, onStatus: (l) => lines.push(l) }).catch((e) => e)) as ChainFailedError;
    const job = /Slurm job (\d+)/.exec(lines[0]!)![1]!;
    expect(error.code).toBe('job-time-limit');
    expect(error.message).toMatch(new RegExp(`^Slurm job ${job} \\(test/slurm-hang\\) exceeded its time limit and was stopped, its container with it`));
    expect(await jobContainers(job)).toEqual([]);
  }, 240_000);

  it('queues every chain at once and Slurm keeps to the number at once: a job waits for the one before it, and one still queued when the command stops is cancelled, not run', async () => {
    const stateDir = join(tmp, 'state-lanes');
    const executor = new SlurmExecutor(stateDir, 'docker', { env: env(), atOnce: 1 });
    const stop = new AbortController();
    const lines: string[] = [];
    const first = await request(stateDir, 'hang', { signal: stop.signal, onStatus: (l) => lines.push(l) });
    const second = await request(stateDir, 'ok', { signal: stop.signal });
    const running = executor.run(first).catch((e: ChainFailedError) => e);
    const queued = executor.run(second).catch((e: ChainFailedError) => e);
    for (let i = 0; i < 300 && !lines.some((l) => / running on /.test(l)); i++) await new Promise((r) => setTimeout(r, 100));
    const record = (key: string) => JSON.parse(readFileSync(join(stateDir, 'jobs', key, 'job.json'), 'utf8')) as { id: string; after: string[] };
    const [a, b] = [record(first.key), record(second.key)];
    // Both were submitted at once; the second waits in Slurm's queue for the first (and both for the probe job).
    expect(b.after).toContain(a.id);
    expect(a.after).toHaveLength(1);
    expect(squeue(b.id)).toBe('PENDING');
    stop.abort();
    const notStarted = (await queued) as ChainFailedError;
    expect(notStarted.code).toBe('not-started');
    expect(notStarted.message).toBe(`test/slurm-ok was not started (its job ${b.id} was cancelled while queued)`);
    expect(['', 'CANCELLED']).toContain(squeue(b.id));
    expect(readdirSync(join(stateDir, 'jobs', second.key))).not.toContain('started.json');
    // The job that runs goes on until it ends (here: until it is cancelled).
    expect(squeue(a.id)).toBe('RUNNING');
    expect(await executor.cancelAll()).toEqual([a.id]);
    expect(((await running) as ChainFailedError).code).toBe('job-cancelled');
  }, 120_000);

  it('keeps running when the CLI is killed, and a second one re-attaches to it', async () => {
    const stateDir = join(tmp, 'state-reattach');
    const req = await request(stateDir, 'ok');
    const script = join(tmp, 'submit.mts');
    writeFileSync(
      script,
      `import { SlurmExecutor } from ${JSON.stringify(fileURLToPath(new URL('./slurm.ts', import.meta.url)))};
const req = JSON.parse(process.argv[2]);
await new SlurmExecutor(${JSON.stringify(stateDir)}, 'docker').run({ ...req, onStatus: (l) => console.log(l) });
`,
    );
    const child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(req)], { env: env(), stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('../..', import.meta.url)) });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    for (let i = 0; i < 300 && !/submitted as Slurm job/.test(out); i++) await new Promise((r) => setTimeout(r, 100));
    const job = /Slurm job (\d+)/.exec(out)![1]!;
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(['PENDING', 'RUNNING']).toContain(squeue(job));
    const lines: string[] = [];
    const { value, job: attached } = await new SlurmExecutor(stateDir, 'docker', { env: env() }).run({ ...req, onStatus: (l) => lines.push(l) });
    expect(attached).toBe(job);
    expect(lines[0]).toMatch(new RegExp(`^test/slurm-ok re-attached to Slurm job ${job} \\((pending|running)\\)$`));
    expect(value.result.metrics).toEqual({ accuracy: 0.5 });
  }, 120_000);

  it('Ctrl-C cancels the submitted job, says so, and its container goes', async () => {
    const stateDir = join(tmp, 'state-cancel');
    const child = spawn(process.execPath, [BIN, 'test', 'run', '--executor', 'slurm', '-m', join(tmp, 'cube-hang')], {
      env: { ...env(), MEDPERF_GIT_HOME: stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.resume();
    // Once infer's container runs (prepare, sanity_check and statistics came first), interrupt.
    let job: string | undefined;
    for (let i = 0; i < 900; i++) {
      job = /Slurm job (\d+)/.exec(err)?.[1];
      if (job && (await jobContainers(job)).some((c) => c.Labels['org.medperf-git.task'] === 'infer')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect((await jobContainers(job!)).length).toBe(1);
    child.kill('SIGINT');
    const code = await new Promise((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(err).toContain(`Interrupted (SIGINT): cancelled Slurm job ${job}.`);
    for (let i = 0; i < 200 && (await jobContainers(job!)).length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await jobContainers(job!)).toEqual([]);
    expect(['', 'CANCELLED']).toContain(squeue(job!));
  }, 180_000);
});
