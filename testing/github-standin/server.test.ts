import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
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

describe('GitHub stand-in: branch protection and merging', () => {
  const owner = { owner: 'org', repo: 'registry' };
  const APPROVAL = 'medperf-git/approval';
  let bot: string;
  let bob: string;

  beforeEach(() => {
    bot = standin.addUser('github-actions[bot]');
    bob = standin.addUser('bob');
    standin.setRole('org/registry', 'bob', 'write');
    // The workflow's token: the Actions app, with the write permissions the workflow grants.
    standin.setRole('org/registry', 'github-actions[bot]', 'write');
  });

  /** As the workflows would: the validate job's check run and the gate's status, both from the Actions app. */
  async function checksPass(sha: string): Promise<void> {
    await octokit(bot).rest.checks.create({ ...owner, name: 'validate', head_sha: sha, status: 'completed', conclusion: 'success' });
    await octokit(bot).rest.repos.createCommitStatus({ ...owner, sha, state: 'success', context: APPROVAL });
  }
  const merge = (auth: string, n: number, extra: { merge_method?: 'merge' | 'squash' | 'rebase' } = {}) =>
    octokit(auth).rest.pulls.merge({ ...owner, pull_number: n, ...extra }).then(
      (r) => r.data.message,
      (e: { status: number; message: string }) => `${e.status} ${e.message.replace(/ - https:.*$/, '')}`,
    );

  it('required checks pinned to the Actions app: a collaborator\'s own status does not count', async () => {
    standin.protect('org/registry', { checks: [{ context: 'validate', appId: 15368 }, { context: APPROVAL, appId: 15368 }], enforceAdmins: true });
    const n = await standin.openPull('org/registry', 'carol', 'change', [{ path: 'x.yaml', content: 'x: 1\n' }]);
    const sha = standin.pullsOf('org/registry')[0]!.headSha;
    expect(await merge(bob, n)).toBe('405 2 of 2 required status checks are expected.');
    // bob posts the gate's status himself, and cannot make a check run at all.
    await octokit(bob).rest.repos.createCommitStatus({ ...owner, sha, state: 'success', context: APPROVAL });
    await octokit(bob).rest.repos.createCommitStatus({ ...owner, sha, state: 'success', context: 'validate' });
    await expect(octokit(bob).rest.checks.create({ ...owner, name: 'validate', head_sha: sha, status: 'completed', conclusion: 'success' })).rejects.toMatchObject({ status: 403 });
    expect(await merge(bob, n)).toBe('405 2 of 2 required status checks are expected.');
    expect((await octokit(bob).rest.pulls.get({ ...owner, pull_number: n })).data.mergeable_state).toBe('blocked');
    await octokit(bot).rest.checks.create({ ...owner, name: 'validate', head_sha: sha, status: 'completed', conclusion: 'failure' });
    expect(await merge(bob, n)).toBe('405 2 of 2 required status checks have not succeeded.');
    await checksPass(sha);
    expect((await octokit(bob).rest.pulls.get({ ...owner, pull_number: n })).data.mergeable_state).toBe('clean');
    expect(await merge(bob, n)).toBe('Pull Request successfully merged');
    expect(standin.takeViolations()).toEqual([]);
  });

  it('administrators merge past a protection that does not enforce admins, not past one that does', async () => {
    const alice = token;
    for (const enforceAdmins of [false, true]) {
      standin.protect('org/registry', { checks: [{ context: APPROVAL, appId: 15368 }], enforceAdmins });
      const n = await standin.openPull('org/registry', 'carol', `admin-${enforceAdmins}`, [{ path: `${enforceAdmins}.yaml`, content: 'x: 1\n' }]);
      standin.setRole('org/registry', 'alice', 'admin');
      expect(await merge(alice, n)).toBe(enforceAdmins ? `405 Required status check "${APPROVAL}" is expected.` : 'Pull Request successfully merged');
    }
  });

  it('"require branches to be up to date": a PR behind main is refused until its branch is updated', async () => {
    standin.protect('org/registry', { strict: true, checks: [{ context: APPROVAL, appId: 15368 }], enforceAdmins: true });
    const n = await standin.openPull('org/registry', 'carol', 'change', [{ path: 'x.yaml', content: 'x: 1\n' }]);
    const before = standin.pullsOf('org/registry')[0]!.headSha;
    await checksPass(before);
    await standin.pushTo('org/registry', 'main', [{ path: 'other.yaml', content: 'o: 1\n' }], 'alice');
    expect((await octokit(bob).rest.pulls.get({ ...owner, pull_number: n })).data.mergeable_state).toBe('behind');
    expect(await merge(bob, n)).toBe('405 1 of 1 required status checks are expected.');
    // Only with the head it expects, and only by someone who may push to the head branch.
    await expect(octokit(bob).rest.pulls.updateBranch({ ...owner, pull_number: n, expected_head_sha: 'f'.repeat(40) })).rejects.toMatchObject({ status: 422 });
    const reader = standin.addUser('dave');
    await expect(octokit(reader).rest.pulls.updateBranch({ ...owner, pull_number: n })).rejects.toMatchObject({ status: 403 });
    const updated = await octokit(bob).rest.pulls.updateBranch({ ...owner, pull_number: n, expected_head_sha: before });
    expect(updated.status).toBe(202);
    const after = (await octokit(bob).rest.pulls.get({ ...owner, pull_number: n })).data;
    expect(after.head.sha).not.toBe(before);
    expect(after.mergeable_state).toBe('blocked');
    await expect(octokit(bob).rest.pulls.updateBranch({ ...owner, pull_number: n })).rejects.toMatchObject({ status: 422, message: expect.stringContaining('no new commits') });
    await checksPass(after.head.sha);
    expect(await merge(bob, n)).toBe('Pull Request successfully merged');
    expect(standin.takeViolations()).toEqual([]);
  });

  it('merges only with the methods the repository allows; squash and rebase leave no merge commit', async () => {
    standin.configureRepo('org/registry', { allowMergeCommit: false, allowRebaseMerge: false });
    const n = await standin.openPull('org/registry', 'carol', 'change', [{ path: 'x.yaml', content: 'x: 1\n' }]);
    expect((await octokit(bob).rest.repos.get(owner)).data).toMatchObject({ allow_merge_commit: false, allow_squash_merge: true, allow_rebase_merge: false });
    expect(await merge(bob, n)).toBe('405 Merge commits are not allowed on this repository.');
    expect(await merge(bob, n, { merge_method: 'rebase' })).toBe('405 Rebase merges are not allowed on this repository.');
    expect(await merge(bob, n, { merge_method: 'squash' })).toBe('Pull Request successfully merged');
    const parents = async () => (await run('git', ['rev-list', '--parents', '-n', '1', 'main'], { cwd: standin.repoDir('org/registry') })).stdout.trim().split(' ').length - 1;
    expect(await parents()).toBe(1);
    standin.configureRepo('org/registry', { allowSquashMerge: false, allowRebaseMerge: true });
    const m = await standin.openPull('org/registry', 'carol', 'second', [{ path: 'y.yaml', content: 'y: 1\n' }]);
    expect(await merge(bob, m, { merge_method: 'rebase' })).toBe('Pull Request successfully merged');
    expect(await parents()).toBe(1);
    const log = (await run('git', ['log', '--format=%an %s', '-n', '2', 'main'], { cwd: standin.repoDir('org/registry') })).stdout;
    expect(log).toContain('carol second');
    // At least one method stays allowed.
    await expect(octokit(token).rest.repos.update({ ...owner, allow_rebase_merge: false })).rejects.toMatchObject({ status: 403 });
    standin.setRole('org/registry', 'alice', 'admin');
    await expect(octokit(token).rest.repos.update({ ...owner, allow_rebase_merge: false })).rejects.toMatchObject({ status: 422 });
    expect(standin.takeViolations()).toEqual([]);
  });

  it('dismisses stale approvals on push when the protection says so, and only then', async () => {
    for (const dismissStale of [true, false]) {
      standin.protect('org/registry', { checks: [], reviews: { dismissStale, requiredApprovals: 0 } });
      const branch = `stale-${dismissStale}`;
      const n = await standin.openPull('org/registry', 'carol', branch, [{ path: `${branch}.yaml`, content: 'x: 1\n' }]);
      await octokit(bob).rest.pulls.createReview({ ...owner, pull_number: n, event: 'APPROVE' });
      await standin.pushTo('org/registry', branch, [{ path: `${branch}.yaml`, content: 'x: 2\n' }], 'carol');
      const { data } = await octokit(bob).rest.pulls.listReviews({ ...owner, pull_number: n });
      expect(data.map((r) => r.state)).toEqual([dismissStale ? 'DISMISSED' : 'APPROVED']);
    }
    expect(standin.takeViolations()).toEqual([]);
  });

  it('counts required approvals from reviewers with write access', async () => {
    standin.protect('org/registry', { checks: [], reviews: { dismissStale: true, requiredApprovals: 1 }, enforceAdmins: true });
    const n = await standin.openPull('org/registry', 'carol', 'change', [{ path: 'x.yaml', content: 'x: 1\n' }]);
    await octokit(standin.addUser('dave')).rest.pulls.createReview({ ...owner, pull_number: n, event: 'APPROVE' });
    expect(await merge(bob, n)).toBe('405 At least 1 approving review is required by reviewers with write access.');
    await octokit(bob).rest.pulls.createReview({ ...owner, pull_number: n, event: 'APPROVE' });
    expect(await merge(bob, n)).toBe('Pull Request successfully merged');
  });

  it('keeps reviews per repository: PR #1 of one repository is not PR #1 of another', async () => {
    await standin.createRepo('org/other', [{ path: 'a.yaml', content: 'a: 1\n' }], ['bob']);
    await standin.openPull('org/registry', 'carol', 'change', [{ path: 'x.yaml', content: 'x: 1\n' }]);
    await standin.openPull('org/other', 'carol', 'change', [{ path: 'x.yaml', content: 'x: 1\n' }]);
    await octokit(bob).rest.pulls.createReview({ ...owner, pull_number: 1, event: 'APPROVE' });
    expect((await octokit(bob).rest.pulls.listReviews({ ...owner, pull_number: 1 })).data).toHaveLength(1);
    expect((await octokit(bob).rest.pulls.listReviews({ owner: 'org', repo: 'other', pull_number: 1 })).data).toHaveLength(0);
  });

  it('branch protection, merge settings and Pages through the API, for admins only', async () => {
    const protection = {
      ...owner,
      branch: 'main',
      required_status_checks: { strict: true, contexts: [], checks: [{ context: APPROVAL, app_id: 15368 }] },
      enforce_admins: true,
      required_pull_request_reviews: { dismiss_stale_reviews: true, required_approving_review_count: 0 },
      restrictions: null,
    };
    await expect(octokit(bob).rest.repos.updateBranchProtection(protection)).rejects.toMatchObject({ status: 403 });
    await expect(octokit(token).rest.repos.getBranchProtection({ ...owner, branch: 'main' })).rejects.toMatchObject({ status: 403 });
    standin.setRole('org/registry', 'alice', 'admin');
    await expect(octokit(token).rest.repos.getBranchProtection({ ...owner, branch: 'main' })).rejects.toMatchObject({ status: 404, message: expect.stringContaining('Branch not protected') });
    await octokit(token).rest.repos.updateBranchProtection(protection);
    const { data } = await octokit(token).rest.repos.getBranchProtection({ ...owner, branch: 'main' });
    expect(data.required_status_checks).toMatchObject({ strict: true, checks: [{ context: APPROVAL, app_id: 15368 }] });
    expect(data.required_pull_request_reviews).toMatchObject({ dismiss_stale_reviews: true });
    expect(data.enforce_admins?.enabled).toBe(true);
    await expect(octokit(token).rest.repos.getPages(owner)).rejects.toMatchObject({ status: 404 });
    await octokit(token).rest.repos.createPagesSite({ ...owner, build_type: 'workflow' });
    expect((await octokit(token).rest.repos.getPages(owner)).data.build_type).toBe('workflow');
    await expect(octokit(token).rest.repos.createPagesSite({ ...owner, build_type: 'workflow' })).rejects.toMatchObject({ status: 409 });
    await octokit(token).rest.repos.updateInformationAboutPagesSite({ ...owner, build_type: 'legacy' });
    expect(standin.repoState('org/registry').pages?.buildType).toBe('legacy');
    expect(standin.takeViolations()).toEqual([]);
  });
});

