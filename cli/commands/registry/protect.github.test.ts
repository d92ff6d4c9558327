// `registry protect` against the GitHub stand-in: the whole protection through the API, once.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GITHUB_ACTIONS_APP_ID, GitHubStandIn } from '../../../testing/github-standin/server.ts';
import { REGISTRY_YAML } from '../../../testing/forge.ts';
import { runCliOnGitHub } from '../../../testing/cli.ts';

let standin: GitHubStandIn;
let home: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  standin = await GitHubStandIn.start();
  for (const login of ['owner-admin', 'writer']) tokens[login] = standin.addUser(login);
});
afterAll(async () => {
  await standin.stop();
});
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'medperf-git-protect-'));
  await standin.deleteRepo('mlcommons/registry');
  await standin.createRepo('mlcommons/registry', [{ path: 'registry.yaml', content: REGISTRY_YAML }], { 'owner-admin': 'admin', writer: 'write' });
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
  expect(standin.takeViolations()).toEqual([]);
});

const protect = (login: string, ...args: string[]) => runCliOnGitHub(['registry', 'protect', 'mlcommons/registry', ...args], { standin, home, token: tokens[login]! });

describe('registry protect', () => {
  it('applies the whole protection, saying what it changed, and changes nothing the second time', async () => {
    const first = await protect('owner-admin');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out.split('\n').filter(Boolean)).toEqual([
      'Changed on mlcommons/registry:',
      '  merge methods: merge commits (was merge commits, squash merges, rebase merges)',
      '  auto-merge: allowed (was not allowed)',
      '  main: protected (was not protected)',
      `  main: required checks validate (from app ${GITHUB_ACTIONS_APP_ID}), medperf-git/approval (from app ${GITHUB_ACTIONS_APP_ID}) (was none)`,
      '  main: pull requests must be up to date before merging (was not required)',
      '  main: administrators are held to the protection (was exempt)',
      '  main: approvals are dismissed when new commits are pushed (was kept)',
      '  Pages: built by GitHub Actions (was not enabled)',
    ]);
    const state = standin.repoState('mlcommons/registry');
    expect(state.settings).toMatchObject({ allowMergeCommit: true, allowSquashMerge: false, allowRebaseMerge: false, allowAutoMerge: true });
    expect(state.protection.get('main')).toEqual({
      strict: true,
      checks: [
        { context: 'validate', appId: GITHUB_ACTIONS_APP_ID },
        { context: 'medperf-git/approval', appId: GITHUB_ACTIONS_APP_ID },
      ],
      enforceAdmins: true,
      reviews: { dismissStale: true, requiredApprovals: 0 },
    });
    expect(state.pages?.buildType).toBe('workflow');

    const requests = standin.requests.length;
    const second = await protect('owner-admin');
    expect(second.out).toBe('mlcommons/registry is already protected as a registry needs; nothing changed.\n');
    expect(standin.requests.slice(requests).filter((r) => r.method !== 'GET')).toEqual([]);
  });

  it('repairs only what drifted: a check no longer pinned to the app', async () => {
    await protect('owner-admin');
    standin.protect('mlcommons/registry', {
      strict: true,
      checks: [{ context: 'validate', appId: GITHUB_ACTIONS_APP_ID }, { context: 'medperf-git/approval', appId: null }],
      enforceAdmins: true,
      reviews: { dismissStale: true, requiredApprovals: 0 },
    });
    const json = JSON.parse((await protect('owner-admin', '--json')).out) as { changed: string[] };
    expect(json.changed).toEqual([
      `main: required checks validate (from app ${GITHUB_ACTIONS_APP_ID}), medperf-git/approval (from app ${GITHUB_ACTIONS_APP_ID}) (was validate (from app ${GITHUB_ACTIONS_APP_ID}), medperf-git/approval (from any source))`,
    ]);
    expect(standin.repoState('mlcommons/registry').protection.get('main')!.checks[1]).toEqual({ context: 'medperf-git/approval', appId: GITHUB_ACTIONS_APP_ID });
  });

  it('takes another app id (GitHub Enterprise Server), and refuses a collaborator who is not an admin', async () => {
    const other = await protect('owner-admin', '--app-id', '2');
    expect(other.out).toContain('validate (from app 2), medperf-git/approval (from app 2)');
    for (const bad of ['0', 'x', '1.5']) expect((await protect('owner-admin', '--app-id', bad)).code).not.toBe(0);
    const writer = await protect('writer');
    expect(writer.code).not.toBe(0);
    expect(writer.err).toContain('writer is not an admin of mlcommons/registry; only an admin can change its branch protection, merge settings and Pages');
  });
});
