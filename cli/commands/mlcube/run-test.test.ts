// `mlcube run-test` (MedPerf's run_test): one task of a cube folder, with the mounts and environment a
// cube author gives, through the same isolated runner and task loop as every other command.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCubeImage } from '../../demo/images.ts';
import { cli } from '../../../testing/seeded-registry.ts';

const tmp = mkdtempSync(join(tmpdir(), 'run-test-'));
const cube = join(tmp, 'echo-cube');
const state = join(tmp, 'state');
const IMAGE = 'medperf-git-test/run-test:1';

beforeAll(async () => {
  mkdirSync(join(cube, 'project'), { recursive: true });
  mkdirSync(join(cube, 'workspace'), { recursive: true });
  writeFileSync(join(cube, 'workspace', 'greeting.txt'), 'from the workspace\n');
  writeFileSync(
    join(cube, 'mlcube.yaml'),
    `name: echo\ndocker:\n  image: ${IMAGE}\nprocess:\n  command: node project/main.mjs\ntasks:\n  echo:\n    parameters:\n      inputs: { input: greeting.txt }\n      outputs: { output_path: out/ }\n  fail:\n    parameters:\n      inputs: { input: greeting.txt }\n`,
  );
  writeFileSync(
    join(cube, 'project', 'main.mjs'),
    `import { readFileSync, writeFileSync } from 'node:fs';
const [task, ...rest] = process.argv.slice(2);
const args = Object.fromEntries(rest.map((a) => /^--([^=]+)=(.*)$/.exec(a)).filter(Boolean).map((m) => [m[1], m[2]]));
if (task === 'fail') { console.error('the model is missing its weights'); process.exit(4); }
let stamp = 0;
try { stamp = JSON.parse(readFileSync(args.output_path + '/echo.json', 'utf8')).runs; } catch {}
writeFileSync(args.output_path + '/echo.json', JSON.stringify({ input: readFileSync(args.input, 'utf8'), greeting: process.env.GREETING ?? null, uid: process.getuid(), runs: stamp + 1 }));
`,
  );
  await buildCubeImage(cube, IMAGE, new Docker());
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (argv: string[]) => cli(state, '', ['mlcube', 'run-test', ...argv], { cwd: tmp });

describe('mlcube run-test', () => {
  it('runs one task in Docker with the mounts and environment given, every time', async () => {
    // The test's folder is root's alone: as root, the container's user could not enter it.
    const tmpInput = join(tmp, 'hello.txt');
    writeFileSync(tmpInput, 'hello from the host\n');
    const refused = await run(['-m', 'echo-cube', '-t', 'echo', '--mount', 'input=hello.txt']);
    if (process.getuid?.() === 0) {
      expect(refused.code).toBe(77);
      expect(refused.err).toContain(`error (container-cannot-read): echo-cube echo: ${tmp} is not a folder the container's user may enter (uid 65534, gid 65534)`);
      expect(refused.err).toContain(`chmod o+x ${tmp}`);
    }
    const inputs = join(tmp, 'inputs');
    mkdirSync(inputs, { mode: 0o755 });
    const input = join(inputs, 'hello.txt');
    writeFileSync(input, 'hello from the host\n');
    const out = join(tmp, 'out-docker');
    const argv = ['-m', 'echo-cube', '-t', 'echo', '--mount', 'input=inputs/hello.txt', '--mount', `output_path=${out}`, '--env', 'GREETING=bonjour', '-e', 'EMPTY='];
    const first = await run(argv);
    expect(first.code, first.err).toBe(0);
    expect(first.out).toContain('echo-cube echo: done (docker runner).');
    expect(first.out).toMatch(new RegExp(`input\\s+input\\s+${input}\\s+--mount`));
    expect(first.out).toMatch(/environment: GREETING, EMPTY/);
    expect(first.out).toMatch(/log:\s+\S+\/logs\/\S+echo\S*\.log/);
    const echoed = JSON.parse(readFileSync(join(out, 'echo.json'), 'utf8'));
    // As root, the cube ran unprivileged, as in every other command.
    expect(echoed).toEqual({ input: 'hello from the host\n', greeting: 'bonjour', uid: process.getuid?.() === 0 ? 65534 : process.getuid?.(), runs: 1 });
    const second = await run(argv);
    expect(second.code, second.err).toBe(0);
    expect(JSON.parse(readFileSync(join(out, 'echo.json'), 'utf8')).runs).toBe(2);
  }, 120_000);

  it('keeps the defaults of parameters not given, relative to the workspace; the process runner warns', async () => {
    const result = await run(['-m', 'echo-cube', '-t', 'echo', '--runner', 'process', '--json']);
    expect(result.code, result.err).toBe(0);
    expect(result.err).toContain('NO isolation');
    const json = JSON.parse(result.out);
    expect(json.parameters).toEqual([
      { name: 'input', io: 'input', path: join(cube, 'workspace', 'greeting.txt'), given: false },
      { name: 'output_path', io: 'output', path: join(cube, 'workspace', 'out'), given: false },
    ]);
    expect(JSON.parse(readFileSync(join(cube, 'workspace', 'out', 'echo.json'), 'utf8'))).toMatchObject({ input: 'from the workspace\n', greeting: null });
  });

  it('says what is wrong with its arguments before anything runs', async () => {
    const cases: Array<[string[], string]> = [
      [['--mount', 'inptu=x'], '--mount inptu: the task `echo` of'],
      [['--mount', 'input'], '--mount input: say NAME=VALUE'],
      [['--mount', '=x'], '--mount =x: say NAME=VALUE'],
      [['--env', 'GREETING'], '--env GREETING: say NAME=VALUE'],
      [['--env', '1X=a'], '--env 1X=a: say NAME=VALUE'],
      [['--env', 'A-B=a'], '--env A-B=a: say NAME=VALUE'],
      [['--env', 'A=1', '--env', 'A=2'], '--env A is given twice'],
      [['--timeout', '0'], '--timeout 0: give a number of seconds'],
      [['--timeout', 'soon'], '--timeout soon: give a number of seconds'],
    ];
    for (const [extra, message] of cases) {
      const result = await run(['-m', 'echo-cube', '-t', 'echo', ...extra]);
      expect(result.code, extra.join(' ')).not.toBe(0);
      expect(result.err, extra.join(' ')).toContain(message);
    }
    const task = await run(['-m', 'echo-cube', '-t', 'train']);
    expect(task.err).toContain('no task `train` (tasks: echo, fail)');
  });

  it('reports a failing task with the last lines of its log', async () => {
    const result = await run(['-m', 'echo-cube', '-t', 'fail']);
    expect(result.code).toBe(1);
    expect(result.err).toContain('error (task-failed): echo-cube fail: failed with exit code 4');
    expect(result.err).toContain('| the model is missing its weights');
  }, 60_000);
});