describe('GitHub stand-in: GraphQL auto-merge and the workflows events start', () => {
  const owner = { owner: 'org', repo: 'registry' };
  const APPROVAL = 'medperf-git/approval';
  const MUTATION = 'mutation($id: ID!, $mergeMethod: PullRequestMergeMethod!) { enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $mergeMethod }) { clientMutationId } }';
  let bot: string;

  beforeEach(async () => {
    bot = standin.addUser('github-actions[bot]');
    standin.setRole('org/registry', 'github-actions[bot]', 'write');
    await standin.pushTo('org/registry', 'main', [{ path: '.github/workflows/pages.yml', content: 'on:\n  push:\n    branches: [main]\n  workflow_dispatch:\n' }], 'alice');
    standin.events.length = 0;
  });

  const enable = async (auth: string, n: number, method = 'MERGE') => {
    const { data } = await octokit(auth).rest.pulls.get({ ...owner, pull_number: n });
    return octokit(auth).graphql(MUTATION, { id: data.node_id, mergeMethod: method }).then(
      () => 'enabled',
      (e: { errors?: Array<{ type?: string; message: string }>; message: string }) => e.errors?.map((x) => `${x.type} ${x.message}`).join('; ') ?? e.message,
    );
  };

  it('checks every query against GitHub\'s schema', async () => {
    const gh = octokit(bot);
    await expect(gh.graphql('mutation { enablePullRequestAutoMerge(input: { pullRequestId: "x", mergeMethod: FASTFORWARD }) { clientMutationId } }')).rejects.toThrow(/FASTFORWARD/);
    await expect(gh.graphql('query { repository(owner: "org", name: "registry") { nonsense } }')).rejects.toThrow(/nonsense/);
    await expect(gh.graphql(MUTATION, { id: 'x' })).rejects.toThrow(/\$mergeMethod/);
    const violations = standin.takeViolations();
    expect(violations).toHaveLength(3);
    for (const v of violations) expect(v).toMatch(/^GraphQL/);
  });

  it('refuses auto-merge where the repository does not allow it, and on a PR that can merge now', async () => {
    standin.protect('org/registry', { checks: [{ context: APPROVAL, appId: 15368 }], enforceAdmins: true });
    const n = await standin.openPull('org/registry', 'carol', 'change', [{ path: 'x.yaml', content: 'x: 1\n' }]);
    expect(await enable(bot, n)).toBe('UNPROCESSABLE Pull request Auto merge is not allowed for this repository');
    standin.configureRepo('org/registry', { allowAutoMerge: true });
    expect(await enable(standin.addUser('dave'), n)).toMatch(/^FORBIDDEN /);
    await octokit(bot).rest.repos.createCommitStatus({ ...owner, sha: standin.pullsOf('org/registry')[0]!.headSha, state: 'success', context: APPROVAL });
    expect(await enable(bot, n)).toBe('UNPROCESSABLE Pull request Pull request is in clean status');
    expect(standin.takeViolations()).toEqual([]);
  });

  it('merges once the required checks pass; a merge made with the workflow token starts no workflow, a dispatch does', async () => {
    standin.configureRepo('org/registry', { allowAutoMerge: true });
    standin.protect('org/registry', { checks: [{ context: APPROVAL, appId: 15368 }], enforceAdmins: true });
    const n = await standin.openPull('org/registry', 'carol', 'change', [{ path: 'x.yaml', content: 'x: 1\n' }]);
    expect(await enable(bot, n)).toBe('enabled');
    expect(standin.pullsOf('org/registry')[0]!.state).toBe('open');
    await octokit(bot).rest.repos.createCommitStatus({ ...owner, sha: standin.pullsOf('org/registry')[0]!.headSha, state: 'success', context: APPROVAL });
    expect(standin.pullsOf('org/registry')[0]).toMatchObject({ state: 'closed', mergedBy: 'github-actions[bot]' });
    expect(await standin.workflowRuns('org/registry')).toEqual([]);
    await octokit(bot).rest.actions.createWorkflowDispatch({ ...owner, workflow_id: 'pages.yml', ref: 'main' });
    // A person's merge starts it through the push.
    const m = await standin.openPull('org/registry', 'carol', 'second', [{ path: 'y.yaml', content: 'y: 1\n' }]);
    await octokit(bot).rest.repos.createCommitStatus({ ...owner, sha: standin.pullsOf('org/registry')[1]!.headSha, state: 'success', context: APPROVAL });
    standin.setRole('org/registry', 'bob', 'write');
    await octokit(standin.addUser('bob')).rest.pulls.merge({ ...owner, pull_number: m });
    expect(await standin.workflowRuns('org/registry')).toEqual([
      { workflow: 'pages.yml', event: 'workflow_dispatch', actor: 'github-actions[bot]' },
      { workflow: 'pages.yml', event: 'push', actor: 'bob' },
    ]);
    expect(standin.takeViolations()).toEqual([]);
  });
});

