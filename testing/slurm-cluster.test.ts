// The test cluster's harness: a cluster whose test run was killed is stopped by the next run.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts, reapOrphanedClusters } from './slurm-cluster.ts';

const root = mkdtempSync(join(tmpdir(), 'medperf-git-reap-'));
const start = fileURLToPath(new URL('../examples/slurm/start.sh', import.meta.url));
const stop = fileURLToPath(new URL('../examples/slurm/stop.sh', import.meta.url));

afterAll(() => {
  // Whatever the test left, stopped by the cluster's own script.
  for (const name of ['medperf-git-slurm-killed', 'medperf-git-slurm-running', 'medperf-git-slurm-unknown', 'medperf-git-slurm-jobs']) {
    spawnSync('bash', [stop], { env: { ...process.env, MEDPERF_GIT_SLURM_DIR: join(root, name) }, stdio: 'ignore', timeout: 60_000 });
  }
  rmSync(root, { recursive: true, force: true });
});

const alive = (pid: number) => spawnSync('kill', ['-0', String(pid)]).status === 0;

describe('the test Slurm cluster', () => {
  it('stops the clusters of test runs that were killed, and leaves the others', async () => {
    // A cluster whose run is gone: its owner is a process that has ended.
    const killed = join(root, 'medperf-git-slurm-killed');
    mkdirSync(killed);
    const ended = spawnSync('sh', ['-c', 'echo $$']).stdout.toString().trim();
    writeFileSync(join(killed, 'owner.pid'), ended);
    execFileSync('bash', [start], { env: { ...process.env, MEDPERF_GIT_SLURM_DIR: killed, MEDPERF_GIT_SLURM_PORT: String(await freePorts()) }, timeout: 120_000 });
    const daemons = ['munged', 'slurmctld', 'slurmd'].map((d) => Number(readFileSync(join(killed, `${d}.pid`), 'utf8')));
    expect(daemons.every(alive)).toBe(true);
    // One whose run goes on, and a folder the harness did not make.
    const running = join(root, 'medperf-git-slurm-running');
    mkdirSync(running);
    writeFileSync(join(running, 'owner.pid'), String(process.pid));
    const unknown = join(root, 'medperf-git-slurm-unknown');
    mkdirSync(unknown);

    expect(reapOrphanedClusters(root)).toEqual([killed]);
    expect(daemons.filter(alive)).toEqual([]);
    expect(existsSync(killed)).toBe(false);
    expect(existsSync(running) && existsSync(unknown)).toBe(true);
    expect(reapOrphanedClusters(root)).toEqual([]);
  }, 180_000);

  it('stop.sh leaves no job behind: running jobs are cancelled, and a job whose controller is gone is ended with what it runs', async () => {
    const dir = join(root, 'medperf-git-slurm-jobs');
    const env = { ...process.env, MEDPERF_GIT_SLURM_DIR: dir, MEDPERF_GIT_SLURM_PORT: String(await freePorts()), SLURM_CONF: join(dir, 'slurm.conf') };
    const running = (marker: string) => spawnSync('pgrep', ['-f', marker]).stdout.toString().trim();
    for (const controllerGone of [false, true]) {
      execFileSync('bash', [start], { env, timeout: 120_000 });
      const marker = `sleep 297${controllerGone ? 1 : 0}`;
      execFileSync('sbatch', ['--mem=16M', '--output=/dev/null', `--wrap=${marker}`], { env });
      for (let i = 0; i < 100 && !running(marker); i++) await new Promise((r) => setTimeout(r, 100));
      expect(running(marker)).not.toBe('');
      if (controllerGone) {
        const ctld = Number(readFileSync(join(dir, 'slurmctld.pid'), 'utf8'));
        process.kill(ctld, 'SIGKILL');
        for (let i = 0; i < 50 && alive(ctld); i++) await new Promise((r) => setTimeout(r, 100));
      }
      execFileSync('bash', [stop], { env, timeout: 60_000 });
      expect(running(marker)).toBe('');
      expect(existsSync(dir)).toBe(false);
    }
  }, 180_000);
});
