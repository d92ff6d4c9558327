import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Octokit } from 'octokit';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubStandIn } from './server.ts';

const run = promisify(execFile);
let standin: GitHubStandIn;
let work: string;
let token: string;

beforeEach(async () => {
  standin = await GitHubStandIn.start();
  token = standin.addUser('alice');
  standin.addUser('bob');
  await standin.createRepo('org/registry', [{ path: 'registry.yaml', content: 'title: x\nadmins: [alice]\n' }]);
  work = await mkdtemp(join(tmpdir(), 'medperf-git-standin-test-'));
});
afterEach(async () => {
  await standin.stop();
  await rm(work, { recursive: true, force: true });
});

const octokit = (auth = token) => new Octokit({ auth, baseUrl: standin.apiUrl, retry: { enabled: false }, throttle: { enabled: false } });

function gitWith(auth: string | undefined) {
  const env = {
    ...process.env,
    GIT_TERMINAL_PROMPT: '0',
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    ...(auth
      ? { GIT_CONFIG_COUNT: '1', GIT_CONFIG_KEY_0: 'http.extraHeader', GIT_CONFIG_VALUE_0: `Authorization: Basic ${Buffer.from(`x-access-token:${auth}`).toString('base64')}` }
      : {}),
  };
  return (args: string[], cwd = work) => run('git', args, { cwd, env });
}

describe('GitHub stand-in', () => {
  it('answers documented calls in the documented shape', async () => {
    const { data } = await octokit().rest.repos.get({ owner: 'org', repo: 'registry' });
    expect(data).toMatchObject({ full_name: 'org/registry', default_branch: 'main', permissions: { push: false, pull: true } });
    const ref = await octokit().rest.git.getRef({ owner: 'org', repo: 'registry', ref: 'heads/main' });
    expect(ref.data.object.sha).toBe(
      (await run('git', ['rev-parse', 'refs/heads/main'], { cwd: standin.repoDir('org/registry') })).stdout.trim(),
    );
    expect(standin.takeViolations()).toEqual([]);
  });

  it('records, and refuses, a call the real API would reject', async () => {
    const gh = octokit();
    // @ts-expect-error: octokit's own types reject it too
    await expect(gh.request('POST /repos/{owner}/{repo}/pulls', { owner: 'org', repo: 'registry', head: 'x', base: 'main', draft: 'yes' })).rejects.toMatchObject({ status: 400 });
    // @ts-expect-error: octokit's own types reject it too
    await expect(gh.request('GET /repos/{owner}/{repo}/pulls', { owner: 'org', repo: 'registry', state: 'pending' })).rejects.toMatchObject({ status: 400 });
    await expect(gh.request('GET /repos/{owner}/{repo}/pulls', { owner: 'org', repo: 'registry', sort_by: 'created' })).rejects.toMatchObject({ status: 400 });
    await expect(gh.request('POST /repos/{owner}/{repo}/teleport', { owner: 'org', repo: 'registry' })).rejects.toMatchObject({ status: 400 });
    expect(standin.takeViolations()).toEqual([
      'POST /repos/{owner}/{repo}/pulls: request body /draft must be boolean',
      'GET /repos/{owner}/{repo}/pulls: query state=pending: / must be equal to one of the allowed values',
      'GET /repos/{owner}/{repo}/pulls: unknown query parameter sort_by',
      'POST /repos/org/registry/teleport: no such operation in GitHub\'s REST API',
    ]);
  });

  it('serves git over smart HTTP with token auth; only collaborators push', async () => {
    const url = `${standin.url}/org/registry.git`;
    await expect(gitWith(undefined)(['clone', '--quiet', url, 'anon'])).rejects.toThrow();
    await gitWith(token)(['clone', '--quiet', '--filter=blob:none', url, 'clone']);
    expect(existsSync(join(work, 'clone', 'registry.yaml'))).toBe(true);
    const carolToken = standin.addUser('carol');
    const carol = gitWith(carolToken);
    await carol(['-c', 'user.name=carol', '-c', 'user.email=c@x', 'commit', '--quiet', '--allow-empty', '-m', 'x'], join(work, 'clone'));
    await expect(carol(['push', '--quiet', url, 'HEAD:refs/heads/carol'], join(work, 'clone'))).rejects.toThrow(/403/);
  });

  it('injects faults: 5xx, secondary rate limit with retry-after, 404', async () => {
    standin.inject({ path: /^\/user$/, kind: 'server-error' });
    standin.inject({ path: /^\/user$/, kind: 'secondary-rate-limit', retryAfter: 7 });
    standin.inject({ path: /^\/user$/, kind: 'not-found' });
    const gh = octokit();
    await expect(gh.rest.users.getAuthenticated()).rejects.toMatchObject({ status: 502 });
    const limited = await gh.rest.users.getAuthenticated().catch((e) => e);
    expect(limited).toMatchObject({ status: 403, response: { headers: { 'retry-after': '7' } } });
    expect(limited.message).toMatch(/secondary rate limit/);
    await expect(gh.rest.users.getAuthenticated()).rejects.toMatchObject({ status: 404 });
    expect((await gh.rest.users.getAuthenticated()).data.login).toBe('alice');
  });

  it('stops cleanly: the port is closed and its repositories are gone', async () => {
    const url = standin.url;
    const dir = standin.repoDir('org/registry');
    await standin.stop();
    expect(existsSync(dir)).toBe(false);
    await expect(fetch(url + '/api/v3/user')).rejects.toThrow();
    standin = await GitHubStandIn.start();
  });
});

