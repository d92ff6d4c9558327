import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Octokit } from 'octokit';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitHubForge } from './github.ts';
import { GitHubStandIn } from '../../testing/github-standin/server.ts';
import { REGISTRY_YAML, benchmarkYaml } from '../../testing/forge.ts';

let standin: GitHubStandIn;
let state: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  standin = await GitHubStandIn.start();
  for (const login of ['admin', 'alice', 'bob']) tokens[login] = standin.addUser(login);
});
afterAll(async () => {
  await standin.stop();
});
beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-git-gh-state-'));
  await standin.deleteRepo('mlcommons/registry');
  for (const login of ['alice', 'bob']) await standin.deleteRepo(`${login}/registry`);
  await standin.createRepo('mlcommons/registry', [{ path: 'registry.yaml', content: REGISTRY_YAML }], ['admin']);
});
afterEach(async () => {
  standin.clearFaults();
  await rm(state, { recursive: true, force: true });
  expect(standin.takeViolations()).toEqual([]);
});

const open = (login: string, extra: Record<string, string> = {}) =>
  GitHubForge.open({
    owner: 'mlcommons',
    repo: 'registry',
    apiUrl: standin.apiUrl,
    serverUrl: standin.url,
    env: { GITHUB_TOKEN: tokens[login]!, ...extra },
    clonesDir: join(state, 'clones', login),
    retryUnitMs: 5,
    writeIntervalMs: 0,
  });

const text = async (tree: { read(p: string): Promise<Buffer | undefined> }, path: string) =>
  (await tree.read(path))?.toString('utf8');

