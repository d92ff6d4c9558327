import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, approvedChestxray, COMMITTEE, createHarness, digest, type Harness, registerCube } from '../../../testing/registry-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
});
afterAll(async () => {
  await h.cleanup();
});

describe('the benchmark committee', () => {
  it('benchmark submit refuses cubes that are not registered, and submits nothing', async () => {
    const r = await h.run(
      ['benchmark', 'submit', '--name', 'chestxray', '-p', `${COMMITTEE}/chestxray-prep`, '-m', `${COMMITTEE}/chestxray-cnn`, '-e', `${COMMITTEE}/chestxray-metrics`,
        '--demo-dataset-url', h.demoUrl, '--primary-metric', 'AUC.mean', '--runner', 'process', '--yes'],
      { as: COMMITTEE },
    );
    expect(r.code).toBe(1);
    expect(r.err).toBe(`error (cube-not-registered): no cube ${COMMITTEE}/chestxray-prep in the registry; register it with \`medperf-git mlcube submit\` first\n`);
    expect(await (await h.forge(ADMIN)).listPulls({ state: 'all' })).toEqual([]);
  });

  it('registers three cubes, then proposes the benchmark after the compatibility test; pending until the admin merges', async () => {
    await registerCube(h, COMMITTEE, 'chestxray-prep', 'a');
    await registerCube(h, COMMITTEE, 'chestxray-cnn', 'b');
    await registerCube(h, COMMITTEE, 'chestxray-metrics', 'c');
    const args = ['benchmark', 'submit', '--name', 'chestxray', '--title', 'Chest X-ray classification',
      '-p', `${COMMITTEE}/chestxray-prep`, '-m', `${COMMITTEE}/chestxray-cnn`, '-e', `${COMMITTEE}/chestxray-metrics`,
      '--demo-dataset-url', h.demoUrl, '--runner', 'process', '--model-auto-approval', 'allowlist:model-owner'];
    const badMetric = await h.run([...args, '--primary-metric', 'Dice', '--yes'], { as: COMMITTEE });
    expect(badMetric.code).toBe(1);
    expect(badMetric.err).toContain('WARNING: the process runner runs the cube directly on this machine with NO isolation');
    expect(badMetric.err).toContain('error (no-such-metric): --primary-metric Dice: the evaluator reports no such number; it reports AUC.cardiomegaly,');
    const noTty = await h.run([...args, '--primary-metric', 'AUC.mean'], { as: COMMITTEE });
    expect(noTty.code).toBe(1);
    expect(noTty.err).toBe(`error (confirmation-needed): Open a pull request on ${h.forgeRoot} proposing the benchmark chestxray to the admins?: cannot ask without a terminal; pass --yes to confirm, nothing was done\n`);
    const declined = await h.run([...args, '--primary-metric', 'AUC.mean'], { as: COMMITTEE, input: 'n\n' });
    expect(declined.err).toContain('compatibility test: passed\nerror (cancelled): Not submitted; nothing was done\n');
    expect(await (await h.forge(ADMIN)).listPulls({ paths: ['benchmarks/'] })).toEqual([]);

    const r = await h.run([...args, '--primary-metric', 'AUC.mean'], { as: COMMITTEE, input: 'y\n' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('Compatibility test on the demo dataset (generated_uid ');
    expect(r.out).toMatch(/\n {2}AUC\.mean: +0\.\d+\n/);
    expect(r.out).toContain('The benchmark record (benchmarks/chestxray/benchmark.yaml):\n  name: Chest X-ray classification\n  committee:\n    - bench-committee\n');
    expect(r.out).toContain('Open a pull request on ');
    expect(r.out).toMatch(/Opened pull request #4: /);
    expect(r.err).toContain('compatibility test: the three cubes on the demo dataset (process runner)\n');

    const pull = await (await h.forge(ADMIN)).getPull(4);
    expect(pull.paths).toEqual(['benchmarks/chestxray/benchmark.yaml', 'benchmarks/chestxray/models/bench-committee/chestxray-cnn.yaml']);
    expect(pull.body).toContain('### Compatibility test: the three cubes on the demo dataset');
    const tree = await (await h.forge(ADMIN)).pullTree(4);
    const record = load((await tree.read('benchmarks/chestxray/benchmark.yaml'))!.toString()) as Record<string, any>;
    expect(record.demo_dataset.url).toBe(h.demoUrl);
    expect(record.model_auto_approval).toEqual({ mode: 'allowlist', allowlist: ['model-owner'] });
    // The default results policy is public, written as before: no `read` key.
    expect(record.results_policy).toEqual({ publish: 'aggregate', primary_metric: 'AUC.mean', direction: 'higher' });
    const assoc = load((await tree.read('benchmarks/chestxray/models/bench-committee/chestxray-cnn.yaml'))!.toString()) as Record<string, any>;
    expect(assoc.compatibility_test.dataset_generated_uid).toBe(record.demo_dataset.generated_uid);
    expect(assoc.compatibility_test.cubes.model).toMatchObject({ id: 'bench-committee/chestxray-cnn', image: digest('b') });

    const ls = await h.run(['benchmark', 'ls']);
    expect(ls.out).toBe(
      'NAME       TITLE                       STATUS        MODELS  DATASETS  COMMITTEE\n' +
        'chestxray  Chest X-ray classification  pending (#4)                    bench-committee\n',
    );
    const admin = await h.forge(ADMIN);
    await expect(admin.merge(4)).rejects.toThrow(/not approved/);
    await admin.review(4, 'APPROVE');
    await admin.merge(4);
    const approved = await h.run(['benchmark', 'ls']);
    expect(approved.out).toBe(
      'NAME       TITLE                       STATUS    MODELS  DATASETS  COMMITTEE\n' +
        'chestxray  Chest X-ray classification  approved  1       0         bench-committee\n',
    );
  });

  it('--read says who reads the results: public or committee, and nothing else', async () => {
    const base = ['benchmark', 'submit', '--name', 'sealed', '-p', `${COMMITTEE}/chestxray-prep`, '-m', `${COMMITTEE}/chestxray-cnn`, '-e', `${COMMITTEE}/chestxray-metrics`,
      '--demo-dataset-url', h.demoUrl, '--primary-metric', 'AUC.mean', '--runner', 'process', '--yes'];
    for (const bad of ['everyone', 'Committee', '']) {
      const r = await h.run([...base, '--read', bad], { as: COMMITTEE });
      expect(r.code).toBe(1);
      expect(r.err).toContain(`--read must be one of public, committee, not ${bad}`);
    }
    const r = await h.run([...base, '--read', 'committee'], { as: COMMITTEE });
    expect(r.code).toBe(0);
    const pull = (await (await h.forge(ADMIN)).listPulls({ state: 'open', paths: ['benchmarks/sealed/benchmark.yaml'] }))[0]!;
    const tree = await (await h.forge(ADMIN)).pullTree(pull.number);
    const record = load((await tree.read('benchmarks/sealed/benchmark.yaml'))!.toString()) as Record<string, any>;
    expect(record.results_policy).toEqual({ publish: 'aggregate', primary_metric: 'AUC.mean', direction: 'higher', read: 'committee' });
    expect(pull.body).toMatch(/results policy: +aggregate, ranked on AUC.mean \(higher is better\); metrics readable by the committee only/);
  });

  it('refuses a cube of the wrong kind, and a benchmark name already taken', async () => {
    const base = ['benchmark', 'submit', '-p', `${COMMITTEE}/chestxray-prep`, '-e', `${COMMITTEE}/chestxray-metrics`, '--demo-dataset-url', h.demoUrl, '--primary-metric', 'AUC.mean', '--runner', 'process', '--yes'];
    const kind = await h.run([...base, '--name', 'other', '-m', `${COMMITTEE}/chestxray-metrics`], { as: COMMITTEE });
    expect(kind.err).toBe(`error (wrong-cube-kind): ${COMMITTEE}/chestxray-metrics is a metrics cube; the reference model must be a model cube\n`);
    const taken = await h.run([...base, '--name', 'chestxray', '-m', `${COMMITTEE}/chestxray-cnn`], { as: COMMITTEE });
    expect(taken.err).toBe('error (benchmark-exists): the benchmark chestxray exists already; choose another --name; nothing was submitted\n');
    const wrongHash = await h.run([...base, '--name', 'other', '-m', `${COMMITTEE}/chestxray-cnn`, '--demo-dataset-hash', '0'.repeat(64)], { as: COMMITTEE });
    expect(wrongHash.err).toMatch(new RegExp(`error \\(hash-mismatch\\): the demo dataset: expected sha256 ${'0'.repeat(64)}, got [0-9a-f]{64}; nothing was run\\n$`));
    const policy = await h.run([...base, '--name', 'other', '-m', `${COMMITTEE}/chestxray-cnn`, '--model-auto-approval', 'sometimes'], { as: COMMITTEE });
    expect(policy.err).toContain('--model-auto-approval must be never, always, or allowlist:LOGIN,LOGIN..., not sometimes');
  });
});
