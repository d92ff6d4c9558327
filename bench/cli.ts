// Start-up of the shipped CLI against bare Node, in the same run: `medperf-git --version` and
// `medperf-git --help` (the compiled entry, answering from the command index) against `node -e 0`.
// The sources are compiled first (incrementally), so the numbers are the current code's.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = `${ROOT}bin/medperf-git.js`;
const ROUNDS = 21;

function seconds(args: string[]): number {
  const start = process.hrtime.bigint();
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
  if (run.status !== 0) throw new Error(`node ${args.join(' ')} exited ${run.status}: ${run.stderr}`);
  return elapsed;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function main(): Promise<void> {
  const build = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}tsconfig.build.json`], { stdio: 'inherit' });
  if (build.status !== 0) throw new Error('the build failed');
  const times = { floor: [] as number[], version: [] as number[], help: [] as number[] };
  // One warm-up each, then the three interleaved, so load on the machine falls on all of them alike.
  seconds(['-e', '0']);
  seconds([BIN, '--version']);
  seconds([BIN, '--help']);
  for (let i = 0; i < ROUNDS; i++) {
    times.floor.push(seconds(['-e', '0']));
    times.version.push(seconds([BIN, '--version']));
    times.help.push(seconds([BIN, '--help']));
  }
  const floor = median(times.floor);
  const ms = (s: number) => `${(s * 1000).toFixed(0)} ms`;
  console.log(`cli: medians of ${ROUNDS}: node -e 0 ${ms(floor)}, --version ${ms(median(times.version))}, --help ${ms(median(times.help))}`);
  console.log(`BENCH cli-startup ratio=${(median(times.version) / floor).toFixed(2)} target<=2`);
  console.log(`BENCH cli-help ratio=${(median(times.help) / floor).toFixed(2)} target<=3`);
}