describe('GitHub stand-in: repository roles', () => {
  it('answers as GitHub does for read, triage, write, maintain and admin', async () => {
    const tokens: Record<string, string> = {};
    for (const role of ['read', 'triage', 'write', 'maintain'] as const) {
      tokens[role] = standin.addUser(`u-${role}`);
      standin.setRole('org/registry', `u-${role}`, role);
    }
    const owner = { owner: 'org', repo: 'registry' };
    const n = await standin.openPull('org/registry', 'bob', 'change', [{ path: 'x.yaml', content: 'x: 1\n' }]);
    const sha = standin.pullsOf('org/registry')[0]!.headSha;
    // Permissions as the repository reports them to each user.
    for (const [role, push, triage] of [['read', false, false], ['triage', false, true], ['write', true, true], ['maintain', true, true]] as const) {
      const { data } = await octokit(tokens[role]).rest.repos.get(owner);
      expect([role, data.permissions?.push, data.permissions?.triage]).toEqual([role, push, triage]);
    }
    // A commit status needs write (push access); a merge needs write.
    await expect(octokit(tokens.triage).rest.repos.createCommitStatus({ ...owner, sha, state: 'success', context: 'c' })).rejects.toMatchObject({ status: 404 });
    await octokit(tokens.write).rest.repos.createCommitStatus({ ...owner, sha, state: 'success', context: 'c' });
    await expect(octokit(tokens.triage).rest.pulls.merge({ ...owner, pull_number: n })).rejects.toMatchObject({ status: 403 });
    // Closing someone else's PR needs triage; editing its title needs write.
    await expect(octokit(tokens.read).rest.pulls.update({ ...owner, pull_number: n, state: 'closed' })).rejects.toMatchObject({ status: 403 });
    await expect(octokit(tokens.triage).rest.pulls.update({ ...owner, pull_number: n, title: 'renamed' })).rejects.toMatchObject({ status: 403 });
    const closed = await octokit(tokens.triage).rest.pulls.update({ ...owner, pull_number: n, state: 'closed' });
    expect(closed.data.state).toBe('closed');
    // Pushing needs write, on git's side too.
    for (const [role, ok] of [['triage', false], ['write', true]] as const) {
      const git = gitWith(tokens[role]);
      const dir = join(work, role);
      await git(['clone', '--quiet', `${standin.url}/org/registry.git`, dir]);
      await git(['-c', 'user.name=x', '-c', 'user.email=x@x', 'commit', '--quiet', '--allow-empty', '-m', role], dir);
      const push = git(['push', '--quiet', 'origin', `HEAD:refs/heads/${role}`], dir);
      if (ok) await push;
      else await expect(push).rejects.toThrow(/403|denied/);
    }
    expect(standin.takeViolations()).toEqual([]);
  });
});
