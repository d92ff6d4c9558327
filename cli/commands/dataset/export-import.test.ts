// `dataset export` on one machine, `dataset import` on another (MedPerf #625): the prepared dataset
// arrives whole and checked, or not at all; nothing of it reaches the registry.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashFolders } from '../../../registry/hash.ts';
import { MANIFEST } from '../../dataset-archive.ts';
import { as, BENCHMARK, cli, DATA_OWNER, forgeRoot, rawData, releaseForges, seedRegistry } from '../../../testing/seeded-registry.ts';

let root: string;
let machineA: string;
let archive: string;
const DS = `${DATA_OWNER}/hospital-a`;

async function mergeLatest(state: string, login: string) {
  const forge = await as(state, login);
  const [pull] = await forge.listPulls({ state: 'open' });
  return forge.merge(pull!.number);
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'medperf-export-'));
  machineA = join(root, 'a');
  mkdirSync(machineA);
  const raw = rawData(join(root, 'hospital'));
  await seedRegistry(machineA);
  const submit = await cli(machineA, DATA_OWNER, ['dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--description', 'Chest X-rays', '--location', 'Hospital A', '--data-path', raw.data, '--labels-path', raw.labels, '--yes']);
  expect(submit.code, submit.err).toBe(0);
  await mergeLatest(machineA, DATA_OWNER);
  const prepare = await cli(machineA, DATA_OWNER, ['dataset', 'prepare', '-d', 'hospital-a', '--runner', 'process']);
  expect(prepare.code, prepare.err).toBe(0);
  const operational = await cli(machineA, DATA_OWNER, ['dataset', 'set-operational', '-d', 'hospital-a', '--yes']);
  expect(operational.code, operational.err).toBe(0);
  await mergeLatest(machineA, DATA_OWNER);
  archive = join(root, 'hospital-a.tar.gz');
}, 120_000);

afterAll(async () => {
  await releaseForges();
  await rm(root, { recursive: true, force: true });
});

/** Another machine: its own state directory, the same registry. */
async function machine(name: string) {
  const state = join(root, name);
  mkdirSync(state, { recursive: true });
  const run = (argv: string[]) => cli(state, DATA_OWNER, [...argv, '--registry', forgeRoot(machineA)]);
  return { state, run };
}

