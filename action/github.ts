// The Action's side of GitHub: a pull request read as data through the REST API (its files, their
// bytes at the head commit, its reviews), the commit status, and the one comment. Nothing of the
// pull request is checked out or run: its files are bytes handed to the validator.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { getPull, type GitHub, pullFiles, upsertComment, type RepoRef as Repo, restClient } from '../registry/forge/github-rest.ts';
import { closeTree, gitTree, overlayTree } from '../registry/trees.ts';
import { isOutsideRegistry, registryPath } from '../registry/layout.ts';
import type { FileTree } from '../registry/view.ts';
import { COMMENT_MARKER } from './report.ts';

const execFileAsync = promisify(execFile);

export type { GitHub, RepoRef as Repo } from '../registry/forge/github-rest.ts';

/** The Action's client: the same retries as the CLI's, secondary rate limits (403 and 429) included. */
export function github(token: string, baseUrl: string): GitHub {
  return restClient({ token, baseUrl, userAgent: 'medperf-git-action' });
}

export interface Pull {
  number: number;
  author: string;
  headSha: string;
  baseRef: string;
  nodeId: string;
  state: string;
  /** Every file the PR changes, as GitHub counts them (the files list stops at 3,000). */
  changedFiles: number;
  /** Merged by an app's account (the gate's own merge, or auto-merge it enabled). */
  mergedByBot: boolean;
}

export async function readPull(gh: GitHub, repo: Repo, number: number): Promise<Pull> {
  const data = await getPull(gh, repo, number);
  return {
    number: data.number,
    author: data.user?.login ?? '',
    headSha: data.head.sha,
    baseRef: data.base.ref,
    nodeId: data.node_id,
    state: data.state,
    changedFiles: data.changed_files ?? Number.NaN,
    mergedByBot: Boolean(data.merged_at && (data.merged_by?.type === 'Bot' || data.merged_by?.login.endsWith('[bot]'))),
  };
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
  // The API names paths from the repository's top; the registry sees them from its own folder, and
  // the files around that folder as `../...`: changed, never read, and only an admin changes them.
  const files = (await pullFiles(gh, repo, { number: pull.number, changed_files: pull.changedFiles })).map((f) => ({ ...f, path: registryPath(f.path, remote.prefix) }));
  const sha = await fetchPullHead(remote, repo, pull);
  const prTree = gitTree(remote.repoDir, sha, { subdir: remote.prefix });
  const overlay = new Map<string, Buffer | null>();
  try {
    for (const f of files) if (!isOutsideRegistry(f.path)) overlay.set(f.path, f.deleted ? null : ((await prTree.read(f.path)) ?? null));
  } finally {
    await closeTree(prTree);
  }
  return { head: overlayTree(base, overlay), changed: [...new Set(files.map((f) => f.path))].sort() };
}

/** The Action's one comment on a PR: a bot's (anyone can paste the marker into a comment of their own). */
export function upsertReport(gh: GitHub, repo: Repo, number: number, body: string): Promise<{ id: number; created: boolean }> {
  return upsertComment(gh, repo, number, body, (c) => c.bot && c.body.startsWith(COMMENT_MARKER));
}
