// As root, cubes run as an unprivileged uid: what they must read is checked before anything runs
// (the kernel deciding, from the mounted path down, as a bind mount does), and what medperf-git
// writes for them is readable whatever the umask. Real Docker, as root, under `umask 077`.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCube } from '../cube/config.ts';
import { runTask } from '../cube/execute.ts';
import { generateDataset } from '../demo/dataset.ts';
import { buildDemoImages, CUBES_DIR } from '../demo/images.ts';
import { ContainerCannotReadError, firstUnreadable, firstUnreadableByKernel, firstUnreadableByModes, makeReadableByContainers } from './container-access.ts';
import { DockerRunner, UNPRIVILEGED_USER } from './docker.ts';

const tmp = mkdtempSync(join(tmpdir(), 'container-access-test-'));
const user = UNPRIVILEGED_USER;
let umask: number;

beforeAll(() => {
  // Everything this file creates is root's alone unless medperf-git says otherwise.
  umask = process.umask(0o077);
});
afterAll(() => {
  process.umask(umask);
  rmSync(tmp, { recursive: true, force: true });
});

/** A folder of readable files, in a folder only root may enter (a bind mount does not care). */
async function readableTree(name: string): Promise<string> {
  const parent = join(tmp, name);
  const dir = join(parent, 'data');
  mkdirSync(join(dir, 'a', 'b'), { recursive: true });
  writeFileSync(join(dir, 'a', 'b', 'scan.pgm'), 'x');
  writeFileSync(join(dir, 'top.csv'), 'y');
  await makeReadableByContainers(dir);
  chmodSync(parent, 0o700);
  return dir;
}

describe('what the container user can read', () => {
  const checks = [
    ['the kernel', firstUnreadableByKernel],
    ['the mode bits', firstUnreadableByModes],
    ['both', firstUnreadable],
  ] as const;

  for (const [how, check] of checks) {
    it(`finds the first unreadable path, judged by ${how}`, async () => {
      const variants: Array<[string, (dir: string) => string]> = [
        ['a file only root may read', (d) => (chmodSync(join(d, 'a', 'b', 'scan.pgm'), 0o600), join(d, 'a', 'b', 'scan.pgm'))],
        ['a folder it may not enter', (d) => (chmodSync(join(d, 'a', 'b'), 0o644), join(d, 'a', 'b'))],
        ['a folder it may not list', (d) => (chmodSync(join(d, 'a'), 0o711), join(d, 'a'))],
        ['the mounted folder itself', (d) => (chmodSync(d, 0o700), d)],
        ['a file of the mounted folder', (d) => (chmodSync(join(d, 'top.csv'), 0o640), join(d, 'top.csv'))],
      ];
      for (const [i, [what, spoil]] of variants.entries()) {
        const dir = await readableTree(`${how.replace(/\W/g, '')}-${i}`);
        expect(await check([{ mount: dir }], user), 'readable before').toBeUndefined();
        const bad = spoil(dir);
        expect(await check([{ mount: join(tmp, 'missing') }, { mount: dir }], user), what).toBe(bad);
      }
    });
  }

  it('judges a file parameter mounted through its folder by that file and the folder\'s search bit only', async () => {
    for (const check of [firstUnreadable, firstUnreadableByKernel, firstUnreadableByModes]) {
      const folder = join(tmp, `file-${check.name}`);
      mkdirSync(folder);
      writeFileSync(join(folder, 'parameters.yaml'), 'a: 1\n');
      writeFileSync(join(folder, 'secret.txt'), 'not read by the task\n');
      chmodSync(join(folder, 'parameters.yaml'), 0o644);
      const input = [{ mount: folder, file: 'parameters.yaml' }];
      chmodSync(folder, 0o711);
      expect(await check(input, user), `${check.name}: enterable, not listable`).toBeUndefined();
      chmodSync(folder, 0o700);
      expect(await check(input, user), `${check.name}: not enterable`).toBe(folder);
      chmodSync(folder, 0o755);
      chmodSync(join(folder, 'parameters.yaml'), 0o600);
      expect(await check(input, user), `${check.name}: the file root's alone`).toBe(join(folder, 'parameters.yaml'));
    }
  });

  it('reads through the group, skips symbolic links and paths that do not exist', async () => {
    const dir = await readableTree('group');
    chmodSync(join(dir, 'top.csv'), 0o640);
    const { chownSync } = await import('node:fs');
    chownSync(join(dir, 'top.csv'), 0, user.gid);
    symlinkSync('/root', join(dir, 'link'));
    for (const check of [firstUnreadable, firstUnreadableByKernel, firstUnreadableByModes]) expect(await check([{ mount: dir }, { mount: join(tmp, 'nowhere') }], user)).toBeUndefined();
  });

  it('makes what medperf-git writes readable: folders 0755, files 0644, executables 0755', async () => {
    const dir = join(tmp, 'written');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'sub', 'run.sh'), '#!/bin/sh\n', { mode: 0o700 });
    writeFileSync(join(dir, 'sub', 'data.bin'), 'z');
    await makeReadableByContainers(dir);
    const mode = (p: string) => (statSync(join(dir, p)).mode & 0o777).toString(8);
    expect([mode('.'), mode('sub'), mode('sub/run.sh'), mode('sub/data.bin')]).toEqual(['755', '755', '755', '644']);
  });
});

