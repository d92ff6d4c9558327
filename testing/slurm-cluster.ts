// `npm test` runs real Slurm jobs: a single-node cluster started for the run by
// examples/slurm/start.sh (munged, slurmctld, slurmd) on two free loopback ports, under a folder of
// its own, and stopped by examples/slurm/stop.sh afterwards, so nothing is left running. Tests
// find it through $SLURM_CONF. A run that was killed never reaches its teardown: each folder names
// the process that started it, and the next run stops the clusters whose process is gone.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { processAlive as alive } from '../cli/state.ts';

const scripts = fileURLToPath(new URL('../examples/slurm/', import.meta.url));

/** Two consecutive free ports on 127.0.0.1 (slurmctld's and slurmd's). */
export async function freePorts(): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
      s.once('error', reject);
    });
    if (port > 65000) continue;
    const next = await new Promise<boolean>((resolve) => {
      const s = createServer().listen(port + 1, '127.0.0.1', () => s.close(() => resolve(true)));
      s.once('error', () => resolve(false));
    });
    if (next) return port;
  }
  throw new Error('no two free consecutive ports on 127.0.0.1 for the test Slurm cluster');
}

const PREFIX = 'medperf-git-slurm-';
const OWNER = 'owner.pid';

function stopAt(folder: string, port?: number): void {
  const env = { ...process.env, MEDPERF_GIT_SLURM_DIR: folder, ...(port ? { MEDPERF_GIT_SLURM_PORT: String(port) } : {}) };
  spawnSync('bash', [join(scripts, 'stop.sh')], { env, stdio: 'ignore', timeout: 60_000 });
}

/** Stops the clusters earlier test runs started and could not stop, because they were killed. */
export function reapOrphanedClusters(root = tmpdir()): string[] {
  const reaped: string[] = [];
  for (const name of readdirSync(root)) {
    if (!name.startsWith(PREFIX)) continue;
    const folder = join(root, name);
    let owner: number;
    try {
      owner = Number(readFileSync(join(folder, OWNER), 'utf8'));
    } catch {
      continue; // Not started by this harness (or still being made): not ours to stop.
    }
    if (!Number.isInteger(owner) || owner <= 0 || alive(owner)) continue;
    stopAt(folder);
    reaped.push(folder);
  }
  return reaped;
}

/** Starts a cluster of its own under a new folder; returns its SLURM_CONF and how to stop it. */
export async function startSlurm(): Promise<{ conf: string; stop: () => void }> {
  if (spawnSync('sh', ['-c', 'command -v slurmctld && command -v munged'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('The tests run real Slurm jobs and Slurm is not installed. Run `bash .ci/run` once (it installs slurm-wlm and munge).');
  }
  reapOrphanedClusters();
  const folder = mkdtempSync(join(tmpdir(), PREFIX));
  writeFileSync(join(folder, OWNER), String(process.pid));
  const port = await freePorts();
  const env = { ...process.env, MEDPERF_GIT_SLURM_DIR: folder, MEDPERF_GIT_SLURM_PORT: String(port) };
  const stop = () => stopAt(folder, port);
  try {
    const out = execFileSync('bash', [join(scripts, 'start.sh')], { env, encoding: 'utf8', timeout: 120_000 });
    return { conf: /SLURM_CONF=(\S+)/.exec(out)![1]!, stop };
  } catch (error) {
    stop();
    throw error;
  }
}

let stopCluster: (() => void) | undefined;

export async function setup(): Promise<void> {
  const { conf, stop } = await startSlurm();
  stopCluster = stop;
  process.env.SLURM_CONF = conf;
}

export async function teardown(): Promise<void> {
  stopCluster?.();
}
