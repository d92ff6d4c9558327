// `npm test` runs real containers. When no Docker engine answers but dockerd is installed and we
// are root (CI, and the fresh machine after `.ci/run`'s install), start one for the run and stop
// it afterwards, so the test command needs nothing started by hand. A run that was killed never
// reaches its teardown: a mark names the engine it started and the run's process, and the next
// run adopts an engine whose run is gone, and stops it afterwards.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive as alive } from '../cli/state.ts';

const engineAnswers = () => spawnSync('docker', ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
const MARK = join(tmpdir(), 'medperf-git-dockerd.owner');

let started: ChildProcess | undefined;
/** An engine an earlier, killed run started, which this run stops. */
let adopted: number | undefined;

/** The engine and run of the mark: `<dockerd pid> <run pid>`. */
function readMark(): { dockerd: number; owner: number } | undefined {
  try {
    const [dockerd, owner] = readFileSync(MARK, 'utf8').trim().split(' ').map(Number);
    return dockerd && owner ? { dockerd, owner } : undefined;
  } catch {
    return undefined;
  }
}

export async function setup(): Promise<void> {
  if (engineAnswers()) {
    const mark = readMark();
    if (mark && !alive(mark.owner) && alive(mark.dockerd)) {
      adopted = mark.dockerd;
      writeFileSync(MARK, `${adopted} ${process.pid}`);
    }
    return;
  }
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
  writeFileSync(MARK, `${started.pid} ${process.pid}`);
  for (let i = 0; i < 60; i++) {
    if (engineAnswers()) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`dockerd did not answer within 60 s; see ${logFile}`);
}

export async function teardown(): Promise<void> {
  if (adopted) {
    process.kill(adopted, 'SIGTERM');
    for (let i = 0; i < 60 && alive(adopted); i++) await new Promise((r) => setTimeout(r, 250));
    rmSync(MARK, { force: true });
    return;
  }
  if (!started) return;
  const exited = new Promise((r) => started!.once('exit', r));
  started.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
  rmSync(MARK, { force: true });
}
