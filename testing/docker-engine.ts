// `npm test` runs real containers. When no Docker engine answers but dockerd is installed and we
// are root (CI, and the fresh machine after `.ci/run`'s install), start one for the run and stop
// it afterwards, so the test command needs nothing started by hand.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const engineAnswers = () => spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;

let started: ChildProcess | undefined;

export async function setup(): Promise<void> {
  if (engineAnswers()) return;
  const isRoot = process.getuid?.() === 0;
  const hasDockerd = spawnSync('sh', ['-c', 'command -v dockerd'], { stdio: 'ignore' }).status === 0;
  if (!isRoot || !hasDockerd) {
    throw new Error(
      'The tests run real containers and no Docker engine answers. Run `bash .ci/run` once (it installs docker.io and Chromium), or start dockerd.',
    );
  }
  const logFile = join(tmpdir(), 'medperf-git-dockerd.log');
  const log = openSync(logFile, 'a');
  started = spawn('dockerd', ['--iptables=false', '--bridge=none'], { stdio: ['ignore', log, log], detached: false });
  closeSync(log);
  for (let i = 0; i < 60; i++) {
    if (engineAnswers()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`dockerd did not answer within 60 s; see ${logFile}`);
}

export async function teardown(): Promise<void> {
  if (!started) return;
  const exited = new Promise((r) => started!.once('exit', r));
  started.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
}
