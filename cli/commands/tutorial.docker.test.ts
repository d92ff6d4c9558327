// The tutorial with the real Docker engine (CI starts one): every cube in a container. It runs as
// root under `umask 077`, as on many hospital servers: cubes run as an unprivileged user, and read
// what medperf-git and the earlier tasks wrote, every folder and file made without access for others.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cli } from '../../testing/seeded-registry.ts';

let state: string | undefined;

let umask: number | undefined;

afterAll(async () => {
  if (umask !== undefined) process.umask(umask);
  if (state) await rm(state, { recursive: true, force: true });
});

describe('medperf-git tutorial with Docker', () => {
  it('runs every cube in a container and reaches the leaderboard, as root under umask 077', async () => {
    expect(process.getuid?.()).toBe(0);
    umask = process.umask(0o077);
    state = await mkdtemp(join(tmpdir(), 'medperf-tutorial-docker-'));
    const { code, out, err } = await cli(state, '', ['tutorial', '--runner', 'docker']);
    expect(code, err).toBe(0);
    expect(out).toContain('Cubes run in Docker.');
    expect(out).not.toContain('PROCESS RUNNER');
    expect(err).not.toContain('NO isolation');
    expect(out).toContain('Total: 2 models, 1 ran, 1 from cache, 0 partial, 0 failed');
    expect(out).toMatch(/^1\s+\S+\/chestxray-\S+\s+0\.\d{3}\s+1$/m);
    // The umask held: the state medperf-git made is root's alone, yet every task read its inputs.
    expect((await stat(join(state, 'tutorial', 'datasets'))).mode & 0o077).toBe(0);
  }, 600_000);
});
