// `npm run standin` as a person uses it: start it on a registry folder, read the one JSON line,
// point the CLI at it with --registry OWNER/REPO and GITHUB_API_URL, and stop it with Ctrl-C.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../cli.ts';

const root = fileURLToPath(new URL('../..', import.meta.url));

interface Started {
  api: string;
  git: string;
  repo: string;
  tokens: Record<string, string>;
}

let child: ChildProcess;
let started: Started;
let home: string;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'medperf-git-standin-serve-'));
  // What `npm run standin --` runs (package.json), started directly so the signal reaches it.
  const script = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).scripts.standin as string;
  expect(script).toBe('node --import tsx testing/github-standin/serve.ts');
  child = spawn(process.execPath, ['--import', 'tsx', 'testing/github-standin/serve.ts', '--registry', join(root, 'examples/registry'), '--user', 'alice:triage', '--user', 'bob:write'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  started = JSON.parse(line);
}, 60_000);
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  }
  await rm(home, { recursive: true, force: true });
});

describe('npm run standin', () => {
  it('prints where it serves the registry and a token per user, on 127.0.0.1', () => {
    expect(Object.keys(started).sort()).toEqual(['api', 'git', 'repo', 'tokens']);
    expect(started.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/v3$/);
    expect(started.git).toBe(`${started.api.replace(/\/api\/v3$/, '')}/mlcommons/registry.git`);
    expect(started.repo).toBe('mlcommons/registry');
    expect(Object.keys(started.tokens).sort()).toEqual(['alice', 'bob', 'github-actions[bot]', 'mlcommons']);
  });

  it('serves the folder as the repository main to the CLI, with each user in their role', async () => {
    const env = {
      GITHUB_API_URL: started.api,
      GITHUB_SERVER_URL: started.api.replace(/\/api\/v3$/, ''),
      MEDPERF_GIT_HOME: join(home, 'state'),
    };
    const ls = await runCli(['benchmark', 'ls', '--registry', started.repo], { env: { ...env, GITHUB_TOKEN: started.tokens.bob! }, cwd: home });
    expect(ls.err).toBe('');
    expect(ls.out).toContain('chestxray');
    const auth = await runCli(['auth', 'status', '--registry', started.repo, '--json'], { env: { ...env, GITHUB_TOKEN: started.tokens.alice! }, cwd: home });
    expect(JSON.parse(auth.out)).toMatchObject({ login: 'alice', permission: 'triage' });
  }, 120_000);

  it('stops on Ctrl-C and frees its port', async () => {
    const exited = once(child, 'exit');
    child.kill('SIGINT');
    const [code] = await exited;
    expect(code).toBe(0);
    await expect(fetch(started.api + '/user')).rejects.toThrow();
  });
});