describe('GitHub forge against the stand-in', () => {
  it('lists pull requests and their paths without a files request per PR, past the 3,000 files GitHub lists', async () => {
    const bulk = Array.from({ length: 3000 }, (_, i) => ({ path: `bulk/f${i}.yaml`, content: 'same: bytes\n' }));
    await standin.openPull('mlcommons/registry', 'bob', 'medperf/huge', [...bulk, { path: 'zz/benchmarks/b/benchmark.yaml', content: benchmarkYaml('b') }]);
    for (const n of ['a', 'b', 'c', 'd']) {
      await standin.openPull('mlcommons/registry', 'bob', `medperf/${n}`, [{ path: `benchmarks/${n}/benchmark.yaml`, content: benchmarkYaml(n) }]);
    }
    const admin = await open('admin');
    try {
      const before = standin.requests.length;
      const pulls = await admin.listPulls({ state: 'open', paths: ['zz/benchmarks/', 'benchmarks/c/'] });
      expect(pulls.map((p) => [p.number, p.paths.length])).toEqual([[1, 3001], [4, 1]]);
      const calls = standin.requests.slice(before).filter((r) => r.path.startsWith('/repos/'));
      expect(calls.filter((r) => r.path.endsWith('/files'))).toEqual([]);
      expect(calls.filter((r) => /\/pulls\/\d+$/.test(r.path))).toEqual([]);
      expect((await admin.getPull(1)).paths).toContain('zz/benchmarks/b/benchmark.yaml');
    } finally {
      await admin.dispose();
    }
  }, 120_000);

  it('proposes from a fork, updates the same PR, reviews and merges', async () => {
    const alice = await open('alice');
    const admin = await open('admin');
    try {
      expect(alice.login).toBe('alice');
      const first = await alice.propose({
        key: 'benchmark/brain',
        title: 'Add benchmark brain',
        body: 'compatibility test passed',
        files: [{ path: 'benchmarks/brain/benchmark.yaml', content: benchmarkYaml('brain') }],
      });
      expect(first).toMatchObject({ created: true, pushed: true, pull: { number: 1, state: 'open', author: 'alice', branch: 'medperf/benchmark/brain', paths: ['benchmarks/brain/benchmark.yaml'] } });
      // alice cannot push to the registry: the branch went to her fork, created on the way.
      expect(standin.pullsOf('mlcommons/registry')[0]!.headRepo).toBe('alice/registry');

      const same = await alice.propose({
        key: 'benchmark/brain',
        title: 'Add benchmark brain',
        body: 'compatibility test passed',
        files: [{ path: 'benchmarks/brain/benchmark.yaml', content: benchmarkYaml('brain') }],
      });
      expect(same).toMatchObject({ created: false, pushed: false, pull: { number: 1 } });
      const updated = await alice.propose({
        key: 'benchmark/brain',
        title: 'Add benchmark brain (fixed)',
        body: 'compatibility test passed',
        files: [{ path: 'benchmarks/brain/benchmark.yaml', content: benchmarkYaml('brain') + 'docs_url: https://x.org\n' }],
      });
      expect(updated).toMatchObject({ created: false, pushed: true, pull: { number: 1, title: 'Add benchmark brain (fixed)' } });
      expect(await alice.listPulls({ state: 'all' })).toHaveLength(1);
      expect(await text(await alice.pullTree(1), 'benchmarks/brain/benchmark.yaml')).toContain('docs_url');

      await expect(alice.review(1, 'APPROVE')).rejects.toThrow('GitHub refused the review of #1: Unprocessable Entity; Can not approve your own pull request');
      await admin.review(1, 'APPROVE', 'welcome');
      expect((await admin.reviews(1)).map((r) => [r.login, r.state, r.body])).toEqual([['admin', 'APPROVED', 'welcome']]);

      await admin.upsertComment(1, 'checks: 1 finding');
      await admin.upsertComment(1, 'checks: passed');
      expect((await admin.comments(1)).map((c) => c.body)).toEqual(['<!-- medperf-git -->\nchecks: passed']);

      const merged = await admin.merge(1);
      expect(merged.pull.state).toBe('merged');
      expect(await text(await alice.main(), 'benchmarks/brain/benchmark.yaml')).toContain('docs_url');
      expect((await alice.listPulls({ state: 'merged' })).map((p) => p.number)).toEqual([1]);
      expect(await alice.listPulls()).toEqual([]);

      const status = await admin.authStatus();
      expect(status).toEqual({ login: 'admin', source: 'GITHUB_TOKEN', permission: 'write', scopes: ['repo', 'read:org'] });
      expect((await alice.authStatus()).permission).toBe('read');
    } finally {
      await alice.dispose();
      await admin.dispose();
    }
  });

  it.each([
    [1, 2],
    [2, 1],
  ])('two PRs on different records merge cleanly in either order (%i then %i)', async (first, second) => {
    const alice = await open('alice');
    const bob = await open('bob');
    const admin = await open('admin');
    try {
      await alice.propose({ key: 'cube/alice/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
      await bob.propose({ key: 'cube/bob/b', title: 'b', body: '', files: [{ path: 'mlcubes/bob/b.yaml', content: 'name: b\n' }] });
      await admin.merge(first);
      await admin.merge(second);
      expect(await (await admin.main()).list('mlcubes/')).toEqual(['mlcubes/alice/a.yaml', 'mlcubes/bob/b.yaml']);
      expect((await admin.listPulls({ state: 'merged', paths: ['mlcubes/bob/'] })).map((p) => p.author)).toEqual(['bob']);
    } finally {
      await Promise.all([alice.dispose(), bob.dispose(), admin.dispose()]);
    }
  });

  it('a collaborator pushes to the registry itself; a closed PR is reported when the change is proposed again', async () => {
    const admin = await open('admin');
    try {
      await admin.propose({ key: 'registry', title: 'Retitle', body: '', files: [{ path: 'registry.yaml', content: REGISTRY_YAML.replace('Test', 'Our') }] });
      expect(standin.pullsOf('mlcommons/registry')[0]!.headRepo).toBe('mlcommons/registry');
      await admin.close(1);
      const again = await admin.propose({ key: 'registry', title: 'Retitle', body: '', files: [{ path: 'registry.yaml', content: REGISTRY_YAML.replace('Test', 'Our') }] });
      expect(again.pull.number).toBe(2);
      expect(again.notes).toEqual(['the previous pull request for this change, #1, was closed (rejected); this opens a new one']);
      await expect(admin.close(1)).rejects.toThrow('pull request #1 is already closed');
    } finally {
      await admin.dispose();
    }
  });

  it('merge says why GitHub refuses it: a required check not yet passed', async () => {
    const admin = await open('admin');
    try {
      standin.protect('mlcommons/registry', { checks: [{ context: 'medperf-git/gate', appId: null }], enforceAdmins: true });
      await admin.propose({ key: 'cube/admin/a', title: 'a', body: '', files: [{ path: 'mlcubes/admin/a.yaml', content: 'name: a\n' }] });
      await expect(admin.merge(1)).rejects.toThrow('merge PR #1 failed with 405: Required status check "medperf-git/gate" is expected.');
    } finally {
      standin.unprotect('mlcommons/registry');
      await admin.dispose();
    }
  });

  it('merges with a method the repository allows, and brings a branch behind main up to date instead of failing', async () => {
    standin.configureRepo('mlcommons/registry', { allowMergeCommit: false, allowRebaseMerge: false });
    standin.protect('mlcommons/registry', { strict: true, checks: [{ context: 'medperf-git/approval', appId: null }], enforceAdmins: true });
    const gh = new Octokit({ auth: tokens.admin, baseUrl: standin.apiUrl });
    const pass = (n: number) =>
      gh.rest.repos.createCommitStatus({ owner: 'mlcommons', repo: 'registry', sha: standin.pullsOf('mlcommons/registry')[n - 1]!.headSha, state: 'success', context: 'medperf-git/approval' });
    const admin = await open('admin');
    const alice = await open('alice');
    try {
      for (const name of ['a', 'b']) await admin.propose({ key: `cube/admin/${name}`, title: name, body: '', files: [{ path: `mlcubes/admin/${name}.yaml`, content: `name: ${name}\n` }] });
      await alice.propose({ key: 'cube/alice/c', title: 'c', body: '', files: [{ path: 'mlcubes/alice/c.yaml', content: 'name: c\n' }] });
      for (const n of [1, 2, 3]) await pass(n);
      // Merge commits are not allowed: the PR is squashed.
      await admin.merge(1);
      expect(execFileSync('git', ['rev-list', '--parents', '-n', '1', 'main'], { cwd: standin.repoDir('mlcommons/registry') }).toString().trim().split(' ')).toHaveLength(2);
      // #2 is now behind main: its branch is updated, and its checks must pass again on the new commit.
      const before = standin.pullsOf('mlcommons/registry')[1]!.headSha;
      await expect(admin.merge(2)).rejects.toThrow(
        'pull request #2 was behind main, which the registry requires up to date: its branch mlcommons/registry:medperf/cube/admin/b now has main merged in, a new commit whose checks run again (an approval of the earlier commit must be given again); merge it once they pass',
      );
      expect((await admin.getPull(2)).headSha).not.toBe(before);
      await expect(admin.merge(2)).rejects.toThrow('Required status check "medperf-git/approval" is expected.');
      await pass(2);
      expect((await admin.merge(2)).pull.state).toBe('merged');
      // #3 lives in alice's fork, where the admin may not push: the author must update it.
      await expect(admin.merge(3)).rejects.toThrow(
        'pull request #3 is behind main and the registry requires it up to date, but you may not push to its branch alice/registry:medperf/cube/alice/c; ask its author to update it',
      );
      expect((await admin.getPull(3)).state).toBe('open');
    } finally {
      standin.unprotect('mlcommons/registry');
      await admin.dispose();
      await alice.dispose();
    }
  });

  it('works on the branch the repository names as its default, not on main', async () => {
    await standin.deleteRepo('mlcommons/registry');
    await standin.createRepo('mlcommons/registry', [{ path: 'registry.yaml', content: REGISTRY_YAML }], ['admin'], { defaultBranch: 'trunk' });
    const admin = await open('admin');
    const alice = await open('alice');
    try {
      expect(await text(await alice.main(), 'registry.yaml')).toBe(REGISTRY_YAML);
      const { pull } = await alice.propose({ key: 'cube/alice/t', title: 't', body: '', files: [{ path: 'mlcubes/alice/t.yaml', content: 'name: t\n' }] });
      expect(standin.pullsOf('mlcommons/registry')[0]!.baseRef).toBe('trunk');
      expect((await admin.listPulls()).map((p) => p.number)).toEqual([pull.number]);
      await admin.merge(pull.number);
      expect(await text(await alice.main(), 'mlcubes/alice/t.yaml')).toBe('name: t\n');
      const heads = execFileSync('git', ['for-each-ref', '--format=%(refname:short)', 'refs/heads/'], { cwd: standin.repoDir('mlcommons/registry') }).toString().split('\n');
      expect(heads).toContain('trunk');
      expect(heads).not.toContain('main');
    } finally {
      await admin.dispose();
      await alice.dispose();
    }
  });

  it('waits for a fork GitHub makes asynchronously, and gives up on one that never appears in bounded time', async () => {
    standin.forkDelayMs = 10_000;
    const alice = await open('alice');
    try {
      const started = Date.now();
      const first = await alice.propose({ key: 'cube/alice/slow', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
      expect(Date.now() - started).toBeGreaterThanOrEqual(10_000);
      expect(first).toMatchObject({ created: true, pushed: true, pull: { author: 'alice', paths: ['mlcubes/alice/a.yaml'] } });
    } finally {
      await alice.dispose();
    }
    standin.forkDelayMs = Infinity;
    const bob = await GitHubForge.open({
      owner: 'mlcommons', repo: 'registry', apiUrl: standin.apiUrl, serverUrl: standin.url, env: { GITHUB_TOKEN: tokens.bob! },
      clonesDir: join(state, 'clones', 'bob'), retryUnitMs: 5, writeIntervalMs: 0, forkWaitMs: 1500,
    });
    try {
      const started = Date.now();
      await expect(bob.propose({ key: 'cube/bob/never', title: 'b', body: '', files: [{ path: 'mlcubes/bob/b.yaml', content: 'name: b\n' }] })).rejects.toThrow(
        'GitHub accepted the fork bob/registry but it has not appeared after 2 s; run the command again in a few minutes (nothing was pushed)',
      );
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(standin.pullsOf('mlcommons/registry').filter((p) => p.user === 'bob')).toEqual([]);
    } finally {
      standin.forkDelayMs = 0;
      await bob.dispose();
    }
  }, 120_000);

  it('a deleted fork is re-created and the change proposed anew, saying so', async () => {
    const alice = await open('alice');
    try {
      await alice.propose({ key: 'cube/alice/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
      await standin.deleteRepo('alice/registry');
      const again = await alice.propose({ key: 'cube/alice/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a2\n' }] });
      expect(again.created).toBe(true);
      expect(again.pull.number).toBe(2);
      expect(again.notes).toEqual(['the fork behind pull request #1 was deleted; opening a new pull request from a new fork (close #1)']);
    } finally {
      await alice.dispose();
    }
  });

  it('a push racing someone else\'s to the same branch is refused with a clear message, not forced', async () => {
    const alice = await open('alice');
    try {
      await alice.propose({ key: 'cube/alice/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
      let raced = '';
      standin.beforePush = async (fullName, dir) => {
        standin.beforePush = undefined;
        // Someone else pushes to the branch between alice's read and her push.
        const tip = execFileSync('git', ['rev-parse', 'refs/heads/medperf/cube/alice/a'], { cwd: dir }).toString().trim();
        raced = execFileSync('git', ['commit-tree', `${tip}^{tree}`, '-p', tip, '-m', 'someone else'], {
          cwd: dir,
          env: { ...process.env, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' },
        }).toString().trim();
        execFileSync('git', ['update-ref', 'refs/heads/medperf/cube/alice/a', raced], { cwd: dir });
        expect(fullName).toBe('alice/registry');
      };
      await expect(
        alice.propose({ key: 'cube/alice/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a2\n' }] }),
      ).rejects.toThrow(
        'alice/registry branch medperf/cube/alice/a changed while proposing (someone else pushed to it); run the command again to propose on top of it',
      );
      // Their commit is still there.
      const tip = execFileSync('git', ['rev-parse', 'refs/heads/medperf/cube/alice/a'], { cwd: standin.repoDir('alice/registry') }).toString().trim();
      expect(tip).toBe(raced);
    } finally {
      standin.beforePush = undefined;
      await alice.dispose();
    }
  });

  it('retries 5xx and secondary rate limits, then reports a failing API clearly', async () => {
    const alice = await open('alice');
    try {
      standin.inject({ path: /^\/repos\/mlcommons\/registry\/pulls$/, method: 'GET', kind: 'server-error', times: 2 });
      standin.inject({ path: /^\/repos\/mlcommons\/registry$/, method: 'GET', kind: 'secondary-rate-limit', retryAfter: 1, times: 1 });
      standin.inject({ path: /^\/repos\/mlcommons\/registry\/pulls$/, method: 'GET', kind: 'slow', delayMs: 50, times: 1 });
      const before = standin.requests.length;
      await alice.propose({ key: 'cube/alice/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
      const seen = standin.requests.slice(before).map((r) => `${r.method} ${r.path} ${r.status}`);
      expect(seen).toContain('GET /repos/mlcommons/registry 403');
      expect(seen.filter((s) => s === 'GET /repos/mlcommons/registry/pulls 502')).toHaveLength(2);

      standin.inject({ path: /^\/repos\/mlcommons\/registry\/pulls\/1$/, method: 'GET', kind: 'server-error', times: 10 });
      await expect(alice.getPull(1)).rejects.toThrow(
        'GitHub failed on get PR #1 of mlcommons/registry with 502 after retrying: Server Error; try again later',
      );
      standin.clearFaults();
      standin.inject({ path: /^\/repos\/mlcommons\/registry\/pulls\/1$/, method: 'GET', kind: 'secondary-rate-limit', times: 10 });
      await expect(alice.getPull(1)).rejects.toThrow("GitHub's rate limit stopped get PR #1 of mlcommons/registry after retrying");
    } finally {
      await alice.dispose();
    }
  });

  it('never writes or prints the token: not in the clone, its config, the state dir or errors', async () => {
    const alice = await open('alice');
    try {
      await alice.propose({ key: 'cube/alice/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
      standin.inject({ path: /^\/repos\/mlcommons\/registry\/pulls\/1$/, method: 'GET', kind: 'server-error', times: 10 });
      const error = await alice.getPull(1).catch((e: Error) => e);
      expect(String((error as Error).stack)).not.toContain(tokens.alice!);
      const leaks: string[] = [];
      const scan = async (dir: string): Promise<void> => {
        for (const entry of await readdir(dir, { withFileTypes: true })) {
          const p = join(dir, entry.name);
          if (entry.isDirectory()) await scan(p);
          else if (entry.isFile()) {
            const bytes = await readFile(p);
            if (bytes.includes(tokens.alice!) || bytes.includes(Buffer.from(`x-access-token:${tokens.alice}`).toString('base64'))) leaks.push(p);
          }
        }
      };
      await scan(state);
      expect(leaks).toEqual([]);
      const config = await readFile(join(state, 'clones', 'alice', new URL(standin.url).host, 'mlcommons', 'registry', '.git', 'config'), 'utf8');
      expect(config).not.toMatch(/extraheader|authorization/i);
    } finally {
      await alice.dispose();
    }
  });

  it('a partial clone of a large registry fetches only the blobs of the paths asked for', async () => {
    const files = [{ path: 'registry.yaml', content: REGISTRY_YAML }];
    for (let b = 0; b < 20; b++) {
      files.push({ path: `benchmarks/b${b}/benchmark.yaml`, content: benchmarkYaml(`b${b}`) });
      for (let r = 0; r < 25; r++) files.push({ path: `benchmarks/b${b}/results/d${r}/ds/m/model.yaml`, content: `metrics: {dice: 0.${b}${r}}\n` });
    }
    await standin.deleteRepo('mlcommons/registry');
    await standin.createRepo('mlcommons/registry', files, ['admin']);
    const alice = await open('alice');
    try {
      const tree = await alice.main({ paths: ['benchmarks/b7/'] });
      expect(await text(tree, 'benchmarks/b7/benchmark.yaml')).toBe(benchmarkYaml('b7'));
      const clone = join(state, 'clones', 'alice', new URL(standin.url).host, 'mlcommons', 'registry');
      const blobs = () =>
        execFileSync('git', ['cat-file', '--batch-all-objects', '--batch-check=%(objecttype)'], { cwd: clone })
          .toString()
          .split('\n')
          .filter((t) => t === 'blob').length;
      // registry.yaml plus benchmark b7's 26 files, of the 521 in the registry.
      expect(blobs()).toBe(27);
      // Everything is still listed (trees are complete) without fetching a blob, and readable on demand.
      expect(await tree.list('benchmarks/')).toHaveLength(520);
      expect(blobs()).toBe(27);
      expect(await text(tree, 'benchmarks/b3/results/d4/ds/m/model.yaml')).toBe('metrics: {dice: 0.34}\n');
      expect(blobs()).toBe(28);
    } finally {
      await alice.dispose();
    }
  });
});