/** The archive unpacked, changed, and packed again. */
async function repack(name: string, change: (dir: string) => void): Promise<string> {
  const dir = join(root, `repack-${name}`);
  mkdirSync(dir, { recursive: true });
  await tar.x({ file: archive, cwd: dir });
  change(dir);
  const out = join(root, `${name}.tar.gz`);
  await tar.c({ cwd: dir, file: out, gzip: true }, readdirSync(dir));
  return out;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const manifestOf = (dir: string) => JSON.parse(readFileSync(join(dir, MANIFEST), 'utf8'));
const writeManifest = (dir: string, m: unknown) => writeFileSync(join(dir, MANIFEST), JSON.stringify(m));

describe('dataset export and import', () => {
  it('moves a prepared dataset to another machine, checked, and a second import changes nothing', async () => {
    const exported = await cli(machineA, DATA_OWNER, ['dataset', 'export', '-d', 'hospital-a', '-o', archive]);
    expect(exported.code, exported.err).toBe(0);
    expect(exported.out).toContain(`Exported ${DS}.`);
    expect(exported.out).toMatch(/generated_uid: [0-9a-f]{64}/);
    const uid = /generated_uid: ([0-9a-f]{64})/.exec(exported.out)![1]!;
    // Where the raw data lives stays on machine A.
    const listed: string[] = [];
    await tar.t({ file: archive, onReadEntry: (e) => listed.push(e.path) });
    expect(listed[0]).toBe(MANIFEST);
    expect(listed.some((p) => p.startsWith('prepared/data/'))).toBe(true);
    expect(readFileSync(archive).includes(Buffer.from(join(root, 'hospital')))).toBe(false);
    const again = await cli(machineA, DATA_OWNER, ['dataset', 'export', '-d', 'hospital-a', '-o', archive]);
    expect(again.err).toContain(`error (file-exists): ${archive} exists already`);

    const b = await machine('b');
    const pullsBefore = (await (await as(machineA, DATA_OWNER)).listPulls({ state: 'all' })).length;
    const imported = await b.run(['dataset', 'import', '-i', archive]);
    expect(imported.code, imported.err).toBe(0);
    expect(imported.out).toContain(`Imported ${DS}: every file and the generated_uid match.`);
    expect(imported.out).toContain('in the registry: registered (operational)');
    expect(imported.out).toContain('raw data:        not on this machine (prepared data only)');
    expect(await hashFolders([join(b.state, 'datasets', DATA_OWNER, 'hospital-a', 'prepared', 'data'), join(b.state, 'datasets', DATA_OWNER, 'hospital-a', 'prepared', 'labels')])).toBe(uid);
    const check = await b.run(['dataset', 'check', '-d', 'hospital-a']);
    expect(check.code, check.err).toBe(0);
    expect(check.out).toContain(`OK: the prepared data of ${DS} is unchanged.`);
    const twice = await b.run(['dataset', 'import', '-i', archive, '--json']);
    expect(JSON.parse(twice.out)).toMatchObject({ id: DS, generated_uid: uid, imported: false });
    // Nothing went to the registry.
    expect((await (await as(machineA, DATA_OWNER)).listPulls({ state: 'all' })).length).toBe(pullsBefore);
    // The imported dataset runs like one prepared here: the benchmark's models on it.
    const associate = await b.run(['dataset', 'associate', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(associate.code, associate.err).toBe(0);
  }, 120_000);

  it('refuses a damaged, forged or hostile archive with a clear error, and leaves nothing behind', async () => {
    expect(existsSync(archive)).toBe(true);
    const variants: Array<[string, () => Promise<string>, RegExp]> = [
      ['a changed file', () => repack('changed', (d) => writeFileSync(join(d, 'prepared', 'labels', readdirSync(join(d, 'prepared', 'labels'))[0]!), 'forged\n')), /error \(hash-mismatch\): .*changed\.tar\.gz: prepared\/labels\/\S+: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}/],
      ['a file the manifest does not list', () => repack('extra', (d) => writeFileSync(join(d, 'prepared', 'data', 'extra.pgm'), 'x')), /files the manifest does not list: prepared\/data\/extra\.pgm; nothing was imported/],
      ['a listed file missing', () => repack('missing', (d) => rmSync(join(d, 'statistics', 'statistics.yaml'))), /files the manifest lists are missing: statistics\/statistics\.yaml/],
      ['an entry outside the dataset', () => repack('stray', (d) => writeFileSync(join(d, 'raw-paths.txt'), '/data')), /entries that are no part of a prepared dataset: raw-paths\.txt/],
      ['no manifest', () => repack('nomanifest', (d) => rmSync(join(d, MANIFEST))), /no medperf-git-dataset\.json in it: not a dataset exported by `medperf-git dataset export`/],
      ['a manifest that is not JSON', () => repack('notjson', (d) => writeFileSync(join(d, MANIFEST), '{id:')), /medperf-git-dataset\.json is not valid JSON/],
      ['a bad id', () => repack('badid', (d) => writeManifest(d, { ...manifestOf(d), id: '../x' })), /medperf-git-dataset\.json: `id` must be a dataset id, owner\/name/],
      ['a bad generated_uid', () => repack('baduid', (d) => writeManifest(d, { ...manifestOf(d), generated_uid: 'zz' })), /`generated_uid` must be a sha256 in hex/],
      ['a newer format', () => repack('format', (d) => writeManifest(d, { ...manifestOf(d), format: 2 })), /`format` must be 1/],
      ['a generated_uid that is not the data\'s', () => repack('wronguid', (d) => writeManifest(d, { ...manifestOf(d), generated_uid: 'a'.repeat(64) })), /the prepared data's generated_uid: expected sha256 a{64}, got [0-9a-f]{64}/],
      [
        'other data under the registered id, consistent with its manifest',
        () =>
          repack('otherdata', (d) => {
            const m = manifestOf(d);
            const file = `prepared/data/${readdirSync(join(d, 'prepared', 'data'))[0]!}`;
            writeFileSync(join(d, file), 'other scan');
            m.files[file] = sha(join(d, file));
            // The uid recomputed as MedPerf does: sha256 of the sorted file digests.
            const digests = Object.entries(m.files as Record<string, string>).filter(([p]) => p.startsWith('prepared/data/') || p.startsWith('prepared/labels/')).map(([, h]) => h).sort();
            m.generated_uid = createHash('sha256').update(digests.join('')).digest('hex');
            writeManifest(d, m);
          }),
        /is not the registered dataset's \([0-9a-f]{64}\): it is other data than the registry's data-owner\/hospital-a/,
      ],
      ['a path climbing out', async () => {
        const out = join(root, 'climb.tar.gz');
        const dir = join(root, 'climb', 'inner');
        mkdirSync(dir, { recursive: true });
        writeFileSync(join(root, 'climb', 'evil'), 'x');
        await tar.c({ cwd: dir, file: out, gzip: true, preservePaths: true }, ['../evil']);
        return out;
      }, /error \(tarball-rejected\): .*climb\.tar\.gz: .*\.\..*; nothing was extracted/],
      ['a symbolic link', () => repack('link', (d) => symlinkSync('/etc/passwd', join(d, 'prepared', 'data', 'link'))), /error \(tarball-rejected\): .*link\.tar\.gz: .*link/],
      ['not a tarball', async () => {
        const out = join(root, 'noise.tar.gz');
        writeFileSync(out, 'not a tarball at all');
        return out;
      }, /error \(tarball-rejected\): .*noise\.tar\.gz: not a readable tarball/],
    ];
    for (const [i, [what, make, expected]] of variants.entries()) {
      const c = await machine(`bad-${i}`);
      const result = await c.run(['dataset', 'import', '-i', await make()]);
      expect(result.code, what).not.toBe(0);
      expect(result.err, what).toMatch(expected);
      const datasets = join(c.state, 'datasets');
      expect(existsSync(datasets) ? readdirSync(datasets) : [], what).toEqual([]);
    }
    const c = await machine('wrong-id');
    const wrong = await c.run(['dataset', 'import', '-i', archive, '-d', 'hospital-b']);
    expect(wrong.err).toContain(`it holds the dataset ${DS}, not ${DATA_OWNER}/hospital-b; nothing was imported`);
    const none = await c.run(['dataset', 'import', '-i', join(root, 'nowhere.tar.gz')]);
    expect(none.err).toContain(`error (not-found): ${join(root, 'nowhere.tar.gz')}: no such file`);
  }, 120_000);

  it('exports only a prepared dataset that is still what was prepared', async () => {
    const c = await machine('export-errors');
    const unknown = await c.run(['dataset', 'export', '-d', 'hospital-z', '-o', join(root, 'z.tar.gz')]);
    expect(unknown.err).toContain(`the dataset ${DATA_OWNER}/hospital-z was not registered from this machine`);
    const labels = join(machineA, 'datasets', DATA_OWNER, 'hospital-a', 'prepared', 'labels');
    const file = join(labels, readdirSync(labels)[0]!);
    const before = readFileSync(file);
    writeFileSync(file, 'tampered');
    const changed = await cli(machineA, DATA_OWNER, ['dataset', 'export', '-d', 'hospital-a', '-o', join(root, 'changed-export.tar.gz')]);
    writeFileSync(file, before);
    expect(changed.err).toMatch(/error \(prepared-data-changed\): the prepared data of data-owner\/hospital-a changed since it was prepared/);
    expect(existsSync(join(root, 'changed-export.tar.gz'))).toBe(false);
    expect(readdirSync(root).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});
