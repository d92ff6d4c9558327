import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitText } from '../../registry/forge/git.ts';
import { LocalForge } from '../../registry/forge/local.ts';
import { gitTree } from '../../registry/trees.ts';
import { validateRegistry } from '../../registry/validate.ts';
import { fixtureData, type MedperfData, startMedperfStandin } from '../../testing/medperf-standin.ts';
import { runCli } from '../../testing/cli.ts';
import { initIdentity } from '../keys.ts';

const LOGINS = 'admin: medperf-admin\ntestadmin: medperf-admin\ntestbo: bench-committee\ntestmo: model-owner\ntestdo: data-owner\n';
const HASH = (c: string) => c.repeat(64);

let tmp: string;
let servers: Array<{ close(): Promise<void> }>;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'medperf-git-import-'));
  servers = [];
  await writeFile(join(tmp, 'logins.yaml'), LOGINS);
  // The importing admin signs the imported results.
  await initIdentity(join(tmp, 'state'), 'medperf-admin');
});
afterEach(async () => {
  for (const s of servers) await s.close();
  await rm(tmp, { recursive: true, force: true });
});

async function standin(options: Parameters<typeof startMedperfStandin>[0] = {}) {
  const s = await startMedperfStandin(options);
  servers.push(s);
  return s;
}

const importCli = (url: string, extra: string[] = [], token = 'test-token') =>
  runCli(['import', '--server', url, '--token', token, '--into', 'registry', ...extra], {
    env: { MEDPERF_GIT_HOME: join(tmp, 'state'), PATH: process.env.PATH ?? '' },
    cwd: tmp,
  });

async function mainFiles(root: string): Promise<Record<string, string>> {
  const repo = join(root, 'registry.git');
  const tree = gitTree(repo, 'main');
  const out: Record<string, string> = {};
  for (const p of await tree.list()) out[p] = (await tree.read(p))!.toString('utf8');
  await tree.close();
  return out;
}

/** The real responses, with what a production server would have: a real input_data_hash, and more. */
function richerServer(): MedperfData {
  const data = structuredClone(fixtureData());
  data.datasets[0]!.input_data_hash = HASH('a');
  const cnn = data.mlcubes.find((c) => c.id === 3)!;
  // Two cubes whose names make the same path, each wrapped in a model.
  for (const [id, name] of [[6, 'My Model'], [7, 'my-model']] as const) {
    data.mlcubes.push({ ...cnn, id, name, owner: 4 });
    data.models.push({ ...data.models[0]!, id: id + 10, name, container: { ...cnn, id, name, owner: 4 }, owner: 4 });
  }
  // A second dataset whose association the committee rejected.
  data.datasets.push({ ...data.datasets[0]!, id: 2, name: 'Hospital B (night shift)', generated_uid: HASH('b'), input_data_hash: HASH('c') });
  data.datasetAssociations.push({ ...data.datasetAssociations[0]!, id: 2, dataset: 2, approval_status: 'REJECTED' });
  return data;
}