describe('root under umask 077 with Docker', () => {
  const docker = new Docker();
  const cube = { cube: loadCube(join(CUBES_DIR, 'chestxray-prep')), dir: join(CUBES_DIR, 'chestxray-prep'), label: 'test/chestxray-prep' };

  it('says which raw data path the container cannot read before anything runs, and runs both tasks once fixed', async () => {
    expect(process.getuid?.()).toBe(0);
    await buildDemoImages(docker);
    const raw = join(tmp, 'raw');
    const { dataPath, labelsPath } = generateDataset(raw, { count: 6, seed: 3 });
    // Raw data as a hospital server often has it: root's alone.
    const scan = join(dataPath, readdirSync(dataPath)[0]!);
    chmodSync(scan, 0o600);
    const state = join(tmp, 'state');
    const runner = new DockerRunner(state);
    const prepared = join(state, 'datasets', 'hospital', 'prepared');
    const prepare = () =>
      runTask({
        runner,
        cube,
        task: 'prepare',
        done: prepared,
        bindings: (out) => ({ data_path: dataPath, labels_path: labelsPath, output_path: join(out, 'data'), output_labels_path: join(out, 'labels') }),
      });
    const error = await prepare().catch((e) => e);
    expect(error).toBeInstanceOf(ContainerCannotReadError);
    expect(error.message).toContain(`test/chestxray-prep prepare: ${scan} is not readable by the container's user (uid 65534, gid 65534)`);
    expect(error.message).toContain(`chmod -R o+rX ${scan}`);
    expect(error.exitCode).toBe(77);
    // Nothing ran, nothing was kept: no log, no finished or partial folder for a later run to reuse.
    expect(existsSync(join(state, 'logs')) ? readdirSync(join(state, 'logs')) : []).toEqual([]);
    expect(existsSync(prepared)).toBe(false);
    expect(readdirSync(join(state, 'datasets', 'hospital'))).toEqual([]);

    chmodSync(scan, 0o644);
    expect((await prepare()).ran).toBe(true);
    // The outputs went back to root, made under umask 077; the next container reads them all the same.
    expect(statSync(join(prepared, 'data')).uid).toBe(0);
    const check = await runTask({
      runner,
      cube,
      task: 'sanity_check',
      done: join(state, 'datasets', 'hospital', 'sanity'),
      bindings: () => ({ data_path: join(prepared, 'data'), labels_path: join(prepared, 'labels') }),
    });
    expect(check.ran).toBe(true);
  }, 300_000);
});
