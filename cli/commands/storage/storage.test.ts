// `storage ls` and `storage cleanup`: what the state directory holds, and the removal of only what no
// record and no unfinished run needs, after a data owner's whole flow.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { leftoverOf } from '../../storage.ts';
import { as, BENCHMARK, cli, COMMITTEE, DATA_OWNER, rawData, releaseForges, seedRegistry } from '../../../testing/seeded-registry.ts';

let state: string;
let raw: { data: string; labels: string };

async function mergeLatest(login: string, approveAs?: string) {
  const forge = await as(state, login);
  const [pull] = await forge.listPulls({ state: 'open' });
  if (approveAs) await (await as(state, approveAs)).review(pull!.number, 'APPROVE');
  return forge.merge(pull!.number);
}

const ok = async (argv: string[]) => {
  const r = await cli(state, DATA_OWNER, argv);
  expect(r.code, `${argv.join(' ')}: ${r.err}`).toBe(0);
  return r;
};

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-storage-'));
  raw = rawData(join(state, '..', `${state.split('/').pop()}-hospital`));
  await seedRegistry(state);
  await ok(['dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--description', 'Chest X-rays', '--location', 'Hospital A', '--data-path', raw.data, '--labels-path', raw.labels, '--yes']);
  await mergeLatest(DATA_OWNER);
  await ok(['dataset', 'prepare', '-d', 'hospital-a', '--runner', 'process']);
  await ok(['dataset', 'set-operational', '-d', 'hospital-a', '--yes']);
  await mergeLatest(DATA_OWNER);
  await ok(['dataset', 'associate', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
  await mergeLatest(DATA_OWNER, COMMITTEE);
  await ok(['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
  await mergeLatest(DATA_OWNER);
}, 180_000);

afterAll(async () => {
  await releaseForges();
  await rm(state, { recursive: true, force: true });
  await rm(join(raw.data, '..'), { recursive: true, force: true });
});

describe('storage', () => {
  it('lists each area of the state directory with its size', async () => {
    const ls = await ok(['storage', 'ls']);
    expect(ls.out).toContain(`State directory: ${state}`);
    expect(ls.out).toMatch(/^area\s+size\s+files\s+holds$/m);
    for (const area of ['cache', 'cubes', 'datasets', 'predictions', 'results', 'logs']) expect(ls.out).toMatch(new RegExp(`^${area}\\s+\\d+(\\.\\d+)? [kMGT]?B\\s+[1-9]\\d*\\s+`, 'm'));
    const json = JSON.parse((await ok(['storage', 'ls', '--json'])).out);
    expect(json.bytes).toBe(json.areas.reduce((s: number, a: { bytes: number }) => s + a.bytes, 0));
    expect(json.areas.find((a: { area: string }) => a.area === 'jobs')).toMatchObject({ bytes: 0, files: 0 });
  });

  it('removes only what no record and no unfinished run needs, after asking', async () => {
    // What may go: a download no record pins, an older version of a cube's folder, a dataset that
    // was never registered, what a killed process left, an old log.
    const stray = Buffer.from('an old download');
    const strayPath = join(state, 'cache', 'sha256', createHash('sha256').update(stray).digest('hex'));
    writeFileSync(strayPath, stray);
    const staleCube = join(state, 'cubes', COMMITTEE, 'chestxray-cnn', '0'.repeat(24));
    mkdirSync(staleCube, { recursive: true });
    const ghost = join(state, 'datasets', DATA_OWNER, 'ghost');
    mkdirSync(ghost, { recursive: true });
    writeFileSync(join(ghost, 'dataset.json'), '{}');
    const predictions = join(state, 'predictions', BENCHMARK, DATA_OWNER, 'hospital-a');
    const dead = join(predictions, 'model-owner', 'chestxray-mobilenet', `${'f'.repeat(64)}.partial-999999-1`);
    mkdirSync(dead, { recursive: true });
    // A download a killed process left half written, and one a running process is writing.
    const deadDownload = join(state, 'cache', 'sha256', '.download.999999.1700000000000.k3j9x.partial');
    writeFileSync(deadDownload, 'half of it');
    const liveDownload = join(state, 'cache', 'sha256', `.download.${process.pid}.1700000000000.a1b2c.partial`);
    writeFileSync(liveDownload, 'being written');
    const oldLog = join(state, 'logs', 'old-task.log');
    writeFileSync(oldLog, 'long ago\n');
    utimesSync(oldLog, new Date(Date.now() - 40 * 86_400_000), new Date(Date.now() - 40 * 86_400_000));
    // What must stay: an unfinished execution, a task of a running process, a fresh log.
    const unfinished = join(predictions, 'model-owner', 'chestxray-mobilenet', 'a'.repeat(64), 'predictions');
    mkdirSync(unfinished, { recursive: true });
    const running = join(predictions, 'model-owner', 'chestxray-mobilenet', `${'b'.repeat(64)}.partial-${process.pid}-1`);
    mkdirSync(running, { recursive: true });
    const rerun = join(predictions, COMMITTEE, 'chestxray-cnn', `${'c'.repeat(64)}.rerun`);
    mkdirSync(rerun, { recursive: true });
    const executed = readdirSync(join(predictions, 'model-owner', 'chestxray-mobilenet')).filter((k) => /^[0-9a-f]{64}$/.test(k) && k !== 'a'.repeat(64));
    expect(executed).toHaveLength(1);

    const dry = await ok(['storage', 'cleanup', '--dry-run']);
    const listed = dry.out.split('\n').filter((l) => /^(cache|cubes|datasets|predictions|tests|logs)\s/.test(l));
    const paths = listed.map((l) => l.split(/\s{2,}/)[2]!);
    expect(paths).toContain(strayPath);
    expect(paths).toContain(staleCube);
    expect(paths).toContain(ghost);
    expect(paths).toContain(dead);
    expect(paths).toContain(oldLog);
    // Predictions of executions whose results the registry holds go; their local results stay.
    expect(paths).toContain(join(predictions, 'model-owner', 'chestxray-mobilenet', executed[0]!));
    expect(listed.find((l) => l.includes(strayPath))).toMatch(/no record pins this sha256$/);
    expect(listed.find((l) => l.includes(dead))).toMatch(/left by an interrupted task$/);
    expect(listed.find((l) => l.includes(deadDownload))).toMatch(/an interrupted download$/);
    expect(paths).not.toContain(liveDownload);
    for (const kept of [unfinished, join(unfinished, '..'), running, rerun, join(state, 'datasets', DATA_OWNER, 'hospital-a'), join(state, 'results')]) {
      expect(paths.filter((p) => kept === p || kept.startsWith(p + '/')), kept).toEqual([]);
    }
    expect(paths.some((p) => p.startsWith(join(state, 'cubes')) && p !== staleCube)).toBe(false);
    expect(paths.some((p) => p.startsWith(join(state, 'cache')) && p !== strayPath && p !== deadDownload)).toBe(false);
    expect(dry.out).toContain('Nothing was removed (--dry-run).');
    expect(existsSync(strayPath)).toBe(true);

    const unasked = await cli(state, DATA_OWNER, ['storage', 'cleanup']);
    expect(unasked.code).not.toBe(0);
    expect(unasked.err).toMatch(/Remove these \d+ item\(s\)/);
    expect(existsSync(strayPath)).toBe(true);

    const done = await ok(['storage', 'cleanup', '--yes', '--json']);
    const removed = JSON.parse(done.out).removed.map((r: { path: string }) => r.path);
    expect(removed.sort()).toEqual(paths.sort());
    for (const p of paths) expect(existsSync(p), p).toBe(false);
    for (const p of [unfinished, running, rerun, liveDownload]) expect(existsSync(p), p).toBe(true);

    // Nothing that is needed went: the data checks, the run takes its results from the cache.
    expect((await ok(['dataset', 'check', '-d', 'hospital-a'])).out).toContain('OK: the prepared data');
    const again = await ok(['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(again.out).toContain('Total: 2 models, 0 ran, 2 from cache, 0 partial, 0 failed');
    const twice = await ok(['storage', 'cleanup', '--dry-run']);
    expect(twice.out).toContain('Nothing to remove');
  }, 120_000);

  it('reads which process left an interrupted task\'s folder from its name only', () => {
    expect(leftoverOf(`${'a'.repeat(64)}.partial-123-1700000000000`)).toBe(123);
    expect(leftoverOf('prepared.old-77-1')).toBe(77);
    expect(leftoverOf('abc.4242.staging')).toBe(4242);
    expect(leftoverOf('x.9.extracting')).toBe(9);
    expect(leftoverOf('.import-5-170')).toBe(5);
    expect(leftoverOf('.out.tar.gz.partial-31')).toBe(31);
    expect(leftoverOf('.download.4242.1700000000000.k3j9x.partial')).toBe(4242);
    for (const name of ['prepared', 'a.rerun', 'partial-1-2', 'data.partial', `${'a'.repeat(64)}`, 'x.old', '.download.x.1.a.partial', 'download.5.1.a.partial']) expect(leftoverOf(name), name).toBeUndefined();
  });
});
