import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCube } from '../cube/config.ts';
import { planTask } from '../cube/plan.ts';
import { hostEnvironment, NoProcessEntrypointError, PROCESS_RUNNER_WARNING, ProcessRunner } from './process.ts';
import { TaskTimeoutError } from './runner.ts';

const tmp = mkdtempSync(join(tmpdir(), 'process-runner-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const cubeDir = join(tmp, 'hostile');
cpSync(new URL('../../testing/fixtures/hostile-cube/', import.meta.url).pathname, cubeDir, { recursive: true });
mkdirSync(join(cubeDir, 'workspace'));
writeFileSync(join(cubeDir, 'workspace', 'parameters.yaml'), 'fork_bomb: 0\n');

const running = () => {
  try {
    return execFileSync('pgrep', ['-f', `${cubeDir}/workspace/parameters.yaml`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

describe('the process runner', () => {
  it('warns, logs, and kills the task with everything it started when it runs past its timeout', async () => {
    const warnings: string[] = [];
    const plan = planTask(loadCube(cubeDir), 'hang');
    expect(plan.process?.command.slice(0, 3)).toEqual(['node', 'project/main.mjs', 'hang']);
    const error = await new ProcessRunner(join(tmp, 'state'), (w) => warnings.push(w)).run({ plan, label: 'test/hostile', limits: { timeoutMs: 1500 } }).catch((e) => e);
    expect(warnings).toEqual([PROCESS_RUNNER_WARNING]);
    expect(error).toBeInstanceOf(TaskTimeoutError);
    expect(error.message).toContain('test/hostile hang: killed after its timeout of 2s');
    expect(readFileSync(error.logFile, 'utf8')).toContain('hanging forever');
    expect(running()).toBe('');
  });

  it('passes the cube no credentials from the environment', () => {
    expect(hostEnvironment({ PATH: '/usr/bin', HOME: '/home/me', GITHUB_TOKEN: 'ghp_secret', AWS_SECRET_ACCESS_KEY: 'x' })).toEqual({ PATH: '/usr/bin', HOME: '/home/me' });
  });

  it('refuses a cube that declares no process entrypoint', async () => {
    const dir = join(tmp, 'image-only');
    mkdirSync(join(dir, 'workspace'), { recursive: true });
    writeFileSync(join(dir, 'mlcube.yaml'), 'docker:\n  image: x:1\ntasks:\n  infer:\n    parameters:\n      outputs: { out: out/ }\n');
    const plan = planTask(loadCube(dir), 'infer');
    await expect(new ProcessRunner(join(tmp, 'state'), () => {}).run({ plan, label: 'x/y' })).rejects.toThrow(NoProcessEntrypointError);
  });
});

describe('a task run on the host, interrupted', () => {
  it('takes its whole process group with it on SIGINT or SIGTERM, which a terminal or a scheduler sends to the CLI alone', async () => {
    const { spawn } = await import('node:child_process');
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const marker = String(3000 + (process.pid % 1000) + (signal === 'SIGINT' ? 0 : 1000));
      const log = join(tmp, `interrupted-${signal}.log`);
      const script = join(tmp, `interrupted-${signal}.mts`);
      writeFileSync(
        script,
        `import { runLoggedCommand } from ${JSON.stringify(new URL('./runner.ts', import.meta.url).pathname)};
await runLoggedCommand(${JSON.stringify(tmp)}, { plan: { task: 'infer' }, label: 'x', logFile: ${JSON.stringify(log)} }, ['sh', '-c', 'echo started; sleep ${marker}; true']);
`,
      );
      const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'ignore', cwd: new URL('../..', import.meta.url).pathname });
      for (let i = 0; i < 300 && !readFileSync(log, { encoding: 'utf8', flag: 'a+' }).includes('started'); i++) await new Promise((r) => setTimeout(r, 50));
      const sleeping = () => execFileSync('sh', ['-c', `pgrep -f "^sleep ${marker}$" || true`], { encoding: 'utf8' }).trim();
      expect(sleeping()).not.toBe('');
      child.kill(signal);
      const exit = await new Promise<NodeJS.Signals | null>((r) => child.once('exit', (_, s) => r(s)));
      expect(exit).toBe(signal);
      for (let i = 0; i < 40 && sleeping(); i++) await new Promise((r) => setTimeout(r, 50));
      expect(sleeping()).toBe('');
    }
  }, 60_000);
});
