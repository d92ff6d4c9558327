// GitHub's REST API as both the GitHub forge (registry/forge/github.ts) and the Action
// (action/github.ts) call it: one client (octokit with retries and throttling, secondary rate
// limits retried in both their forms), and the reads and writes both need on a pull request: the
// pull request, its files, its reviews, its comments, a commit status, auto-merge.
import Bottleneck from 'bottleneck';
import { Octokit } from 'octokit';
import { MedperfError, NotFoundError } from '../errors.ts';
import { AuthError, ForgeApiError } from './errors.ts';
import type { ProtectionChange, RepositoryProtection } from '../protection.ts';
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
  merged_by?: { login: string; type?: string } | null;
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

export type MergeMethod = 'merge' | 'squash' | 'rebase';

/** The merge settings of a repository, as GET /repos/{owner}/{repo} shows them to those who may push. */
export interface MergeSettings {
  allow_merge_commit?: boolean;
  allow_squash_merge?: boolean;
  allow_rebase_merge?: boolean;
  allow_auto_merge?: boolean;
}

/**
 * The merge methods to try, in order: those the repository allows, a merge commit first (it keeps
 * the commit that was reviewed; the leaderboard's history reads main's first parents either way).
 * When the settings are not shown, all three, each refusal ("Merge commits are not allowed on this
 * repository") moving on to the next.
 */
export function mergeMethods(settings: MergeSettings): MergeMethod[] {
  const known = [settings.allow_merge_commit, settings.allow_squash_merge, settings.allow_rebase_merge].some((v) => v !== undefined);
  if (!known) return ['merge', 'squash', 'rebase'];
  return (
    [
      ['merge', settings.allow_merge_commit],
      ['squash', settings.allow_squash_merge],
      ['rebase', settings.allow_rebase_merge],
    ] as const
  )
    .filter(([, allowed]) => allowed)
    .map(([method]) => method);
}

/** A merge that waits: the branch was behind and was updated, or cannot be updated by this login. */
export class BranchBehindError extends MedperfError {
  constructor(code: 'branch-updated' | 'branch-behind', message: string) {
    super(code, message);
  }
}

/** Where a PR's branch lives, as a person reads it. */
function headOf(pull: ApiPull): string {
  return pull.head.repo ? `${pull.head.repo.full_name}:${pull.head.ref}` : pull.head.ref;
}

/**
 * Brings a PR that is behind its base branch up to date ("update-branch": GitHub merges the base
 * into the PR's branch, docs.github.com/en/rest/pulls/pulls#update-a-pull-request-branch). GitHub
 * answers 202 and updates the branch asynchronously. A login that may not push there, a conflict,
 * or a head that moved meanwhile is a BranchBehindError saying who can update it.
 */
export async function updatePullBranch(gh: GitHub, repo: RepoRef, pull: ApiPull): Promise<void> {
  const base = pull.base.ref;
  const where = headOf(pull);
  try {
    await gh.rest.pulls.updateBranch({ ...repo, pull_number: pull.number, expected_head_sha: pull.head.sha });
  } catch (error) {
    const e = error as { status?: number; response?: { data?: { message?: string } } };
    const message = e.response?.data?.message ?? '';
    if (e.status === 403 || e.status === 404) {
      throw new BranchBehindError(
        'branch-behind',
        `pull request #${pull.number} is behind ${base} and the registry requires it up to date, but you may not push to its branch ${where}; ask its author to update it (merge ${base} into it, or "Update branch" on GitHub), then run the command again`,
      );
    }
    if (e.status === 422 && /conflict/i.test(message)) {
      throw new BranchBehindError('branch-behind', `pull request #${pull.number} is behind ${base} and conflicts with it; its author must merge ${base} into ${where} and resolve the conflicts`);
    }
    if (e.status === 422 && /expected head sha/i.test(message)) {
      throw new BranchBehindError('branch-behind', `pull request #${pull.number} moved on while it was being merged; run the command again`);
    }
    throw error;
  }
}

/**
 * Updates a PR that is behind (updatePullBranch), then says what happens next: always throws,
 * since the new head commit needs its checks, and any approval, again before it can merge.
 */
