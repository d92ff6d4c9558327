// The committee's and the model owner's flow with the real Docker engine: image digests read from
// the engine by `mlcube submit`, the compatibility tests run in isolated containers.
import { execFileSync, spawnSync } from 'node:child_process';
import { cp, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCubeImage, buildDemoImages } from '../../demo/images.ts';
import { ADMIN, COMMITTEE, createHarness, cubeDir, type Harness, MODEL_OWNER } from '../../../testing/registry-harness.ts';

let h: Harness;
let images: Awaited<ReturnType<typeof buildDemoImages>>;
beforeAll(async () => {
  images = await buildDemoImages();
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

async function submitCube(login: string, name: string): Promise<Record<string, any>> {
  const r = await h.run(['mlcube', 'submit', cubeDir(name), '--operational', '--yes', '--json'], { as: login });
  expect(r.err).not.toContain('error');
  expect(r.code).toBe(0);
  const out = JSON.parse(r.out);
  await h.merge(out.pull.number);
  return out.record;
}

describe('in Docker', () => {
  it('registers cubes pinned by their image ids, proposes the benchmark and associates a model, all tested in containers', async () => {
    const prep = await submitCube(COMMITTEE, 'chestxray-prep');
    expect(prep.image).toEqual({ digest: images['bench-committee/chestxray-prep'] });
    await submitCube(COMMITTEE, 'chestxray-cnn');
    await submitCube(COMMITTEE, 'chestxray-metrics');
    await submitCube(MODEL_OWNER, 'chestxray-mobilenet');

    const bench = await h.run(
      ['benchmark', 'submit', '--name', 'chestxray', '-p', `${COMMITTEE}/chestxray-prep`, '-m', `${COMMITTEE}/chestxray-cnn`, '-e', `${COMMITTEE}/chestxray-metrics`,
        '--demo-dataset-url', h.demoUrl, '--primary-metric', 'AUC.mean', '--model-auto-approval', 'always', '--runner', 'docker', '--yes'],
      { as: COMMITTEE },
    );
    expect(bench.err).toContain('compatibility test: the three cubes on the demo dataset (docker runner)\n');
    expect(bench.err).not.toContain('NO isolation');
    expect(bench.code).toBe(0);
    const number = Number(/Opened pull request #(\d+)/.exec(bench.out)![1]);
    const admin = await h.forge(ADMIN);
    await admin.review(number, 'APPROVE');
    await admin.merge(number);

    const r = await h.run(['mlcube', 'associate', '-b', 'chestxray', '-m', `${MODEL_OWNER}/chestxray-mobilenet`, '--yes', '--json'], { as: MODEL_OWNER });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.record.compatibility_test.cubes.model).toMatchObject({ id: `${MODEL_OWNER}/chestxray-mobilenet`, image: images['model-owner/chestxray-mobilenet'] });
    expect(out.record.compatibility_test.metrics.AUC.mean).toBeGreaterThan(0.5);
    // The benchmark approves models automatically: the association merges without a review.
    await h.merge(out.pull.number);
    const main = await admin.main();
    const assoc = load((await main.read(`benchmarks/chestxray/models/${MODEL_OWNER}/chestxray-mobilenet.yaml`))!.toString()) as Record<string, any>;
    expect(assoc.initiated_by).toBe(MODEL_OWNER);
    const ls = await h.run(['association', 'ls', '--status', 'approved']);
    expect(ls.out.trim().split('\n')).toHaveLength(3);
  });

  it('a model shipped as an image tarball: its id read from the tarball, the tarball verified and loaded before the test runs', async () => {
    const tag = `medperf-git/tarball-model-test:${process.pid}`;
    const copy = join(h.home, 'tarball-model');
    await cp(cubeDir('chestxray-mobilenet'), copy, { recursive: true });
    const config = join(copy, 'mlcube.yaml');
    await writeFile(config, (await readFile(config, 'utf8')).replace('medperf-git/chestxray-mobilenet:0.1.0', tag));
    const id = await buildCubeImage(copy, tag);
    const tarball = join(h.home, 'tarball-model.tar');
    try {
      execFileSync('docker', ['save', '-o', tarball, tag]);
      execFileSync('docker', ['rmi', tag], { stdio: 'ignore' });
      const submit = await h.run(['mlcube', 'submit', copy, '--name', 'tarball-model', '--image-tarball-url', pathToFileURL(tarball).href, '--operational', '--yes', '--json'], { as: MODEL_OWNER });
      expect(submit.code).toBe(0);
      const record = JSON.parse(submit.out).record;
      expect(record.image).toEqual({ digest: id, tarball: { url: pathToFileURL(tarball).href, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
      await h.merge(JSON.parse(submit.out).pull.number);
      const r = await h.run(['mlcube', 'associate', '-b', 'chestxray', '-m', `${MODEL_OWNER}/tarball-model`, '--yes', '--json'], { as: MODEL_OWNER });
      expect(r.err).toContain(`${MODEL_OWNER}/tarball-model: loading its image tarball\n`);
      expect(r.code).toBe(0);
      expect(JSON.parse(r.out).record.compatibility_test.cubes.model).toMatchObject({ id: `${MODEL_OWNER}/tarball-model`, image: id });
    } finally {
      spawnSync('docker', ['rmi', '--force', tag], { stdio: 'ignore' });
    }
  });
});
