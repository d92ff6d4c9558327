// The Action's side of GitHub: a pull request read as data through the REST API (its files, their
// bytes at the head commit, its reviews), the commit status, and the one comment. Nothing of the
// pull request is checked out or run: its files are bytes handed to the validator.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { Octokit } from 'octokit';
import type { Review } from '../registry/forge/forge.ts';
import { closeTree, gitTree } from '../registry/trees.ts';
import type { FileTree } from '../registry/view.ts';
import { COMMENT_MARKER } from './report.ts';

const execFileAsync = promisify(execFile);

export type GitHub = InstanceType<typeof Octokit>;

export interface Repo {
  owner: string;
  repo: string;
}

export function github(token: string, baseUrl: string): GitHub {
  return new Octokit({
    auth: token,
    baseUrl,
    userAgent: 'medperf-git-action',
    throttle: {
      onRateLimit: (_after: number, _options: unknown, _octokit: unknown, retryCount: number) => retryCount < 2,
      onSecondaryRateLimit: () => false,
    },
  });
}

export interface Pull {
  number: number;
  author: string;
  headSha: string;
  baseRef: string;
  nodeId: string;
  state: string;
}

export async function readPull(gh: GitHub, repo: Repo, number: number): Promise<Pull> {
  const { data } = await gh.request('GET /repos/{owner}/{repo}/pulls/{pull_number}', { ...repo, pull_number: number });
  return {
    number: data.number,
    author: data.user?.login ?? '',
    headSha: data.head.sha,
    baseRef: data.base.ref,
    nodeId: data.node_id,
    state: data.state,
  };
}

/** The PR's files: each path it adds, modifies or deletes (a rename is both). */
export async function pullFiles(gh: GitHub, repo: Repo, number: number): Promise<Array<{ path: string; deleted: boolean }>> {
  const files = await gh.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/files', { ...repo, pull_number: number, per_page: 100 });
  const out: Array<{ path: string; deleted: boolean }> = [];
  for (const f of files) {
    out.push({ path: f.filename, deleted: f.status === 'removed' });
    if (f.previous_filename && f.previous_filename !== f.filename) out.push({ path: f.previous_filename, deleted: true });
  }
  return out;
}

/** Where the Action fetches a PR's commits from, and with what. */
export interface GitRemote {
  /** The base branch's checkout: the PR's objects are fetched into it, never checked out. */
  repoDir: string;
  /** The registry's folder in the repository ('' at the top, else ending in '/'). */
  prefix: string;
  /** https://github.com (GITHUB_SERVER_URL). */
  serverUrl: string;
  token: string;
}

/**
 * Fetches the PR's head commit (refs/pull/N/head, which GitHub keeps for forks too) into the
 * checkout's object database. Objects only: no checkout, no hooks, nothing of it runs. The token
 * goes through git's environment configuration, never the command line.
 */
export async function fetchPullHead(remote: GitRemote, repo: Repo, pull: Pull): Promise<string> {
  const url = `${remote.serverUrl.replace(/\/+$/, '')}/${repo.owner}/${repo.repo}.git`;
  const ref = `refs/medperf-git/pull/${pull.number}`;
  const auth = Buffer.from(`x-access-token:${remote.token}`).toString('base64');
  await execFileAsync('git', ['fetch', '--quiet', '--no-tags', '--no-recurse-submodules', '--depth=1', url, `+refs/pull/${pull.number}/head:${ref}`], {
    cwd: remote.repoDir,
    env: {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${url}.extraheader`,
      GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${auth}`,
    },
  });
  const { stdout } = await execFileAsync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: remote.repoDir });
  const sha = stdout.trim();
  if (sha !== pull.headSha) throw new Error(`pull request #${pull.number} moved on while it was read (${pull.headSha} -> ${sha}); the next run will check it`);
  return sha;
}

