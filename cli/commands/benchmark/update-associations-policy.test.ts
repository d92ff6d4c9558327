import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, approvedChestxray, COMMITTEE, createHarness, type Harness, MODEL_OWNER } from '../../../testing/registry-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await createHarness();
  await approvedChestxray(h);
});
afterAll(async () => {
  await h.cleanup();
});

describe('benchmark update-associations-policy', () => {
  it('opens the pull request changing the policy, which an admin approves and merges', async () => {
    await writeFile(join(h.home, 'trusted.txt'), `# model owners we trust\n${MODEL_OWNER}\nother-owner  # a second one\n\n`);
    const r = await h.run(['benchmark', 'update-associations-policy', '-b', 'chestxray', '--dataset-mode', 'ALWAYS', '--model-mode', 'allowlist', '--allowlist-file', 'trusted.txt'], { as: COMMITTEE });
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const number = Number(/Pull request #(\d+)/.exec(r.out)![1]);
    expect(r.out).toContain(`changes the association policy of chestxray to datasets: always, models: allowlist (${MODEL_OWNER}, other-owner).`);
    const admin = await h.forge(ADMIN);
    const pull = await admin.getPull(number);
    expect(pull.paths).toEqual(['benchmarks/chestxray/benchmark.yaml']);
    const record = (await (await admin.pullTree(number)).read('benchmarks/chestxray/benchmark.yaml'))!.toString();
    expect(record).toMatch(/dataset_auto_approval:\n  mode: always\nmodel_auto_approval:\n  mode: allowlist\n  allowlist:\n    - model-owner\n    - other-owner\n/);
    // A benchmark change: the admin's approval merges it.
    await expect(admin.merge(number)).rejects.toThrow(/not approved/);
    await admin.review(number, 'APPROVE');
    await admin.merge(number);
    await admin.dispose();
    const again = await h.run(['benchmark', 'update-associations-policy', '-b', 'chestxray', '--dataset-mode', 'always'], { as: COMMITTEE });
    expect(again.out).toContain('chestxray already has this policy (datasets: always, models: allowlist (model-owner, other-owner)); nothing to do.');
  });

  it('is for the committee, and says what is wrong with its options', async () => {
    const outsider = await h.run(['benchmark', 'update-associations-policy', '-b', 'chestxray', '--model-mode', 'never'], { as: MODEL_OWNER });
    expect(outsider.code).toBe(1);
    expect(outsider.err).toContain('committee');
    const said = async (...args: string[]) => {
      const r = await h.run(['benchmark', 'update-associations-policy', '-b', 'chestxray', ...args], { as: COMMITTEE });
      expect(r.code).toBe(1);
      return r.out + r.err;
    };
    expect(await said()).toContain('say what changes');
    expect(await said('--model-mode', 'sometimes')).toContain('--model-mode');
    expect(await said('--model-mode', 'allowlist')).toContain('needs --allowlist-file');
    await writeFile(join(h.home, 'bad.txt'), 'alice\nnot a login\n');
    const bad = await h.run(['benchmark', 'update-associations-policy', '-b', 'chestxray', '--model-mode', 'allowlist', '--allowlist-file', 'bad.txt'], { as: COMMITTEE });
    expect(bad.err).toContain(`${join(h.home, 'bad.txt')}:2:1 "not a login" is not a GitHub login`);
  });
});