describe('medperf-git import', () => {
  it('names every server user it needs, guesses none and writes nothing', async () => {
    const server = await standin();
    const r = await runCli(['import', '--server', server.url, '--token', 'test-token', '--into', 'registry', '--admin', 'medperf-admin'], {
      env: { MEDPERF_GIT_HOME: join(tmp, 'state') },
      cwd: tmp,
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain('error (logins-missing)');
    expect(r.err).toContain('none for: admin, testadmin, testbo, testdo, testmo');
    expect(r.err).toContain('testbo: LOGIN\ntestdo: LOGIN');
    expect(existsSync(join(tmp, 'registry'))).toBe(false);
    expect(server.violations).toEqual([]);
  });

  it('imports the real server responses page by page, every request as MedPerf documents it', async () => {
    const server = await standin();
    const r = await importCli(server.url, ['--logins', 'logins.yaml', '--admin', 'medperf-admin', '--page-size', '2']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(server.violations).toEqual([]);
    // Five cubes in pages of two: three requests, following the server's next links.
    expect(server.requests.filter((l) => l.startsWith('GET /api/v0/mlcubes/'))).toEqual([
      'GET /api/v0/mlcubes/?limit=2&offset=0',
      'GET /api/v0/mlcubes/?limit=2&offset=2',
      'GET /api/v0/mlcubes/?limit=2&offset=4',
    ]);
    expect(server.requests).toContain('GET /api/v0/models/2/benchmarks/?limit=2&offset=0');
    expect(server.requests).toContain('GET /api/v0/datasets/1/benchmarks/?limit=2&offset=0');

    const files = await mainFiles(join(tmp, 'registry'));
    expect(Object.keys(files).sort()).toEqual([
      'benchmarks/chestxray/benchmark.yaml',
      'benchmarks/chestxray/models/model-owner/chestxray_mobilenet.yaml',
      'mlcubes/bench-committee/chestxray_cnn.yaml',
      'mlcubes/bench-committee/chestxray_metrics.yaml',
      'mlcubes/bench-committee/chestxray_prep.yaml',
      'mlcubes/model-owner/chestxray_mobilenet.yaml',
      'people/medperf-admin.yaml',
      'registry.yaml',
    ]);
    const tree = gitTree(join(tmp, 'registry', 'registry.git'), 'main');
    expect(await validateRegistry(tree)).toEqual([]);
    await tree.close();

    // Hashes, states and policies carried over.
    const cnn = files['mlcubes/bench-committee/chestxray_cnn.yaml']!;
    expect(cnn).toContain('digest: sha256:a1bdddce05b9d156df359dd570de8031fdd1ea5a858f755139bed4a95fad19d1');
    expect(cnn).toContain('sha256: bff003e244759c3d7c8b9784af0819c7f252da8626745671ccf7f46b8f19a0ca');
    expect(cnn).toContain('kind: model');
    expect(cnn).toContain('state: operational');
    const benchmark = files['benchmarks/chestxray/benchmark.yaml']!;
    expect(benchmark).toContain('reference_model: bench-committee/chestxray_cnn');
    expect(benchmark).toContain('sha256: 71faabd59139bee698010a0ae3a69e16d97bc4f2dde799d9e187b94ff9157c00');
    expect(benchmark).toContain('generated_uid: 730d2474d8f22340d9da89fa2eb925fcb95683e0');
    expect(benchmark).toMatch(/dataset_auto_approval:\n  mode: never/);
    // The names its records may hold, from what the server's results and tests name.
    expect(benchmark).toMatch(/metric_names:\n  - AUC\n/);
    // The cube's config is a file the record pins, and it is the server's container_config.
    const url = /container_config:\n  url: (\S+)\n  sha256: ([a-f0-9]{64})/.exec(cnn)!;
    const config = readFileSync(new URL(url[1]!), 'utf8');
    expect(config).toContain('image: mlcommons/chestxray-tutorial-cnn:0.0.1');

    // What cannot be carried, with the server's ids.
    expect(r.out).toContain('model #3: its type is ASSET (a file asset); medperf-git runs container models only');
    expect(r.out).toContain('mlcube #1: it serves as data-preparator and metrics; a medperf-git cube has one kind');
    expect(r.out).toContain('benchmark #2: its data preparator, mlcube #1, is not imported');
    expect(r.out).toMatch(/dataset #1: datasets\/data-owner\/dataset_a\.yaml:\d+:\d+ schema .*input_data_hash/);
    expect(r.out).toMatch(/result #1: dataset #1 has no imported association|result #1: .*dataset/);
    expect(r.out).toContain('model association #1 (benchmark #1, model #2): metadata.key1, metadata.key2');
  });

  it('refuses to import results for an admin without keys, writing nothing, since the importer signs them', async () => {
    const server = await standin({ data: richerServer() });
    await rm(join(tmp, 'state', 'keys'), { recursive: true, force: true });
    const r = await importCli(server.url, ['--logins', 'logins.yaml', '--admin', 'medperf-admin']);
    expect(r.code).toBe(1);
    expect(r.err).toBe('error (no-keys): medperf-admin has no keys on this machine: run `medperf-git keys init --as medperf-admin` first: imported results are signed by the admin who imports them (their data owners never signed them); nothing was written\n');
    expect(existsSync(join(tmp, 'registry', 'assets'))).toBe(false);
    await expect(gitText(['rev-parse', '--verify', 'main'], { cwd: join(tmp, 'registry', 'registry.git') })).rejects.toThrow();
  });

  it('opens pending ones as pull requests, lists rejected ones and collisions, and a second import changes nothing', async () => {
    const server = await standin({ data: richerServer() });
    const first = await importCli(server.url, ['--logins', 'logins.yaml', '--admin', 'medperf-admin']);
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(server.violations).toEqual([]);
    const root = join(tmp, 'registry');
    const files = await mainFiles(root);
    expect(files['datasets/data-owner/dataset_a.yaml']).toContain('num_samples: 3');
    expect(files['benchmarks/chestxray/datasets/data-owner/dataset_a.yaml']).toContain('initiated_by: data-owner');
    expect(Object.keys(files)).not.toContain('datasets/data-owner/hospital-b-night-shift.yaml'.replace('hospital-b-night-shift', 'x'));
    expect(files['datasets/data-owner/hospital-b-night-shift.yaml']).toContain('name: Hospital B (night shift)');
    expect(first.out).toContain('Rejected on the server, not imported:\n  dataset association #2 (benchmark #1, dataset #2): rejected on the server');
    expect(first.out).toContain('mlcubes/model-owner/my-model.yaml: mlcube #6, mlcube #7');
    expect(first.out).toMatch(/#1 opened: benchmarks\/chestxray\/results\/data-owner\/dataset_a\/model-owner\/chestxray_mobilenet\.yaml \(result #1\)/);

    const admin = await LocalForge.open({ root, login: 'data-owner' });
    const [pull] = await admin.listPulls();
    expect(pull!.author).toBe('data-owner');
    const result = (await (await admin.pullTree(pull!.number)).read(pull!.paths[0]!))!.toString();
    expect(result).toContain('AUC: 0.71');
    expect(result).toContain('partial: false');
    // Signed by the importing admin, marked as imported; the admin's keys are on main.
    expect(result).toMatch(/^signature:\n  signed_by: medperf-admin\n  key_version: 1\n  imported: true\n  ed25519: \S{88}\n$/m);
    expect(files['people/medperf-admin.yaml']).toMatch(/^version: 1\n/m);
    await admin.dispose();

    const sha = await gitText(['rev-parse', 'main'], { cwd: join(root, 'registry.git') });
    const store = readFileSync(join(root, 'pulls.json'), 'utf8');
    const second = await importCli(server.url, ['--logins', 'logins.yaml']);
    expect(second.code).toBe(0);
    expect(second.out).toContain('nothing new');
    expect(await gitText(['rev-parse', 'main'], { cwd: join(root, 'registry.git') })).toBe(sha);
    expect(readFileSync(join(root, 'pulls.json'), 'utf8')).toBe(store);

    // The pending result is a real pull request: its associations are on main, so the gate lets it merge.
    const owner = await LocalForge.open({ root, login: 'data-owner' });
    await owner.merge(pull!.number);
    await owner.dispose();

    // Later the server has more: only that is added; the merged result is not proposed again.
    server.data.mlcubes.push({ ...server.data.mlcubes.find((c) => c.id === 5)!, id: 8, name: 'chestxray_resnet' });
    server.data.models.push({ ...server.data.models[1]!, id: 30, name: 'chestxray_resnet', container: { ...server.data.mlcubes.find((c) => c.id === 8)! } });
    server.data.modelAssociations.push({ ...server.data.modelAssociations[0]!, id: 9, model: 30, metadata: {}, approval_status: 'PENDING' });
    const later = await importCli(server.url, ['--logins', 'logins.yaml']);
    expect(later.code).toBe(0);
    expect(later.out).toContain('  + mlcubes/model-owner/chestxray_resnet.yaml\n');
    expect(later.out).not.toContain('+ mlcubes/bench-committee/');
    expect(later.out).toMatch(/#2 opened: benchmarks\/chestxray\/models\/model-owner\/chestxray_resnet\.yaml/);
    expect(later.out).not.toContain('result #1)');
    const reader = await LocalForge.open({ root, login: 'data-owner' });
    expect((await reader.listPulls({ state: 'all' })).map((p) => `#${p.number} ${p.state}`)).toEqual(['#1 merged', '#2 open']);
    await reader.dispose();
    const tree = gitTree(join(root, 'registry.git'), 'main');
    expect(await validateRegistry(tree)).toEqual([]);
    await tree.close();
  });

  it('says when the server refuses the token, and never prints it', async () => {
    const server = await standin();
    const r = await importCli(server.url, ['--logins', 'logins.yaml', '--admin', 'a'], 'wrong-secret-token');
    expect(r.code).toBe(1);
    expect(r.err).toContain('the server refused the request (401); pass an admin\'s token with --token');
    expect(r.err + r.out).not.toContain('wrong-secret-token');
  });
});
