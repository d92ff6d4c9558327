// The Docker runner against the real engine: a hostile model's every attempt is denied, a task past
// its timeout is killed and its container removed, and a mismatched asset of any kind stops
// everything before a container exists.
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import Docker from 'dockerode';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCubeImage, buildDemoImages, CUBES_DIR, DEMO_CUBES } from '../demo/images.ts';
import { HashMismatchError } from '../../registry/errors.ts';
import type { CubeRecord } from '../../registry/records.ts';
import { runCompatibilityTest } from '../compatibility.ts';
import { loadCube } from '../cube/config.ts';
import { imageOf, type RunnableCube } from '../cube/execute.ts';
import { materializeCube } from '../cube/materialize.ts';
import { planTask } from '../cube/plan.ts';
import { containerSpec, DockerRunner } from './docker.ts';
import { ProcessRunner } from './process.ts';
import { TaskFailedError, TaskTimeoutError } from './runner.ts';

const docker = new Docker();
const tmp = mkdtempSync(join(tmpdir(), 'docker-runner-test-'));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const FIXTURE = new URL('../../testing/fixtures/hostile-cube/', import.meta.url).pathname;
let server: Server;
let connections = 0;
let hostile: string;
const hostIp =
  Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address ?? '127.0.0.1';

beforeAll(async () => {
  server = createServer((s) => {
    connections++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '0.0.0.0', r));
  // The hostile cube, its parameters naming this test's server and a secret on the host.
  hostile = join(tmp, 'hostile-cube');
  cpSync(FIXTURE, hostile, { recursive: true });
  writeFileSync(join(tmp, 'secret.txt'), 'patient names');
  mkdirSync(join(hostile, 'workspace'), { recursive: true });
  writeFileSync(
    join(hostile, 'workspace', 'parameters.yaml'),
    `host: ${hostIp}\nport: ${(server.address() as { port: number }).port}\nsecret: ${join(tmp, 'secret.txt')}\n`,
  );
  await buildCubeImage(hostile, 'medperf-git-test/hostile:1', docker);
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

/** This file's containers only: other test files (Slurm's, say) run containers of their own meanwhile. */
async function containersLabelled(task: string) {
  return docker.listContainers({ all: true, filters: { label: [`org.medperf-git.task=${task}`, 'org.medperf-git.cube=test/hostile'] } });
}

describe('a hostile model in the Docker runner', () => {
  it('is denied every attempt: network, writing its inputs, reading the host, root, the system, a fork bomb', async () => {
    const stateDir = join(tmp, 'state-hostile');
    const data = join(tmp, 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'image.pgm'), 'P5\n1 1\n255\n\x00');
    const out = join(tmp, 'out-docker');
    const plan = planTask(loadCube(hostile), 'infer', { bindings: { data_path: data, output_path: out } });
    const result = await new DockerRunner(stateDir).run({ plan, label: 'test/hostile', limits: { pids: 64, memoryBytes: 1024 ** 3, timeoutMs: 60_000 } });
    const attempts = JSON.parse(readFileSync(join(out, 'attempts.json'), 'utf8'));
    expect(Object.keys(attempts)).toEqual(['network', 'write_input', 'read_host', 'root', 'write_system', 'fork_bomb']);
    expect(attempts.fork_bomb).toMatch(/^denied: \d+ of 100 processes running/);
    for (const [attempt, outcome] of Object.entries(attempts)) expect(`${attempt}: ${outcome}`).toMatch(new RegExp(`^${attempt}: denied`));
    expect(attempts.write_input).toBe('denied: EROFS');
    expect(attempts.read_host).toBe('denied: ENOENT');
    expect(readdirSync(data)).toEqual(['image.pgm']);
    expect(connections).toBe(0);
    expect(readFileSync(result.logFile, 'utf8')).toContain('"network":"denied');
    expect(await containersLabelled('infer')).toEqual([]);
  });

  it('is not held back by the process runner, which is why that runner warns', async () => {
    const data = join(tmp, 'data-process');
    mkdirSync(data, { recursive: true });
    const out = join(tmp, 'out-process');
    const warnings: string[] = [];
    // The same cube without its fork bomb: nothing would stop it here.
    const unbounded = join(tmp, 'hostile-process');
    cpSync(hostile, unbounded, { recursive: true });
    writeFileSync(join(unbounded, 'workspace', 'parameters.yaml'), readFileSync(join(hostile, 'workspace', 'parameters.yaml'), 'utf8') + 'fork_bomb: 0\n');
    const plan = planTask(loadCube(unbounded), 'infer', { bindings: { data_path: data, output_path: out } });
    await new ProcessRunner(join(tmp, 'state-process'), (w) => warnings.push(w)).run({ plan, label: 'test/hostile', limits: { timeoutMs: 60_000 } });
    const attempts = JSON.parse(readFileSync(join(out, 'attempts.json'), 'utf8'));
    expect(attempts.read_host).toBe('ALLOWED');
    expect(attempts.write_input).toBe('ALLOWED');
    if (hostIp !== '127.0.0.1') expect(attempts.network).toBe('ALLOWED');
    expect(warnings).toHaveLength(1);
  });

  it('is killed when it runs past its timeout, and its container is gone', async () => {
    const plan = planTask(loadCube(hostile), 'hang');
    const error = await new DockerRunner(join(tmp, 'state-hang')).run({ plan, label: 'test/hostile', limits: { timeoutMs: 2000 } }).catch((e) => e);
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect(error.message).toMatch(/^test\/hostile hang: killed after its timeout of 2s\nlast lines of the log:\n {2}\| hanging forever\n/);
    expect(error.message).toMatch(/whole log: .*state-hang\/logs\/.*hang.*\.log$/);
    expect(await containersLabelled('hang')).toEqual([]);
  });

  it('goes with the CLI when the CLI is interrupted: no container is left running', async () => {
    const script = join(tmp, 'interrupted.mts');
    const here = new URL('.', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { loadCube } from '${here}../cube/config.ts';
import { planTask } from '${here}../cube/plan.ts';
import { DockerRunner } from '${here}docker.ts';
const plan = { ...planTask(loadCube(${JSON.stringify(hostile)}), 'hang'), task: 'hang-interrupted' };
await new DockerRunner(${JSON.stringify(join(tmp, 'state-interrupted'))}).run({ plan, label: 'test/hostile', limits: { timeoutMs: 600000 } });
`,
    );
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore', cwd: new URL('../..', import.meta.url).pathname });
    const running = async () => (await containersLabelled('hang-interrupted')).filter((c) => c.State === 'running').length;
    for (let i = 0; i < 300 && (await running()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(await running()).toBe(1);
    child.kill('SIGTERM');
    const [, signal] = (await new Promise((r) => child.once('exit', (...a) => r(a)))) as [number | null, string | null];
    expect(signal).toBe('SIGTERM');
    expect(await containersLabelled('hang-interrupted')).toEqual([]);
  });

  it('killed with SIGKILL, the CLI leaves a container that the next run removes', async () => {
    const script = join(tmp, 'killed.mts');
    const here = new URL('.', import.meta.url).pathname;
    writeFileSync(
      script,
      `import { loadCube } from '${here}../cube/config.ts';
import { planTask } from '${here}../cube/plan.ts';
import { DockerRunner } from '${here}docker.ts';
const plan = { ...planTask(loadCube(${JSON.stringify(hostile)}), 'hang'), task: 'hang-killed' };
await new DockerRunner(${JSON.stringify(join(tmp, 'state-killed'))}).run({ plan, label: 'test/hostile', limits: { timeoutMs: 600000 } });
`,
    );
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore', cwd: new URL('../..', import.meta.url).pathname });
    const left = async () => (await containersLabelled('hang-killed')).length;
    for (let i = 0; i < 300 && (await left()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // Nothing could remove it: the process that owned it is gone.
    expect(await left()).toBe(1);
    const quick = { ...planTask(loadCube(hostile), 'hang'), command: ['no-such-task'] };
    await new DockerRunner(join(tmp, 'state-killed')).run({ plan: quick, label: 'test/hostile' }).catch(() => {});
    expect(await left()).toBe(0);
  });

  it('reports a failing task with the last lines of its log and where the log is', async () => {
    const plan = { ...planTask(loadCube(hostile), 'hang'), command: ['no-such-task'] };
    const error = await new DockerRunner(join(tmp, 'state-fail')).run({ plan, label: 'test/hostile' }).catch((e) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect(error.message).toMatch(/test\/hostile hang: failed with exit code 1\nlast lines of the log:\n/);
    expect(error.message).toMatch(/whole log: /);
  });
});

describe("a MedPerf container config in the Docker runner", () => {
  it('mounts each volume where it says, a file output included, and runs the command it names', async () => {
    await buildDemoImages(docker);
    const dir = join(tmp, 'metrics-container-config');
    mkdirSync(join(dir, 'workspace'), { recursive: true });
    writeFileSync(join(dir, 'workspace', 'parameters.yaml'), 'threshold: 0.5\n');
    const v = '/mlcommons/volumes';
    writeFileSync(
      join(dir, 'container_config.yaml'),
      [
        'container_type: DockerImage',
        'image: medperf-git/chestxray-metrics:0.1.0',
        'tasks:',
        '  evaluate:',
        '    run_args:',
        `      command: evaluate --predictions=${v}/predictions --labels=${v}/labels --parameters_file=${v}/parameters/parameters_file.yaml --output_path=${v}/results/results.yaml`,
        '    input_volumes:',
        `      predictions: { mount_path: ${v}/predictions, type: directory }`,
        `      labels: { mount_path: ${v}/labels, type: directory }`,
        `      parameters_file: { mount_path: ${v}/parameters/parameters_file.yaml, type: file }`,
        '    output_volumes:',
        `      output_path: { mount_path: ${v}/results/results.yaml, type: file }`,
        '',
      ].join('\n'),
    );
    const predictions = join(tmp, 'cc-predictions');
    const labels = join(tmp, 'cc-labels');
    mkdirSync(predictions);
    mkdirSync(labels);
    writeFileSync(join(predictions, 'predictions.csv'), 'id,effusion\na,0.9\nb,0.2\nc,0.6\n');
    writeFileSync(join(labels, 'labels.csv'), 'id,effusion\na,1\nb,0\nc,0\n');
    const results = join(tmp, 'cc-results', 'results.yaml');
    const plan = planTask(loadCube(dir), 'evaluate', { bindings: { predictions, labels, output_path: results } });
    await new DockerRunner(join(tmp, 'state-cc')).run({ plan, label: 'test/metrics' });
    expect(readFileSync(results, 'utf8')).toBe('AUC:\n  effusion: 1\n  mean: 1\naccuracy:\n  effusion: 0.666667\n  mean: 0.666667\n');
  });
});

describe('the container definition', () => {
  it('holds every isolation setting and nothing from the cube beyond its command', () => {
    const plan = planTask(loadCube(hostile), 'hang');
    const spec = containerSpec(plan, { plan, label: 'x', limits: { gpus: 'device=0,2' } }, { uid: 65534, gid: 65534 }, 'n');
    expect(spec.User).toBe('65534:65534');
    expect(spec.HostConfig).toMatchObject({
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: 256,
      Memory: 4 * 1024 ** 3,
      ReadonlyRootfs: true,
      Privileged: false,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=1g' },
      Binds: [`${join(hostile, 'workspace')}:/mlcube_io0:ro`],
      DeviceRequests: [{ Driver: '', DeviceIDs: ['0', '2'], Capabilities: [['gpu']] }],
    });
    expect(spec.NetworkDisabled).toBe(true);
  });
});

describe('hash mismatches stop everything before a container exists', () => {
  let images: Awaited<ReturnType<typeof buildDemoImages>>;
  let record: CubeRecord;
  const files: Record<string, string> = {};
  beforeAll(async () => {
    images = await buildDemoImages(docker);
    const cnn = join(CUBES_DIR, DEMO_CUBES['bench-committee/chestxray-cnn'].dir);
    const assets = join(tmp, 'assets');
    mkdirSync(assets, { recursive: true });
    files.mlcube = join(cnn, 'mlcube.yaml');
    files.parameters = join(cnn, 'workspace', 'parameters.yaml');
    files.additional = join(assets, 'additional_files.tar.gz');
    await tar.c({ file: files.additional, gzip: true, cwd: join(cnn, 'workspace', 'additional_files'), portable: true }, ['.']);
    // A tiny image saved to a tarball, then removed from the engine: loading it is the test.
    const tinyDir = join(tmp, 'tiny');
    mkdirSync(tinyDir);
    writeFileSync(join(tinyDir, 'hello.txt'), 'hello');
    const stream = await docker.importImage(tar.c({ cwd: tinyDir, portable: true }, ['hello.txt']) as unknown as NodeJS.ReadableStream, { repo: 'medperf-git-test/tiny', tag: '1' });
    await new Promise((r, j) => docker.modem.followProgress(stream, (e: unknown) => (e ? j(e) : r(null))));
    const tinyId = (await docker.getImage('medperf-git-test/tiny:1').inspect()).Id;
    files.image = join(assets, 'tiny.tar');
    const saved = await docker.getImage('medperf-git-test/tiny:1').get();
    const chunks: Buffer[] = [];
    for await (const c of saved as AsyncIterable<Buffer>) chunks.push(c);
    writeFileSync(files.image, Buffer.concat(chunks));
    await docker.getImage(tinyId).remove({ force: true });
    files.tinyId = tinyId;
    const asset = (path: string) => ({ url: pathToFileURL(path).href, sha256: sha(readFileSync(path)) });
    record = {
      name: 'cnn',
      kind: 'model',
      mlcube: asset(files.mlcube),
      parameters: asset(files.parameters),
      additional_files: asset(files.additional),
      image: { digest: tinyId, tarball: asset(files.image) },
      state: 'development',
    };
  });

  // The tiny image is loaded again by the tests: leave none behind.
  afterAll(async () => {
    if (files.tinyId) await docker.getImage(files.tinyId).remove({ force: true }).catch(() => {});
  });

  // The tarball's image, as the runner prepares it before a task: loaded when missing, then checked against its pin.
  const prepare = (stateDir: string, cube: RunnableCube) => new DockerRunner(stateDir, docker).prepareImage({ ...imageOf(cube), image: files.tinyId! });

  it('materializes an honest record: files in place, the image tarball loaded with its pinned id', async () => {
    const stateDir = join(tmp, 'state-honest');
    const cube = await materializeCube('model-owner/cnn', record, { stateDir });
    expect(await prepare(stateDir, cube)).toBe(files.tinyId);
    expect(readdirSync(join(cube.dir, 'workspace', 'additional_files'))).toEqual(['cnn_weights.json']);
    expect(existsSync(join(cube.dir, 'mlcube.yaml'))).toBe(true);
    expect((await docker.getImage(files.tinyId!).inspect()).Id).toBe(files.tinyId);
    // Tampered extracted files are noticed on the next use and replaced.
    writeFileSync(join(cube.dir, 'workspace', 'additional_files', 'cnn_weights.json'), '{}');
    await materializeCube('model-owner/cnn', record, { stateDir });
    expect(readFileSync(join(cube.dir, 'workspace', 'additional_files', 'cnn_weights.json'), 'utf8')).toContain('custom-cnn');
  });

  const wrong = 'f'.repeat(64);
  const cases: Array<[string, (r: CubeRecord) => CubeRecord, RegExp]> = [
    ['mlcube.yaml', (r) => ({ ...r, mlcube: { ...r.mlcube!, sha256: wrong } }), /model-owner\/cnn's mlcube\.yaml: expected sha256 f{64}, got [0-9a-f]{64}; nothing was run/],
    ['parameters.yaml', (r) => ({ ...r, parameters: { ...r.parameters!, sha256: wrong } }), /model-owner\/cnn's parameters\.yaml: expected sha256 f{64}/],
    ['additional files', (r) => ({ ...r, additional_files: { ...r.additional_files!, sha256: wrong } }), /model-owner\/cnn's additional files: expected sha256 f{64}/],
    ['image tarball', (r) => ({ ...r, image: { ...r.image, tarball: { ...r.image.tarball!, sha256: wrong } } }), /model-owner\/cnn's image tarball: expected sha256 f{64}/],
    ['image id in the tarball', (r) => ({ ...r, image: { ...r.image, digest: `sha256:${wrong}` } }), /model-owner\/cnn's image tarball: expected sha256 sha256:f{64}, got sha256:[0-9a-f]{64}/],
  ];
  for (const [kind, tamper, message] of cases) {
    it(`refuses a mismatched ${kind}`, async () => {
      await docker.getImage(files.tinyId!).remove({ force: true }).catch(() => {});
      const stateDir = join(tmp, `state-${kind}`);
      const error = await materializeCube('model-owner/cnn', tamper(record), { stateDir })
        .then((cube) => prepare(stateDir, cube))
        .catch((e) => e);
      expect(error).toBeInstanceOf(HashMismatchError);
      expect(error.message).toMatch(message);
      if (kind === 'image tarball') await expect(docker.getImage(files.tinyId!).inspect()).rejects.toThrow();
    });
  }

  it('refuses a mismatched image digest, and a mismatched demo dataset, before any task runs', async () => {
    const stateDir = join(tmp, 'state-digest');
    const demo = (id: keyof typeof DEMO_CUBES, digest = images[id]) => ({ dir: join(CUBES_DIR, DEMO_CUBES[id].dir), label: id, imageDigest: digest });
    const base = {
      stateDir,
      runner: new DockerRunner(stateDir),
      dataPreparator: demo('bench-committee/chestxray-prep'),
      model: demo('bench-committee/chestxray-cnn', `sha256:${wrong}`),
      evaluator: demo('bench-committee/chestxray-metrics'),
    };
    const dataset = join(tmp, 'demo.tar.gz');
    await tar.c({ file: dataset, gzip: true, cwd: tmp, portable: true }, ['tiny']);
    const error = await runCompatibilityTest({ ...base, demoDataset: { url: pathToFileURL(dataset).href, sha256: sha(readFileSync(dataset)) } }).catch((e) => e);
    expect(error).toBeInstanceOf(HashMismatchError);
    expect(error.message).toMatch(/^image medperf-git\/chestxray-cnn:0\.1\.0: expected sha256 sha256:f{64}, got sha256:[0-9a-f]{64}; nothing was run$/);
    const badData = await runCompatibilityTest({ ...base, model: demo('bench-committee/chestxray-cnn'), demoDataset: { url: pathToFileURL(dataset).href, sha256: wrong } }).catch((e) => e);
    expect(badData).toBeInstanceOf(HashMismatchError);
    expect(badData.message).toMatch(/^the demo dataset: expected sha256 f{64}/);
    expect(existsSync(join(stateDir, 'logs'))).toBe(false);
    expect(existsSync(join(stateDir, 'tests'))).toBe(false);
  });
});