/**
 * The tree a PR would make: the base tree with the PR's changed files (the API's list) laid over
 * it, their bytes read from the PR's head commit as git objects.
 */
export async function pullTree(gh: GitHub, repo: Repo, pull: Pull, base: FileTree, remote: GitRemote): Promise<{ head: FileTree; changed: string[] }> {
  // The API names paths from the repository's top; the registry sees them from its own folder.
  const files = (await pullFiles(gh, repo, pull.number))
    .filter((f) => f.path.startsWith(remote.prefix))
    .map((f) => ({ ...f, path: f.path.slice(remote.prefix.length) }));
  const sha = await fetchPullHead(remote, repo, pull);
  const prTree = gitTree(remote.repoDir, sha, { subdir: remote.prefix });
  const overlay = new Map<string, Buffer | null>();
  try {
    for (const f of files) overlay.set(f.path, f.deleted ? null : ((await prTree.read(f.path)) ?? null));
  } finally {
    await closeTree(prTree);
  }
  return { head: overlayTree(base, overlay), changed: [...overlay.keys()].sort() };
}

/** A tree with some files replaced (bytes) or removed (null). */
export function overlayTree(base: FileTree, overlay: Map<string, Buffer | null>): FileTree {
  return {
    label: `${base.label} + pull request`,
    async list(prefix = '') {
      const paths = new Set(await base.list(prefix));
      for (const [path, bytes] of overlay) {
        if (!path.startsWith(prefix)) continue;
        if (bytes) paths.add(path);
        else paths.delete(path);
      }
      return [...paths].sort();
    },
    async read(path) {
      return overlay.has(path) ? (overlay.get(path) ?? undefined) : base.read(path);
    },
    async has(path) {
      return overlay.has(path) ? overlay.get(path) !== null : base.has(path);
    },
  };
}

export async function pullReviews(gh: GitHub, repo: Repo, number: number): Promise<Review[]> {
  const reviews = await gh.paginate('GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { ...repo, pull_number: number, per_page: 100 });
  return reviews
    .filter((r) => r.user && r.submitted_at && ['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED'].includes(r.state))
    .map((r) => ({ login: r.user!.login, state: r.state as Review['state'], submittedAt: r.submitted_at! }));
}

export async function setStatus(
  gh: GitHub,
  repo: Repo,
  sha: string,
  status: { state: 'success' | 'pending' | 'failure' | 'error'; context: string; description: string; targetUrl?: string },
): Promise<void> {
  await gh.request('POST /repos/{owner}/{repo}/statuses/{sha}', {
    ...repo,
    sha,
    state: status.state,
    context: status.context,
    description: status.description,
    ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
  });
}

/** Edits the Action's comment on the PR in place, or writes it the first time. Returns its id. */
export async function upsertComment(gh: GitHub, repo: Repo, number: number, body: string): Promise<{ id: number; created: boolean }> {
  const comments = await gh.paginate('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: number, per_page: 100 });
  // Only a bot's comment is ours to edit: anyone can paste the marker into a comment of their own.
  // Bot logins end in [bot], which no person's login can.
  const mine = comments.find((c) => (c.user?.type === 'Bot' || c.user?.login.endsWith('[bot]')) && c.body?.startsWith(COMMENT_MARKER));
  if (mine) {
    await gh.request('PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}', { ...repo, comment_id: mine.id, body });
    return { id: Number(mine.id), created: false };
  }
  const { data } = await gh.request('POST /repos/{owner}/{repo}/issues/{issue_number}/comments', { ...repo, issue_number: number, body });
  return { id: Number(data.id), created: true };
}

/** Asks GitHub to merge the PR once its required checks pass (GraphQL: REST has no such endpoint). */
export async function enableAutoMerge(gh: GitHub, pull: Pull): Promise<void> {
  await gh.graphql(
    `mutation($id: ID!) { enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: SQUASH }) { clientMutationId } }`,
    { id: pull.nodeId },
  );
}