describe('GitHub stand-in: reviews on a pull request from a fork', () => {
  const owner = { owner: 'org', repo: 'registry' };

  /** alice forks org/registry, pushes a branch to her fork and opens a PR from it. */
  async function forkPull(): Promise<{ number: number; push: (content: string) => Promise<void> }> {
    await octokit().rest.repos.createFork(owner);
    const dir = join(work, 'fork');
    const git = gitWith(token);
    await git(['clone', '--quiet', `${standin.url}/alice/registry.git`, dir]);
    const push = async (content: string) => {
      await writeFile(join(dir, 'x.yaml'), content);
      await git(['add', 'x.yaml'], dir);
      await git(['-c', 'user.name=alice', '-c', 'user.email=a@x', 'commit', '--quiet', '-m', content], dir);
      await git(['push', '--quiet', 'origin', 'HEAD:refs/heads/change'], dir);
    };
    await push('x: 1\n');
    const { data } = await octokit().rest.pulls.create({ ...owner, title: 'from a fork', head: 'alice:change', base: 'main' });
    return { number: data.number, push };
  }

  it('anyone may review; the author may not approve their own; each review names its commit and the reviewer\'s association', async () => {
    standin.protect('org/registry', { checks: [], reviews: { dismissStale: true, requiredApprovals: 0 } });
    const { number, push } = await forkPull();
    const head = (await octokit().rest.pulls.get({ ...owner, pull_number: number })).data.head;
    expect(head.repo?.full_name).toBe('alice/registry');
    await expect(octokit().rest.pulls.createReview({ ...owner, pull_number: number, event: 'APPROVE' })).rejects.toMatchObject({ status: 422 });
    // A committee member need not be a collaborator: a reader's review is accepted, as NONE.
    const dave = standin.addUser('dave');
    await octokit(dave).rest.pulls.createReview({ ...owner, pull_number: number, event: 'APPROVE' });
    const [review] = (await octokit(dave).rest.pulls.listReviews({ ...owner, pull_number: number })).data;
    expect(review).toMatchObject({ state: 'APPROVED', commit_id: head.sha, author_association: 'NONE', user: { login: 'dave' } });
    // A push to the fork's branch is a push to the PR: the approval is dismissed.
    await push('x: 2\n');
    const after = (await octokit(dave).rest.pulls.listReviews({ ...owner, pull_number: number })).data;
    expect(after.map((r) => [r.state, r.commit_id])).toEqual([['DISMISSED', head.sha]]);
    expect(standin.takeViolations()).toEqual([]);
  });

  it('a workflow run for a fork PR holds a read-only token: only the base repository\'s runs may write the status', async () => {
    standin.setRole('org/registry', 'github-actions[bot]', 'write');
    const { number } = await forkPull();
    const sha = (await octokit().rest.pulls.get({ ...owner, pull_number: number })).data.head.sha;
    const status = { ...owner, sha, state: 'success' as const, context: 'medperf-git/approval' };
    for (const event of ['pull_request', 'pull_request_review'] as const) {
      const readOnly = octokit(standin.workflowToken({ event, fromFork: true }));
      expect((await readOnly.rest.pulls.get({ ...owner, pull_number: number })).data.number).toBe(number);
      await expect(readOnly.rest.repos.createCommitStatus(status)).rejects.toMatchObject({ status: 404 });
    }
    for (const event of ['pull_request_target', 'workflow_run'] as const) {
      await octokit(standin.workflowToken({ event, fromFork: true })).rest.repos.createCommitStatus(status);
    }
    expect(standin.takeViolations()).toEqual([]);
  });
});
