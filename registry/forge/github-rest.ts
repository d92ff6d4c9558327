// GitHub's REST API as both the GitHub forge (registry/forge/github.ts) and the Action
// (action/github.ts) call it: one client (octokit with retries and throttling, secondary rate
// limits retried in both their forms), and the reads and writes both need on a pull request: the
// pull request, its files, its reviews, its comments, a commit status, auto-merge.
import Bottleneck from 'bottleneck';
import { Octokit } from 'octokit';
import { MedperfError, NotFoundError } from '../errors.ts';
import { AuthError, ForgeApiError } from './errors.ts';
import type { Review } from './forge.ts';

export type GitHub = InstanceType<typeof Octokit>;

export interface RepoRef {
  owner: string;
  repo: string;
}

export interface ClientOptions {
  token: string;
  /** REST base URL (https://api.github.com, https://HOST/api/v3). */
  baseUrl: string;
  userAgent: string;
  /** How many times a failing request is retried (default 3). */
  retries?: number;
  /** Retry timing in ms per second of back-off GitHub asks for (tests shorten it). */
  retryUnitMs?: number;
  /** Least time between two writes (GitHub asks for 1 s, 3 s for those that notify; tests shorten it). */
  writeIntervalMs?: number;
}

/**
 * The client. Server errors are retried with back-off (plugin-retry); the primary rate limit and
 * secondary rate limits are waited out as GitHub's `retry-after` / `x-ratelimit-reset` ask.
 * "If you exceed a secondary rate limit, you will receive a 403 or 429 response and an error
 * message that indicates that you exceeded a secondary rate limit"
 * (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api): the throttling
 * plugin reads both statuses.
 */
export function restClient(options: ClientOptions): GitHub {
  const unit = options.retryUnitMs ?? 1000;
  const retries = options.retries ?? 3;
  return new Octokit({
    auth: options.token,
    baseUrl: options.baseUrl,
    userAgent: options.userAgent,
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    retry: { retries, retryAfterBaseValue: unit },
    throttle: {
      retryAfterBaseValue: unit,
      fallbackSecondaryRateRetryAfter: 60,
      ...(options.writeIntervalMs !== undefined
        ? {
            write: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeIntervalMs }),
            notifications: new Bottleneck.Group({ maxConcurrent: 1, minTime: options.writeIntervalMs }),
          }
        : {}),
      onRateLimit: (_after: number, _o: unknown, _k: unknown, count: number) => count < retries,
      onSecondaryRateLimit: (_after: number, _o: unknown, _k: unknown, count: number) => count < retries,
    },
  });
}

/** A failed call (after the client's retries) as a message a user can act on; `secret` is blanked. */
export function apiFailure(what: string, error: unknown, secret: string, apiUrl: string): MedperfError {
  if (error instanceof MedperfError) return error;
  const e = error as { status?: number; response?: { data?: { message?: string } }; message?: string };
  const status = e.status;
  const message = (e.response?.data?.message ?? e.message ?? String(error)).split(secret).join('***');
  if (status === 401) return new AuthError(`GitHub refused the token (${what}: 401 ${message}); check GITHUB_TOKEN / GH_TOKEN`);
  if ((status === 403 || status === 429) && /rate limit/i.test(message)) {
    return new ForgeApiError(`GitHub's rate limit stopped ${what} after retrying: ${message}; wait a few minutes and run the command again`, status);
  }
  if (status && status >= 500) return new ForgeApiError(`GitHub failed on ${what} with ${status} after retrying: ${message}; try again later`, status);
  if (status === 404) return new NotFoundError(`${what}: not found on ${apiUrl} (404 ${message})`);
  return new ForgeApiError(`${what} failed${status ? ` with ${status}` : ''}: ${message}`, status);
}

/** A pull request as the REST API returns it (the fields read here). */
export interface ApiPull {
  number: number;
  node_id: string;
  title: string;
  body: string | null;
  state: 'open' | 'closed';
  merged_at: string | null;
  closed_at: string | null;
  created_at: string;
  updated_at: string;
  html_url: string;
  user: { login: string } | null;
  head: { ref: string; sha: string; repo: { full_name: string; owner: { login: string } } | null };
  base: { ref: string; sha: string };
  /** Only on a single pull request: every file it changes, however many the files list shows. */
  changed_files?: number;
  mergeable?: boolean | null;
  mergeable_state?: string;
}

export async function getPull(gh: GitHub, repo: RepoRef, number: number): Promise<ApiPull> {
  const { data } = await gh.rest.pulls.get({ ...repo, pull_number: number });
  return data as unknown as ApiPull;
}

