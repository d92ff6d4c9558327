import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../../testing/cli.ts';

let home: string;
let forgeRoot: string;

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'medperf-git-registry-use-'));
  forgeRoot = join(home, 'forge');
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

const run = (argv: string[], env: Record<string, string> = {}) => runCli(argv, { env: { MEDPERF_GIT_HOME: home, ...env }, cwd: home });

describe('registry use and auth status', () => {
  it('remembers the registry and local login in the profile; --registry and the environment override it', async () => {
    expect((await run(['registry', 'use'])).out).toBe(`Using the local registry at ${forgeRoot} (from the default).\n`);
    const other = join(home, 'tutorial');
    expect((await run(['registry', 'use', './tutorial', '--as', 'bob'])).out).toBe(
      `Using the local registry at ${other}.\nActing as bob on it.\n`,
    );
    expect((await run(['registry', 'use'])).out).toBe(`Using the local registry at ${other} (from profile).\nActing as bob on it.\n`);
    expect((await run(['auth', 'status'])).out).toBe(
      `Registry:   local registry at ${other}\nLogged in:  bob (profile)\nPermission: write\n`,
    );
    expect((await run(['auth', 'status', '--as', 'carol', '--registry', forgeRoot])).out).toBe(
      `Registry:   local registry at ${forgeRoot}\nLogged in:  carol (--as)\nPermission: write\n`,
    );
    expect((await run(['registry', 'use'], { MEDPERF_GIT_REGISTRY: 'mlcommons/registry' })).out).toBe(
      'Using the GitHub registry mlcommons/registry (from $MEDPERF_GIT_REGISTRY).\nActing as bob on it.\n'.replace('Acting as bob on it.\n', ''),
    );
    expect((await run(['registry', 'use', 'mlcommons/registry'])).out).toBe('Using the GitHub registry mlcommons/registry.\n');
    expect((await run(['registry', 'use', 'https://ghe.example.org/team/registry'])).out).toBe(
      'Using the GitHub registry team/registry on https://ghe.example.org.\n',
    );
  });

  it('refuses a login that is not one, and --as on GitHub', async () => {
    const bad = await run(['auth', 'status', '--as', 'Robert Tables']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('not a login: "Robert Tables" (from --as); logins are GitHub-style, like data-owner or alice');
    const github = await run(['auth', 'status', '--as', 'bob', '--registry', 'mlcommons/registry']);
    expect(github.code).toBe(1);
    expect(github.err).toContain('--as chooses who acts on a local registry; on GitHub (mlcommons/registry) you act as the user of your token');
  });
});