async function updateBehind(gh: GitHub, repo: RepoRef, pull: ApiPull): Promise<never> {
  const base = pull.base.ref;
  const where = headOf(pull);
  await updatePullBranch(gh, repo, pull);
  throw new BranchBehindError(
    'branch-updated',
    `pull request #${pull.number} was behind ${base}, which the registry requires up to date: its branch ${where} now has ${base} merged in, a new commit whose checks run again (an approval of the earlier commit must be given again); merge it once they pass`,
  );
}

/**
 * Merges an open PR at the head it was read at, with a method the repository allows. A PR behind
 * its base branch under "require branches to be up to date" is updated instead (see updateBehind).
 */
export async function mergePull(gh: GitHub, repo: RepoRef, pull: ApiPull, settings: MergeSettings): Promise<{ sha: string; method: MergeMethod }> {
  if (pull.mergeable_state === 'behind') await updateBehind(gh, repo, pull);
  const methods = mergeMethods(settings);
  const refused: string[] = [];
  for (const method of methods) {
    try {
      const { data } = await gh.rest.pulls.merge({ ...repo, pull_number: pull.number, sha: pull.head.sha, merge_method: method });
      return { sha: data.sha, method };
    } catch (error) {
      const e = error as { status?: number; response?: { data?: { message?: string } } };
      const message = e.response?.data?.message ?? '';
      if (e.status === 405 && /are not allowed on this repository/i.test(message)) {
        refused.push(message);
        continue;
      }
      // GitHub may not have computed the merge state yet: a refusal while behind is the same case.
      if (e.status === 405 && /required status checks? .*expected/i.test(message)) {
        const fresh = await getPull(gh, repo, pull.number);
        if (fresh.mergeable_state === 'behind' && fresh.head.sha === pull.head.sha) await updateBehind(gh, repo, fresh);
      }
      throw error;
    }
  }
  throw new MedperfError('merge-method', `${repo.owner}/${repo.repo} allows no merge method this command can use${refused.length ? ` (${refused.join(' ')})` : ''}; an admin can allow one in the repository's settings`);
}

/** Asks GitHub to merge the PR once its required checks pass (GraphQL: REST has no such endpoint). */
export async function enableAutoMerge(gh: GitHub, pull: { node_id: string }, method: MergeMethod): Promise<void> {
  await gh.graphql(
    `mutation($id: ID!, $mergeMethod: PullRequestMergeMethod!) { enablePullRequestAutoMerge(input: { pullRequestId: $id, mergeMethod: $mergeMethod }) { clientMutationId } }`,
    { id: pull.node_id, mergeMethod: method.toUpperCase() },
  );
}

/** How a PR that needs no approval was landed. */
export type Landing = { merged: true; sha: string; method: MergeMethod } | { merged: false; autoMerge: true; method: MergeMethod; behind: boolean };

/**
 * Merges a PR now when GitHub says it can merge ("clean"), else asks GitHub to merge it once its
 * required checks pass (auto-merge). GitHub refuses auto-merge on a PR that could merge already
 * ("Pull request is in clean status"); that PR is merged directly.
 */
export async function landPull(gh: GitHub, repo: RepoRef, number: number): Promise<Landing> {
  const pull = await getPull(gh, repo, number);
  const { data: settings } = await gh.rest.repos.get({ ...repo });
  const method = mergeMethods(settings)[0] ?? 'merge';
  if (pull.mergeable_state === 'clean') return { merged: true, ...(await mergePull(gh, repo, pull, settings)) };
  try {
    await enableAutoMerge(gh, pull, method);
    // Auto-merge never updates a branch that is behind: it waits for someone who may push there.
    return { merged: false, autoMerge: true, method, behind: pull.mergeable_state === 'behind' };
  } catch (error) {
    if (!/clean status/i.test((error as Error).message)) throw error;
    return { merged: true, ...(await mergePull(gh, repo, await getPull(gh, repo, number), settings)) };
  }
}

/**
 * Starts a workflow that listens to workflow_dispatch: the one kind of event a workflow's own
 * GITHUB_TOKEN may start a run with ("events triggered by the GITHUB_TOKEN, with the exception of
 * workflow_dispatch and repository_dispatch, will not create a new workflow run",
 * docs.github.com/en/actions/security-for-github-actions/security-guides/automatic-token-authentication).
 */
