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
