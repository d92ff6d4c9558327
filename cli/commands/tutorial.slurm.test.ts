// The tutorial with the data owner's steps as jobs of a real Slurm cluster (testing/slurm-cluster.ts),
// every cube in a container on the node.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../../testing/seeded-registry.ts';

let state: string | undefined;

afterAll(async () => {
  if (state) await rm(state, { recursive: true, force: true });
});

describe('medperf-git tutorial --executor slurm', () => {
  it("runs the data owner's prepare, associate and run through Slurm and reaches the leaderboard", async () => {
    state = await mkdtemp(join(tmpdir(), 'medperf-tutorial-slurm-'));
    const { code, out, err } = await cli(state, '', ['tutorial', '--runner', 'docker', '--executor', 'slurm']);
    expect(code, err).toBe(0);
    expect(out).toContain('dataset prepare -d data-owner/hospital-a --runner docker --executor slurm');
    expect(out).toContain('Running 2 models of chestxray on data-owner/hospital-a (docker runner, slurm executor).');
    expect(err).toMatch(/submitted as Slurm job \d+/);
    expect(out).toContain('Total: 2 models, 1 ran, 1 from cache, 0 partial, 0 failed');
    expect(out).toMatch(/^1\s+\S+\/chestxray-\S+\s+0\.\d{3}\s+1$/m);
  }, 600_000);
});