export async function dispatchWorkflow(gh: GitHub, repo: RepoRef, workflow: string, ref: string): Promise<void> {
  await gh.rest.actions.createWorkflowDispatch({ ...repo, workflow_id: workflow, ref });
}

/**
 * The repository's protection as `registry protect` compares it (registry/protection.ts): merge
 * settings, the default branch's protection, Pages. Needs an admin's token.
 */
export async function readProtection(gh: GitHub, repo: RepoRef): Promise<RepositoryProtection> {
  const { data } = await gh.rest.repos.get({ ...repo });
  const branch = data.default_branch;
  const protection = await gh.rest.repos
    .getBranchProtection({ ...repo, branch })
    .then((r) => r.data)
    .catch((error: { status?: number }) => (error.status === 404 ? undefined : Promise.reject(error)));
  const pages = await gh.rest.repos
    .getPages({ ...repo })
    .then((r): RepositoryProtection['pages'] => (r.data.build_type === 'workflow' ? 'workflow' : 'legacy'))
    .catch((error: { status?: number }): Promise<RepositoryProtection['pages']> => (error.status === 404 ? Promise.resolve('none') : Promise.reject(error)));
  const checks = protection?.required_status_checks;
  const reviews = protection?.required_pull_request_reviews;
  return {
    defaultBranch: branch,
    merge: { mergeCommit: data.allow_merge_commit ?? true, squash: data.allow_squash_merge ?? true, rebase: data.allow_rebase_merge ?? true, autoMerge: data.allow_auto_merge ?? false },
    ...(protection
      ? {
          branch: {
            checks: (checks?.checks ?? (checks?.contexts ?? []).map((context) => ({ context, app_id: null }))).map((c) => ({ context: c.context, appId: c.app_id ?? null })),
            strict: Boolean(checks?.strict),
            enforceAdmins: Boolean(protection.enforce_admins?.enabled),
            dismissStaleReviews: Boolean(reviews?.dismiss_stale_reviews),
            requiredApprovals: reviews?.required_approving_review_count ?? 0,
            codeOwnerReviews: Boolean(reviews?.require_code_owner_reviews),
          },
        }
      : {}),
    pages,
  };
}

/** Makes the changes `protectionChanges` listed: one call per kind of setting that differs. */
export async function applyProtection(gh: GitHub, repo: RepoRef, current: RepositoryProtection, desired: RepositoryProtection, changes: ProtectionChange[]): Promise<void> {
  const kinds = new Set(changes.map((c) => c.applies));
  if (kinds.has('merge-settings')) {
    const m = desired.merge;
    await gh.rest.repos.update({ ...repo, allow_merge_commit: m.mergeCommit, allow_squash_merge: m.squash, allow_rebase_merge: m.rebase, allow_auto_merge: m.autoMerge });
  }
  if (kinds.has('branch-protection')) {
    const b = desired.branch!;
    // docs.github.com/en/rest/branches/branch-protection#update-branch-protection: the whole rule.
    await gh.rest.repos.updateBranchProtection({
      ...repo,
      branch: current.defaultBranch,
      required_status_checks: { strict: b.strict, contexts: [], checks: b.checks.map((c) => ({ context: c.context, ...(c.appId === null ? {} : { app_id: c.appId }) })) },
      enforce_admins: b.enforceAdmins,
      required_pull_request_reviews: { dismiss_stale_reviews: b.dismissStaleReviews, require_code_owner_reviews: b.codeOwnerReviews, required_approving_review_count: b.requiredApprovals },
      restrictions: null,
      allow_force_pushes: false,
      allow_deletions: false,
    });
  }
  if (kinds.has('pages')) {
    // docs.github.com/en/rest/pages/pages: create the site, or switch an existing one to Actions.
    if (current.pages === 'none') await gh.rest.repos.createPagesSite({ ...repo, build_type: 'workflow' });
    else await gh.rest.repos.updateInformationAboutPagesSite({ ...repo, build_type: 'workflow' });
  }
}
