import { cp, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, approvedChestxray, COMMITTEE, createHarness, cubeDir, digest, type Harness, MODEL_OWNER } from '../../../testing/registry-harness.ts';

let h: Harness;
let modelCopy: string;
beforeAll(async () => {
  h = await createHarness();
  // The model owner's own copy of the cube, which the tests change upstream later.
  modelCopy = join(h.home, 'my-cubes', 'chestxray-mobilenet');
  await cp(cubeDir('chestxray-mobilenet'), modelCopy, { recursive: true });
});
afterAll(async () => {
  await h.cleanup();
});

describe('the model owner', () => {
  it('mlcube submit shows the record with every hash, asks, and opens one pull request; resubmitting updates it', async () => {
    const args = ['mlcube', 'submit', modelCopy, '--image-digest', digest('d')];
    const r = await h.run(args, { as: MODEL_OWNER, input: 'yes\n' });
    expect(r.err).toBe('mlcube.yaml: hashing\nparameters.yaml: hashing\nadditional files: packing\n');
    expect(r.code).toBe(0);
    const lines = r.out.split('\n');
    expect(lines[0]).toBe('Registering the cube model-owner/chestxray-mobilenet (mlcubes/model-owner/chestxray-mobilenet.yaml):');
    expect(lines[1]).toBe('  name: Mobilenetv2 Classification Model');
    expect(lines[3]).toBe('  kind: model');
    expect(r.out).toContain(`    url: file://${modelCopy}/mlcube.yaml\n    sha256: `);
    expect(r.out).toContain(`  image:\n    digest: ${digest('d')}\n  state: development\n`);
    expect(r.out).toContain('Note: additional_files/ was packed into a tarball (sha256 ');
    expect(r.out).toContain('Open a pull request on ');
    expect(r.out).toMatch(/Opened pull request #1: .*\nNext: once it is merged \(on this local registry: medperf-git pr merge 1\), associate the cube with a benchmark: medperf-git mlcube associate -b BENCHMARK -m model-owner\/chestxray-mobilenet\n$/);

    const again = await h.run([...args, '--operational', '--yes']);
    expect(again.code).toBe(1);
    expect(again.err).toBe('error (no-login): who are you? pass --as LOGIN, set $MEDPERF_GIT_LOGIN, or run `medperf-git registry use --as LOGIN`\n');
    const update = await h.run([...args, '--operational', '--yes'], { as: MODEL_OWNER });
    expect(update.out).toMatch(/Updated pull request #1: /);
    const pulls = await (await h.forge(ADMIN)).listPulls({ state: 'all' });
    expect(pulls.map((p) => [p.number, p.title, p.paths])).toEqual([[1, 'Register cube model-owner/chestxray-mobilenet', ['mlcubes/model-owner/chestxray-mobilenet.yaml']]]);

    const ls = await h.run(['mlcube', 'ls']);
    expect(ls.out).toBe(
      'ID                               NAME                              KIND   STATE        STATUS\n' +
        'model-owner/chestxray-mobilenet  Mobilenetv2 Classification Model  model  operational  pending (#1)\n',
    );
    await h.merge(1);
    const mine = await h.run(['mlcube', 'ls', '--mine', '--json'], { as: MODEL_OWNER });
    expect(JSON.parse(mine.out)).toEqual({ id: 'model-owner/chestxray-mobilenet', name: 'Mobilenetv2 Classification Model', kind: 'model', state: 'operational', status: 'registered' });
    expect((await h.run(['mlcube', 'ls', '--mine'], { as: COMMITTEE })).out).toBe('You have no cubes in this registry.\n');

    const same = await h.run([...args, '--operational', '--yes'], { as: MODEL_OWNER });
    expect(same.out).toBe('The cube model-owner/chestxray-mobilenet is already registered with exactly these hashes; nothing to do.\n');
    const view = await h.run(['mlcube', 'view', 'model-owner/chestxray-mobilenet']);
    expect(view.out).toContain('id:               model-owner/chestxray-mobilenet\nname:             Mobilenetv2 Classification Model\n');
    expect(view.out).toContain(`image digest:     ${digest('d')}\n`);
    expect(view.out).toMatch(/\nAssociated with no benchmark yet\.\n$/);
    const missing = await h.run(['mlcube', 'view', 'model-owner/nope']);
    expect(missing.err).toBe('error (cube-not-registered): no cube model-owner/nope in the registry; register it with `medperf-git mlcube submit` first\n');
  });

  it('mlcube associate refuses a benchmark that is not approved yet, and submits nothing', async () => {
    await expect(approvedChestxray(h, ['--model-auto-approval', 'never'])).resolves.toBeUndefined();
    // approvedChestxray merged it; a second benchmark stays pending.
    const bench = await h.forge(COMMITTEE);
    const tree = await bench.main();
    const record = (await tree.read('benchmarks/chestxray/benchmark.yaml'))!.toString().replace('name: Chest X-ray classification', 'name: Pending');
    const pending = await bench.propose({ key: 'benchmark/pending', title: 'Propose benchmark pending', body: '', files: [{ path: 'benchmarks/pending/benchmark.yaml', content: record }] });
    const before = (await bench.listPulls({ state: 'all' })).length;
    const r = await h.run(['mlcube', 'associate', '-b', 'pending', '-m', 'model-owner/chestxray-mobilenet', '--runner', 'process', '--yes'], { as: MODEL_OWNER });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `error (benchmark-not-approved): the benchmark pending is not approved yet: its pull request #${pending.pull.number} is pending an admin's review; nothing was submitted\n`,
    );
    expect((await bench.listPulls({ state: 'all' })).length).toBe(before);
  });

  it('mlcube associate refuses someone else\'s model', async () => {
    const r = await h.run(['mlcube', 'associate', '-b', 'chestxray', '-m', 'model-owner/chestxray-mobilenet', '--runner', 'process', '--yes'], { as: 'someone-else' });
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      'error (not-owner): someone-else does not own the cube model-owner/chestxray-mobilenet (its owner is model-owner); only its owner can do this; nothing was submitted\n',
    );
  });

  it('mlcube associate refuses a model still in development', async () => {
    const dev = await h.run(['mlcube', 'submit', cubeDir('chestxray-cnn'), '--name', 'cnn-dev', '--image-digest', digest('e'), '--yes', '--json'], { as: MODEL_OWNER });
    await h.merge(JSON.parse(dev.out).pull.number);
    const r = await h.run(['mlcube', 'associate', '-b', 'chestxray', '-m', 'model-owner/cnn-dev', '--runner', 'process', '--yes'], { as: MODEL_OWNER });
    expect(r.err).toBe(
      'error (cube-in-development): the cube model-owner/cnn-dev is still in development, and only operational models are associated with benchmarks; mark it operational by submitting it again with --operational (its hashes then never change); nothing was submitted\n',
    );
  });

  it('mlcube associate runs the compatibility test and opens an association PR with its summary', async () => {
    const r = await h.run(['mlcube', 'associate', '-b', 'chestxray', '-m', 'model-owner/chestxray-mobilenet', '--runner', 'process', '--yes'], { as: MODEL_OWNER });
    expect(r.err).toContain('compatibility test: passed\n');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^Compatibility test of model-owner\/chestxray-mobilenet on the demo data of chestxray:\n {2}AUC\.cardiomegaly: +0\.\d+\n/);
    expect(r.out).toContain('The association record (benchmarks/chestxray/models/model-owner/chestxray-mobilenet.yaml):\n  initiated_by: model-owner\n  compatibility_test:\n    metrics:\n      AUC:\n');
    const number = Number(/Opened pull request #(\d+)/.exec(r.out)![1]);
    expect(r.out).toContain("The association is pending the committee's review (bench-committee); see `medperf-git association ls -b chestxray`.\n");
    const forge = await h.forge(ADMIN);
    const pull = await forge.getPull(number);
    expect(pull.paths).toEqual(['benchmarks/chestxray/models/model-owner/chestxray-mobilenet.yaml']);
    expect(pull.body).toContain('### Compatibility test: model-owner/chestxray-mobilenet on the demo dataset\n\n| metric | value |\n|---|---|\n| AUC.cardiomegaly |');
    const assoc = load((await (await forge.pullTree(number)).read(pull.paths[0]!))!.toString()) as Record<string, any>;
    const bench = load((await (await forge.main()).read('benchmarks/chestxray/benchmark.yaml'))!.toString()) as Record<string, any>;
    expect(assoc.compatibility_test.dataset_generated_uid).toBe(bench.demo_dataset.generated_uid);
    expect(assoc.compatibility_test.cubes.model).toMatchObject({ id: 'model-owner/chestxray-mobilenet', image: digest('d') });
    expect(assoc.priority).toBe(0);
  });

  it('mlcube associate re-verifies the model: a file changed upstream since registration stops everything', async () => {
    const before = (await (await h.forge(ADMIN)).listPulls({ state: 'all' })).length;
    await writeFile(join(modelCopy, 'workspace', 'parameters.yaml'), 'threshold: 0.9\n');
    const r = await h.run(['mlcube', 'associate', '-b', 'chestxray', '-m', 'model-owner/chestxray-mobilenet', '--runner', 'process', '--yes'], { as: MODEL_OWNER });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      new RegExp(
        `error \\(cube-changed-upstream\\): the cube model-owner/chestxray-mobilenet changed upstream since it was registered:\\n  parameters.yaml \\(file://${modelCopy}/workspace/parameters.yaml\\): registered sha256 [0-9a-f]{64}, now [0-9a-f]{64}\\n` +
          'register the new version with `medperf-git mlcube submit` \\(a new --name if it is operational\\); nothing was run or submitted\\n$',
      ),
    );
    expect((await (await h.forge(ADMIN)).listPulls({ state: 'all' })).length).toBe(before);
  });

  it('an operational cube never changes: submitting changed files under its name is refused', async () => {
    const r = await h.run(['mlcube', 'submit', modelCopy, '--image-digest', digest('d'), '--operational', '--yes'], { as: MODEL_OWNER });
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'error (cube-immutable): the cube model-owner/chestxray-mobilenet is operational: its hashes never change, so results stay comparable; register this version under a new name (--name); nothing was submitted\n',
    );
  });

  it('refuses a cube whose tasks do not fit its kind', async () => {
    const r = await h.run(['mlcube', 'submit', cubeDir('chestxray-cnn'), '--kind', 'metrics', '--image-digest', digest('d'), '--yes'], { as: MODEL_OWNER });
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error (cube-source-invalid): ${cubeDir('chestxray-cnn')}: a metrics cube needs the task evaluate; it declares infer\n`);
  });

  it('registers a cube from the URLs of its files, as MedPerf takes them', async () => {
    const url = (f: string) => pathToFileURL(join(cubeDir('chestxray-cnn'), f)).href;
    const r = await h.run(
      ['mlcube', 'submit', '--name', 'cnn-from-urls', '--kind', 'model', '--mlcube-url', url('mlcube.yaml'), '--parameters-url', join(cubeDir('chestxray-cnn'), 'workspace/parameters.yaml'),
        '--image-digest', digest('e'), '--yes', '--json'],
      { as: MODEL_OWNER },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out);
    expect(out.id).toBe('model-owner/cnn-from-urls');
    expect(out.record).toMatchObject({
      name: 'Custom CNN Classification Model',
      kind: 'model',
      mlcube: { url: url('mlcube.yaml') },
      parameters: { url: url('workspace/parameters.yaml') },
      image: { digest: digest('e') },
      state: 'development',
    });
    const missing = await h.run(['mlcube', 'submit', '--name', 'x', '--mlcube-url', 'file:///nonexistent/mlcube.yaml', '--yes'], { as: MODEL_OWNER });
    expect(missing.err).toBe('config: fetching\nerror (fetch-failed): file:///nonexistent/mlcube.yaml: no such file\n');
  });
});