/** Open (or all) pull requests into `base`, every page. */
export async function listPulls(gh: GitHub, repo: RepoRef, query: { state: 'open' | 'closed' | 'all'; base?: string; head?: string }): Promise<ApiPull[]> {
  return (await gh.paginate(gh.rest.pulls.list, { ...repo, ...query, per_page: 100 })) as unknown as ApiPull[];
}

/**
 * "Responses include a maximum of 3000 files" (docs.github.com/en/rest/pulls/pulls#list-pull-
 * requests-files): beyond that the list is silently short. The caller who decides on the list
 * gets an error instead of a partial view.
 */
export const PULL_FILES_LIMIT = 3000;

export class PartialPullError extends MedperfError {
  constructor(message: string) {
    super('pull-too-large', message);
  }
}

/**
 * The PR's files, each path it adds, modifies or deletes (a rename is both). Fails when GitHub
 * lists fewer files than the PR changes (`changed_files`), which it does past 3,000.
 */
export async function pullFiles(gh: GitHub, repo: RepoRef, pull: { number: number; changed_files?: number }): Promise<Array<{ path: string; deleted: boolean }>> {
  const files = await gh.paginate(gh.rest.pulls.listFiles, { ...repo, pull_number: pull.number, per_page: 100 });
  const expected = pull.changed_files ?? (await getPull(gh, repo, pull.number)).changed_files;
  if (expected === undefined || files.length < expected) {
    throw new PartialPullError(
      `pull request #${pull.number} changes ${expected ?? 'an unknown number of'} files and GitHub lists ${files.length} (at most ${PULL_FILES_LIMIT}); split it into smaller pull requests`,
    );
  }
  const out: Array<{ path: string; deleted: boolean }> = [];
  for (const f of files) {
    out.push({ path: f.filename, deleted: f.status === 'removed' });
    if (f.previous_filename && f.previous_filename !== f.filename) out.push({ path: f.previous_filename, deleted: true });
  }
  return out;
}

/** The PR's submitted reviews, each with the commit it was made on. */
export async function pullReviews(gh: GitHub, repo: RepoRef, number: number): Promise<Review[]> {
  const reviews = await gh.paginate(gh.rest.pulls.listReviews, { ...repo, pull_number: number, per_page: 100 });
  return reviews
    .filter((r) => r.user && r.submitted_at && ['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED'].includes(r.state))
    .map((r) => ({
      login: r.user!.login,
      state: r.state as Review['state'],
      submittedAt: r.submitted_at!,
      ...(r.commit_id ? { commitId: r.commit_id } : {}),
      ...(r.body ? { body: r.body } : {}),
    }));
}

export interface ApiComment {
  id: number;
  author: string;
  /** A GitHub App's or Actions' account (type Bot, login ending in [bot], which no person's can). */
  bot: boolean;
  body: string;
}

export async function listComments(gh: GitHub, repo: RepoRef, number: number): Promise<ApiComment[]> {
  const comments = await gh.paginate(gh.rest.issues.listComments, { ...repo, issue_number: number, per_page: 100 });
  return comments.map((c) => ({
    id: c.id,
    author: c.user?.login ?? 'ghost',
    bot: c.user?.type === 'Bot' || Boolean(c.user?.login.endsWith('[bot]')),
    body: c.body ?? '',
  }));
}

/** Edits the first comment `mine` picks, or writes a new one. */
export async function upsertComment(
  gh: GitHub,
  repo: RepoRef,
  number: number,
  body: string,
  mine: (c: ApiComment) => boolean,
): Promise<{ id: number; created: boolean }> {
  const existing = (await listComments(gh, repo, number)).find(mine);
  if (existing) {
    await gh.rest.issues.updateComment({ ...repo, comment_id: existing.id, body });
    return { id: existing.id, created: false };
  }
  const { data } = await gh.rest.issues.createComment({ ...repo, issue_number: number, body });
  return { id: Number(data.id), created: true };
}

export interface CommitStatus {
  state: 'success' | 'pending' | 'failure' | 'error';
  context: string;
  description: string;
  targetUrl?: string;
}

export async function setStatus(gh: GitHub, repo: RepoRef, sha: string, status: CommitStatus): Promise<void> {
  await gh.rest.repos.createCommitStatus({
    ...repo,
    sha,
    state: status.state,
    context: status.context,
    description: status.description,
    ...(status.targetUrl ? { target_url: status.targetUrl } : {}),
  });
}

/** Asks GitHub to merge the PR once its required checks pass (GraphQL: REST has no such endpoint). */
export async function enableAutoMerge(gh: GitHub, pull: { node_id: string }, method: 'MERGE' | 'SQUASH' | 'REBASE' = 'SQUASH'): Promise<void> {
  await gh.graphql(
    `mutation($id: ID!, $method: PullRequestMergeMethod!) { enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $method }) { clientMutationId } }`,
    { id: pull.node_id, method },
  );
}
