// `npm test` runs real Slurm jobs: a single-node cluster started for the run by
// examples/slurm/start.sh (munged, slurmctld, slurmd) on two free loopback ports, under a folder of
// its own, and stopped by examples/slurm/stop.sh afterwards, so nothing is left running. Tests
// find it through $SLURM_CONF.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const scripts = fileURLToPath(new URL('../examples/slurm/', import.meta.url));

/** Two consecutive free ports on 127.0.0.1 (slurmctld's and slurmd's). */
async function freePorts(): Promise<number> {
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

/** Starts a cluster of its own under a new folder; returns its SLURM_CONF and how to stop it. */
export async function startSlurm(): Promise<{ conf: string; stop: () => void }> {
  if (spawnSync('sh', ['-c', 'command -v slurmctld && command -v munged'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('The tests run real Slurm jobs and Slurm is not installed. Run `bash .ci/run` once (it installs slurm-wlm and munge).');
  }
  const folder = mkdtempSync(join(tmpdir(), 'medperf-git-slurm-'));
  const env = { ...process.env, MEDPERF_GIT_SLURM_DIR: folder, MEDPERF_GIT_SLURM_PORT: String(await freePorts()) };
  const stop = () => void spawnSync('bash', [join(scripts, 'stop.sh')], { env, stdio: 'ignore', timeout: 60_000 });
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
