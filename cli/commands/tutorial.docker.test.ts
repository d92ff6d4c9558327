// The tutorial with the real Docker engine (CI starts one): every cube in a container.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../../testing/seeded-registry.ts';

let state: string | undefined;

afterAll(async () => {
  if (state) await rm(state, { recursive: true, force: true });
});

describe('medperf-git tutorial with Docker', () => {
  it('runs every cube in a container and reaches the leaderboard', async () => {
    state = await mkdtemp(join(tmpdir(), 'medperf-tutorial-docker-'));
    const { code, out, err } = await cli(state, '', ['tutorial', '--runner', 'docker']);
    expect(code, err).toBe(0);
    expect(out).toContain('Cubes run in Docker.');
    expect(out).not.toContain('PROCESS RUNNER');
    expect(err).not.toContain('NO isolation');
    expect(out).toContain('Total: 2 models, 1 ran, 1 from cache, 0 partial, 0 failed');
    expect(out).toMatch(/^1\s+\S+\/chestxray-\S+\s+0\.\d{3}\s+1$/m);
  }, 600_000);
});
