// A GitHub stand-in on loopback, for tests: git's own `git http-backend` serves real repositories
// over smart HTTP (token auth, push permission, partial-clone filters), and the REST endpoints the
// project calls answer under /api/v3 as on GitHub Enterprise Server. Every request and response is
// checked against GitHub's OpenAPI description; a call the real API would reject is recorded in
// `violations` (tests assert it stays empty) and answered 400. Faults can be injected per route.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commitIdentity, type FileChange } from '../../registry/forge/forge.ts';
import { commitChange, git, gitText, mergeTrees, resolveRev } from '../../registry/forge/git.ts';
import { parse as parseYaml } from 'yaml';
import { answerGraphQL, GitHubGraphQLError } from './graphql.ts';
import { checkRequest, checkResponse, conform, OpenApiViolation } from './openapi.ts';

const HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

/**
 * A user's role on a repository, least to most access: read, triage, write, maintain, admin
 * (docs.github.com/en/organizations/managing-user-access-to-your-organizations-repositories/
 * managing-repository-roles/repository-roles-for-an-organization). Anyone has read on a public
 * repository.
 */
export type Role = 'read' | 'triage' | 'write' | 'maintain' | 'admin';
const RANK: Record<Role, number> = { read: 1, triage: 2, write: 3, maintain: 4, admin: 5 };
export const ROLES = Object.keys(RANK) as Role[];

/** The GitHub Actions app: the app behind every workflow's GITHUB_TOKEN (`github-actions[bot]`). */
export const GITHUB_ACTIONS_APP_ID = 15368;

/** What the repository settings allow (docs.github.com/en/rest/repos/repos#update-a-repository). */
export interface RepoSettings {
  defaultBranch: string;
  allowMergeCommit: boolean;
  allowSquashMerge: boolean;
  allowRebaseMerge: boolean;
  allowAutoMerge: boolean;
}

/**
 * A branch protection rule as GitHub keeps it (docs.github.com/en/rest/branches/branch-protection
 * #update-branch-protection): required checks, each optionally pinned to the app that must
 * provide it; `strict` ("Require branches to be up to date before merging"); required approvals
 * and whether a push dismisses the approvals given before it; whether admins are held to it.
 */
export interface Protection {
  strict: boolean;
  /** `appId` null: any source (a context never set by an app, or "-1 to explicitly allow any app"). */
  checks: Array<{ context: string; appId: number | null }>;
  enforceAdmins: boolean;
  reviews: { dismissStale: boolean; requiredApprovals: number } | null;
}

interface Repo {
  owner: string;
  name: string;
  id: number;
  dir: string;
  roles: Map<string, Role>;
  settings: RepoSettings;
  /** Branch protection per branch name. */
  protection: Map<string, Protection>;
  /** GitHub Pages, once enabled: built from a branch (legacy) or by a workflow. */
  pages?: { buildType: 'legacy' | 'workflow'; branch: string };
  /** "Forking a Repository happens asynchronously": until then the fork answers 404 (docs.github.com/en/rest/repos/forks#create-a-fork). */
  readyAt?: number;
  parent?: string;
  createdAt: string;
}

interface StandInPull {
  number: number;
  title: string;
  body: string;
  user: string;
  state: 'open' | 'closed';
  /** The base branch's name, and its commit when the PR was opened. */
  baseRef: string;
  base: string;
  headRepo: string | null;
  headRef: string;
  headSha: string;
  /** Every path the PR changes (GitHub's `changed_files` counts them all). */
  changed: Array<{ path: string; status: 'added' | 'removed' | 'modified' }>;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
  mergedAt: string | null;
  mergedBy: string | null;
  mergeSha: string | null;
  /** Auto-merge, once enabled: GitHub merges with `method` as `enabledBy` when the PR can merge. */
  autoMerge?: { method: MergeMethod; enabledBy: string; appId?: number };
}

/**
 * Something that happened in a repository that workflows listen to: a push (a merge, an updated
 * branch) or a workflow dispatch, and who caused it (`appId`: through which app's token).
 */
export interface RepoEvent {
  repo: string;
  event: 'push' | 'workflow_dispatch';
  ref: string;
  actor: string;
  appId?: number;
  /** workflow_dispatch: the workflow file asked for. */
  workflow?: string;
}

interface StandInReview {
  id: number;
  /** Reviews belong to one pull request of one repository. */
  repo: string;
  pull: number;
  user: string;
  state: string;
  body: string;
  submittedAt: string;
  commit: string;
}

interface StandInComment {
  id: number;
  issue: number;
  user: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

/** Who a token acts as: a login, the app it belongs to, and the most access it grants (a workflow's read-only token). */
interface Caller {
  login: string;
  appId?: number;
  cap?: Role;
}

/** A fault to inject: the next `times` requests matching `method` and `path` get it. */
export interface Fault {
  method?: string;
  /** Matched against the path under the API root (e.g. /repos/o/r/pulls) or the git path. */
  path: RegExp;
  times?: number;
  /**
   * 'server-error' (502), 'secondary-rate-limit' (403 + retry-after), 'secondary-rate-limit-429'
   * (the same as 429), 'not-found' (404), or 'slow'.
   */
  kind: 'server-error' | 'secondary-rate-limit' | 'secondary-rate-limit-429' | 'not-found' | 'slow';
  retryAfter?: number;
  delayMs?: number;
}

const API = '/api/v3';

export class GitHubStandIn {
  readonly violations: string[] = [];
  readonly requests: Array<{ method: string; path: string; status: number; at?: number }> = [];
  private server?: Server;
  private root = '';
  private readonly tokens = new Map<string, Caller>();
  private readonly repos = new Map<string, Repo>();
  private readonly pulls = new Map<string, StandInPull[]>();
  private readonly reviews: StandInReview[] = [];
  private readonly comments: StandInComment[] = [];
  private readonly faults: Array<Fault & { left: number }> = [];
  private nextId = 1000;
  /** Every push and dispatch the API made, in order (see `workflowRuns`). */
  readonly events: RepoEvent[] = [];
  /** Commit statuses and check runs, each with the app (if any) whose token created it. */
  private readonly statuses: Array<{ repo: string; sha: string; context: string; state: string; appId?: number }> = [];
  private readonly checkRuns: Array<{ id: number; repo: string; sha: string; name: string; status: string; conclusion: string | null; appId: number }> = [];
  private children = new Set<ReturnType<typeof spawn>>();

  url = '';
  /** Runs when a push starts (before refs are advertised): a test's way to race another pusher. */
  beforePush?: (fullName: string, dir: string) => Promise<void>;

  /** The REST base URL to give octokit. */
  get apiUrl(): string {
    return this.url + API;
  }

  /** Listens on 127.0.0.1, on `port` (default: any free one). */
  static async start(options: { port?: number } = {}): Promise<GitHubStandIn> {
    const s = new GitHubStandIn();
    s.root = await mkdtemp(join(tmpdir(), 'medperf-git-standin-'));
    s.server = createServer((req, res) => {
      s.handle(req, res).catch((error) => {
        s.violations.push(`stand-in crashed on ${req.method} ${req.url}: ${(error as Error).stack}`);
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'stand-in error' }));
      });
    });
    await new Promise<void>((resolve, reject) => {
      s.server!.once('error', reject);
      s.server!.listen(options.port ?? 0, '127.0.0.1', resolve);
    });
    s.url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  async stop(): Promise<void> {
    for (const c of this.children) c.kill('SIGKILL');
    await new Promise<void>((resolve) => {
      this.server?.close(() => resolve());
      this.server?.closeAllConnections();
    });
    await rm(this.root, { recursive: true, force: true });
  }

  /**
   * A user and their token. A token of an app (`appId`) acts as the app's bot: what it creates
   * (statuses, check runs) counts for checks pinned to that app. `github-actions[bot]`'s token is
   * the GitHub Actions app's, as a workflow's GITHUB_TOKEN is.
   */
  addUser(login: string, options: { appId?: number; cap?: Role } = {}): string {
    const token = `${options.appId || login === 'github-actions[bot]' ? 'ghs' : 'ghp'}_${randomBytes(18).toString('hex')}`;
    const appId = options.appId ?? (login === 'github-actions[bot]' ? GITHUB_ACTIONS_APP_ID : undefined);
    this.tokens.set(token, { login, ...(appId ? { appId } : {}), ...(options.cap ? { cap: options.cap } : {}) });
    return token;
  }

  /**
   * The GITHUB_TOKEN of a workflow run: the Actions app's, with the access the run gets. "With the
   * exception of GITHUB_TOKEN, secrets are not passed to the runner when a workflow is triggered
   * from a forked repository. The GITHUB_TOKEN has read-only permissions in pull requests from
   * forked repositories" (docs.github.com/en/actions/writing-workflows/choosing-when-your-workflow-
   * runs/events-that-trigger-workflows#workflows-in-forked-repositories): a run of pull_request or
   * pull_request_review for a fork's PR gets read; pull_request_target and workflow_run run in the
   * base repository and get what the workflow grants.
   */
  workflowToken(run: { event: 'pull_request' | 'pull_request_review' | 'pull_request_target' | 'workflow_run' | 'push'; fromFork: boolean }): string {
    const readOnly = run.fromFork && (run.event === 'pull_request' || run.event === 'pull_request_review');
    return this.addUser('github-actions[bot]', readOnly ? { cap: 'read' } : {});
  }

  /** How long a new fork stays absent after `POST /forks` answered 202 (Infinity: never appears). */
  forkDelayMs = 0;

  /**
   * A repository with `files` on main, owned (admin) by its owner; `collaborators` get the write
   * role, or the role given per login.
   */
  async createRepo(
    fullName: string,
    files: FileChange[],
    collaborators: string[] | Record<string, Role> = [],
    settings: Partial<RepoSettings> = {},
  ): Promise<void> {
    const [owner, name] = fullName.split('/') as [string, string];
    const dir = join(this.root, 'repos', owner, `${name}.git`);
    const repoSettings: RepoSettings = { defaultBranch: 'main', allowMergeCommit: true, allowSquashMerge: true, allowRebaseMerge: true, allowAutoMerge: false, ...settings };
    await mkdir(dir, { recursive: true });
    await git(['init', '--quiet', '--bare', `--initial-branch=${repoSettings.defaultBranch}`, dir], { cwd: this.root });
    await this.configure(dir);
    const { commit } = await commitChange({
      repo: dir,
      baseTree: '4b825dc642cb6eb9a060e54bf8d69288fbee4904',
      parents: [],
      files,
      message: 'Create the registry',
      login: owner,
    });
    await git(['update-ref', `refs/heads/${repoSettings.defaultBranch}`, commit], { cwd: dir });
    const roles = new Map<string, Role>(Array.isArray(collaborators) ? collaborators.map((c) => [c, 'write']) : Object.entries(collaborators));
    roles.set(owner, 'admin');
    this.repos.set(fullName, { owner, name, id: this.nextId++, dir, roles, settings: repoSettings, protection: new Map(), createdAt: now() });
    this.pulls.set(fullName, []);
  }

  /**
   * A branch with `files` changed on top of main, pushed straight into the repository, and a pull
   * request from it opened by `login`: a quick way for tests to get a PR of any size.
   */
  async openPull(fullName: string, login: string, branch: string, files: FileChange[], title = branch): Promise<number> {
    const repo = this.repos.get(fullName)!;
    const main = (await resolveRev(repo.dir, `refs/heads/${repo.settings.defaultBranch}`))!;
    const { commit } = await commitChange({ repo: repo.dir, baseTree: `${main}^{tree}`, parents: [main], files, message: title, login });
    await git(['update-ref', `refs/heads/${branch}`, commit], { cwd: repo.dir });
    const pull = await this.addPull(repo, { title, body: '', user: login, baseRef: repo.settings.defaultBranch, base: main, headRepo: fullName, headRef: branch });
    return pull.number;
  }

  /** A new open pull request of `repo`, numbered next, its head read from its branch. */
  private async addPull(repo: Repo, fields: Pick<StandInPull, 'title' | 'body' | 'user' | 'baseRef' | 'base' | 'headRepo' | 'headRef'>): Promise<StandInPull> {
    const pulls = this.pulls.get(`${repo.owner}/${repo.name}`)!;
    const stamp = now();
    const pull: StandInPull = {
      number: pulls.length + 1,
      ...fields,
      state: 'open',
      headSha: '',
      changed: [],
      createdAt: stamp,
      updatedAt: stamp,
      closedAt: null,
      mergedAt: null,
      mergedBy: null,
      mergeSha: null,
    };
    pulls.push(pull);
    await this.refresh(repo, pull);
    return pull;
  }

  /** A commit with `files` changed on top of `branch`, as `login` would push it; returns the commit. */
  async pushTo(fullName: string, branch: string, files: FileChange[], login: string): Promise<string> {
    const repo = this.repos.get(fullName)!;
    const tip = (await resolveRev(repo.dir, `refs/heads/${branch}`))!;
    const { commit } = await commitChange({ repo: repo.dir, baseTree: `${tip}^{tree}`, parents: [tip], files, message: `Change ${branch}`, login });
    await git(['update-ref', `refs/heads/${branch}`, commit, tip], { cwd: repo.dir });
    this.pushed(repo, branch, login);
    return commit;
  }

  /** Deletes a repository (a fork the user removed). */
  async deleteRepo(fullName: string): Promise<void> {
    const repo = this.repos.get(fullName);
    if (!repo) return;
    this.repos.delete(fullName);
    // As on GitHub, PRs from a deleted fork keep their branch name but lose their head repository.
    for (const pulls of this.pulls.values()) for (const p of pulls) if (p.headRepo === fullName) p.headRepo = null;
    await rm(repo.dir, { recursive: true, force: true });
  }

  /** Protects a branch of the repository (default: its default branch), as an admin would in the settings. */
  protect(fullName: string, protection: Partial<Protection> & Pick<Protection, 'checks'>, branch?: string): void {
    const repo = this.repos.get(fullName)!;
    repo.protection.set(branch ?? repo.settings.defaultBranch, { strict: false, enforceAdmins: false, reviews: null, ...protection });
  }

  /** Removes a branch's protection (default: the default branch's). */
  unprotect(fullName: string, branch?: string): void {
    const repo = this.repos.get(fullName)!;
    repo.protection.delete(branch ?? repo.settings.defaultBranch);
  }

  /** Changes the repository's settings, as an admin would in the settings. */
  configureRepo(fullName: string, settings: Partial<Omit<RepoSettings, 'defaultBranch'>>): void {
    Object.assign(this.repos.get(fullName)!.settings, settings);
  }

  /** The protection of a branch, the repository's settings and its Pages, for tests to inspect. */
  repoState(fullName: string): { settings: RepoSettings; protection: ReadonlyMap<string, Protection>; pages?: Repo['pages'] } {
    const repo = this.repos.get(fullName)!;
    return { settings: { ...repo.settings }, protection: repo.protection, ...(repo.pages ? { pages: { ...repo.pages } } : {}) };
  }

  /** Gives `login` a role on the repository, or (null) removes them as a collaborator. */
  setRole(fullName: string, login: string, role: Role | null): void {
    if (role) this.repos.get(fullName)!.roles.set(login, role);
    else this.repos.get(fullName)!.roles.delete(login);
  }

  /** Whether `who` (a login, or a token's caller, whose access its token may cap) has at least `role` on the repository. */
  private can(repo: Repo, who: string | Caller, role: Role): boolean {
    const caller = typeof who === 'string' ? { login: who } : who;
    if (caller.cap && RANK[caller.cap] < RANK[role]) return false;
    return RANK[repo.roles.get(caller.login) ?? 'read'] >= RANK[role];
  }

  /** The repository, unless it is a fork still being made. */
  private repo(fullName: string): Repo | undefined {
    const repo = this.repos.get(fullName);
    return repo && (repo.readyAt ?? 0) <= Date.now() ? repo : undefined;
  }

  /** The bare repository behind `owner/name`, for tests that inspect it. */
  repoDir(fullName: string): string {
    return this.repos.get(fullName)!.dir;
  }

  /** The violations recorded so far, cleared. */
  takeViolations(): string[] {
    return this.violations.splice(0);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  inject(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  pullsOf(fullName: string): ReadonlyArray<Readonly<StandInPull>> {
    return this.pulls.get(fullName) ?? [];
  }

  private async configure(dir: string): Promise<void> {
    for (const [k, v] of [
      ['http.receivepack', 'true'],
      ['uploadpack.allowFilter', 'true'],
      ['uploadpack.allowAnySHA1InWant', 'true'],
      ['receive.denyNonFastForwards', 'false'],
    ]) {
      await git(['config', k!, v!], { cwd: dir });
    }
  }

  // --- HTTP ----------------------------------------------------------------------------------

  private login(req: IncomingMessage): string | undefined {
    return this.caller(req)?.login;
  }

  private caller(req: IncomingMessage): Caller | undefined {
    const auth = req.headers.authorization ?? '';
    let token = '';
    const m = /^(?:token|bearer)\s+(\S+)$/i.exec(auth);
    if (m) token = m[1]!;
    const b = /^basic\s+(\S+)$/i.exec(auth);
    if (b) token = Buffer.from(b[1]!, 'base64').toString('utf8').split(':').slice(1).join(':');
    return this.tokens.get(token);
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const i = this.faults.findIndex((f) => (!f.method || f.method === method) && f.path.test(path));
    if (i < 0) return undefined;
    const f = this.faults[i]!;
    if (--f.left <= 0) this.faults.splice(i, 1);
    return f;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const method = req.method ?? 'GET';
    const path = url.pathname.startsWith(API) ? url.pathname.slice(API.length) : url.pathname;
    const fault = this.takeFault(method, path);
    if (fault?.kind === 'slow') await new Promise((r) => setTimeout(r, fault.delayMs ?? 200));
    else if (fault) {
      const [status, message] =
        fault.kind === 'server-error'
          ? [502, 'Server Error']
          : fault.kind === 'not-found'
            ? [404, 'Not Found']
            : // "you will receive a 403 or 429 response and an error message that indicates that you
              // exceeded a secondary rate limit", with retry-after in seconds
              // (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api#exceeding-the-rate-limit)
              [fault.kind === 'secondary-rate-limit-429' ? 429 : 403, 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.'];
      const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
      if (fault.kind.startsWith('secondary-rate-limit')) headers['retry-after'] = String(fault.retryAfter ?? 1);
      req.resume();
      res.writeHead(status, headers).end(JSON.stringify({ message, documentation_url: 'https://docs.github.com/rest' }));
      this.requests.push({ method, path, status });
      return;
    }
    if (url.pathname === '/api/graphql' && method === 'POST') return this.graphql(req, res);
    if (!url.pathname.startsWith(API + '/')) return this.gitHttp(req, res, url);
    const caller = this.caller(req);
    const login = caller?.login;
    const body = await readBody(req);
    let parsed: unknown;
    try {
      parsed = body.length ? JSON.parse(body.toString('utf8')) : undefined;
    } catch {
      return this.send(res, method, path, '', 400, { message: 'Problems parsing JSON' }, false);
    }
    let template: string;
    try {
      template = checkRequest(method, path, url.searchParams, parsed).template;
    } catch (error) {
      if (!(error instanceof OpenApiViolation)) throw error;
      this.violations.push(error.message);
      return this.send(res, method, path, '', 400, { message: `stand-in: ${error.message}` }, false);
    }
    if (!login) return this.send(res, method, path, template, 401, { message: 'Requires authentication', documentation_url: 'https://docs.github.com/rest' }, false);
    const [status, data, headers] = await this.route(method, path, template, url.searchParams, (parsed ?? {}) as Record<string, unknown>, caller!);
    this.send(res, method, path, template, status, data, true, headers);
  }

  /** GitHub's GraphQL endpoint (POST /api/graphql on GitHub Enterprise Server, as octokit calls it). */
  private async graphql(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const caller = this.caller(req);
    const body = await readBody(req);
    const reply = (status: number, data: unknown) => {
      this.requests.push({ method: 'POST', path: '/graphql', status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(data));
    };
    if (!caller) return reply(401, { message: 'This endpoint requires you to be authenticated.', documentation_url: 'https://docs.github.com/graphql/guides/forming-calls-with-graphql#authenticating-with-graphql' });
    let request: { query?: unknown; variables?: unknown };
    try {
      request = JSON.parse(body.toString('utf8')) as typeof request;
    } catch {
      return reply(400, { message: 'Problems parsing JSON' });
    }
    const answer = await answerGraphQL(request, {
      enablePullRequestAutoMerge: (args) => this.enableAutoMerge(args.input as Record<string, unknown>, caller),
    });
    if (answer.violation) this.violations.push(answer.violation);
    reply(200, answer.body);
  }

  /**
   * enablePullRequestAutoMerge (docs.github.com/en/graphql/reference/mutations
   * #enablepullrequestautomerge): refused where the repository does not allow auto-merge, and
   * for a PR that could merge now ("clean status": merge it instead, docs.github.com/en/
   * pull-requests/collaborating-with-pull-requests/incorporating-changes-from-a-pull-request/
   * automatically-merging-a-pull-request).
   */
  private async enableAutoMerge(input: Record<string, unknown>, who: Caller): Promise<unknown> {
    const { login, appId } = who;
    const m = /^PR_(\d+)_(\d+)$/.exec(String(input.pullRequestId));
    const repo = m ? [...this.repos.values()].find((r) => r.id === Number(m[1])) : undefined;
    const p = repo ? this.pulls.get(`${repo.owner}/${repo.name}`)?.find((x) => x.number === Number(m![2])) : undefined;
    if (!repo || !p) throw new GitHubGraphQLError('NOT_FOUND', `Could not resolve to a node with the global id of '${String(input.pullRequestId)}'`);
    if (!this.can(repo, who, 'write')) throw new GitHubGraphQLError('FORBIDDEN', `${login} does not have the correct permissions to execute \`EnablePullRequestAutoMerge\``);
    await this.refresh(repo, p);
    if (p.state !== 'open') throw new GitHubGraphQLError('UNPROCESSABLE', 'Pull request is not open');
    if (!repo.settings.allowAutoMerge) throw new GitHubGraphQLError('UNPROCESSABLE', 'Pull request Auto merge is not allowed for this repository');
    const method = String(input.mergeMethod ?? 'MERGE').toLowerCase() as MergeMethod;
    if (!allowsMethod(repo.settings, method)) throw new GitHubGraphQLError('UNPROCESSABLE', `Pull request ${METHOD_REFUSED[method]}`);
    const state = await this.mergeState(repo, p);
    if (state.state === 'clean') throw new GitHubGraphQLError('UNPROCESSABLE', 'Pull request Pull request is in clean status');
    p.autoMerge = { method, enabledBy: login, ...(appId ? { appId } : {}) };
    return { clientMutationId: input.clientMutationId ?? null, actor: { login }, pullRequest: { id: pullNodeId(repo.id, p.number), number: p.number } };
  }

  /** Merges the repository's PRs whose auto-merge is on and whose requirements are now met, as GitHub does. */
  private async runAutoMerges(repo: Repo): Promise<void> {
    for (const p of this.pulls.get(`${repo.owner}/${repo.name}`) ?? []) {
      if (p.state !== 'open' || !p.autoMerge) continue;
      await this.refresh(repo, p);
      if ((await this.mergeState(repo, p)).state !== 'clean') continue;
      const tip = (await resolveRev(repo.dir, `refs/heads/${p.baseRef}`))!;
      const merged = await mergeTrees(repo.dir, tip, p.headSha);
      if ('conflicts' in merged) continue;
      const sha = await this.mergeCommits(repo, p, tip, merged.tree, p.autoMerge.method, p.autoMerge.enabledBy);
      await git(['update-ref', `refs/heads/${p.baseRef}`, sha, tip], { cwd: repo.dir });
      const stamp = now();
      Object.assign(p, { state: 'closed', mergedAt: stamp, closedAt: stamp, updatedAt: stamp, mergedBy: p.autoMerge.enabledBy, mergeSha: sha });
      this.pushed(repo, p.baseRef, p.autoMerge.enabledBy, p.autoMerge.appId);
    }
  }

  private pushed(repo: Repo, branch: string, actor: string, appId?: number): void {
    this.events.push({ repo: `${repo.owner}/${repo.name}`, event: 'push', ref: `refs/heads/${branch}`, actor, ...(appId ? { appId } : {}) });
  }

  /**
   * The workflow runs the recorded events of a repository start, from the workflow files on its
   * default branch: "events triggered by the GITHUB_TOKEN, with the exception of workflow_dispatch
   * and repository_dispatch, will not create a new workflow run" (docs.github.com/en/actions/
   * security-for-github-actions/security-guides/automatic-token-authentication
   * #using-the-github_token-in-a-workflow).
   */
  async workflowRuns(fullName: string): Promise<Array<{ workflow: string; event: string; actor: string }>> {
    const repo = this.repos.get(fullName)!;
    const branch = repo.settings.defaultBranch;
    const listing = await gitText(['ls-tree', '--name-only', `refs/heads/${branch}`, '.github/workflows/'], { cwd: repo.dir }).catch(() => '');
    const workflows = new Map<string, Record<string, unknown>>();
    for (const path of listing.split('\n').filter((p) => /\.ya?ml$/.test(p))) {
      const doc = parseYaml(await gitText(['show', `refs/heads/${branch}:${path}`], { cwd: repo.dir })) as { on?: Record<string, unknown> };
      workflows.set(path.split('/').pop()!, doc.on ?? {});
    }
    const out: Array<{ workflow: string; event: string; actor: string }> = [];
    for (const e of this.events.filter((x) => x.repo === fullName)) {
      if (e.appId === GITHUB_ACTIONS_APP_ID && e.event !== 'workflow_dispatch') continue;
      for (const [file, on] of workflows) {
        if (!(e.event in on)) continue;
        if (e.event === 'workflow_dispatch' && e.workflow !== file) continue;
        const branches = (on[e.event] as { branches?: string[] } | null)?.branches;
        if (branches && !branches.includes(e.ref.replace(/^refs\/heads\//, ''))) continue;
        out.push({ workflow: file, event: e.event, actor: e.actor });
      }
    }
    return out;
  }

  private send(
    res: ServerResponse,
    method: string,
    path: string,
    template: string,
    status: number,
    data: unknown,
    validate: boolean,
    headers: Record<string, string> = {},
  ): void {
    let out = data;
    if (validate && template) {
      out = conform(method, template, status, data);
      try {
        checkResponse(method, template, status, out);
      } catch (error) {
        if (!(error instanceof OpenApiViolation)) throw error;
        this.violations.push(error.message);
      }
    }
    this.requests.push({ method, path, status, at: Date.now() });
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
    res.end(status === 204 ? undefined : JSON.stringify(out));
  }

  // --- git smart HTTP through git http-backend ------------------------------------------------

  private async gitHttp(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const m = /^\/([^/]+)\/([^/]+?)\.git(\/.*)$/.exec(url.pathname);
    const repo = m ? this.repo(`${m[1]}/${m[2]}`) : undefined;
    const caller = this.caller(req);
    const login = caller?.login;
    if (!caller || !login) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="GitHub"' }).end();
      return;
    }
    if (!m || !repo) {
      req.resume();
      res.writeHead(404).end('Repository not found.\n');
      return;
    }
    const pushing = url.searchParams.get('service') === 'git-receive-pack' || m[3] === '/git-receive-pack';
    if (pushing && m[3] === '/info/refs' && this.beforePush) await this.beforePush(`${repo.owner}/${repo.name}`, repo.dir);
    // Pushing needs the write role.
    if (pushing && !this.can(repo, caller, 'write')) {
      req.resume();
      res.writeHead(403).end(`Permission to ${repo.owner}/${repo.name} denied to ${login}.\n`);
      return;
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: join(this.root, 'repos'),
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: `/${repo.owner}/${repo.name}.git${m[3]}`,
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: login,
      REMOTE_ADDR: '127.0.0.1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      ...(req.headers['git-protocol'] ? { GIT_PROTOCOL: String(req.headers['git-protocol']) } : {}),
      ...(req.headers['content-encoding'] ? { HTTP_CONTENT_ENCODING: String(req.headers['content-encoding']) } : {}),
    };
    const child = spawn(HTTP_BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    this.children.add(child);
    req.pipe(child.stdin);
    child.stderr.resume();
    let head = Buffer.alloc(0);
    let headersDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headersDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      headersDone = true;
      let status = 200;
      const headers: Record<string, string> = {};
      for (const line of head.subarray(0, end).toString('latin1').split('\r\n')) {
        const i = line.indexOf(':');
        const k = line.slice(0, i).trim();
        const v = line.slice(i + 1).trim();
        if (k.toLowerCase() === 'status') status = Number(v.split(' ')[0]);
        else headers[k] = v;
      }
      res.writeHead(status, headers);
      res.write(head.subarray(end + 4));
    });
    await new Promise<void>((resolve) => child.on('close', () => resolve()));
    this.children.delete(child);
    if (!headersDone) res.writeHead(500);
    res.end();
    this.requests.push({ method: req.method ?? 'GET', path: url.pathname, status: res.statusCode, at: Date.now() });
  }

  // --- REST ----------------------------------------------------------------------------------

  private userJson(login: string) {
    return {
      login,
      id: hashId(login),
      node_id: `U_${login}`,
      type: login.endsWith('[bot]') ? 'Bot' : 'User',
      site_admin: false,
      // Bots' logins hold brackets (github-actions[bot]): URLs carry them escaped, as GitHub's do.
      html_url: `${this.url}/${encodeURIComponent(login)}`,
      url: `${this.apiUrl}/users/${encodeURIComponent(login)}`,
      avatar_url: `${this.url}/avatars/${encodeURIComponent(login)}`,
    };
  }

  private repoJson(repo: Repo, login: string): Record<string, unknown> {
    const full = `${repo.owner}/${repo.name}`;
    const at = (role: Role) => this.can(repo, login, role);
    const parent = repo.parent ? this.repos.get(repo.parent) : undefined;
    return {
      id: repo.id,
      node_id: `R_${repo.id}`,
      name: repo.name,
      full_name: full,
      owner: this.userJson(repo.owner),
      private: false,
      fork: Boolean(repo.parent),
      html_url: `${this.url}/${full}`,
      url: `${this.apiUrl}/repos/${full}`,
      clone_url: `${this.url}/${full}.git`,
      default_branch: repo.settings.defaultBranch,
      visibility: 'public',
      created_at: repo.createdAt,
      updated_at: repo.createdAt,
      pushed_at: repo.createdAt,
      permissions: { admin: at('admin'), maintain: at('maintain'), push: at('write'), triage: at('triage'), pull: true },
      // The merge settings, shown to those who may push (a reader learns them when a merge is refused).
      ...(at('write')
        ? {
            allow_merge_commit: repo.settings.allowMergeCommit,
            allow_squash_merge: repo.settings.allowSquashMerge,
            allow_rebase_merge: repo.settings.allowRebaseMerge,
            allow_auto_merge: repo.settings.allowAutoMerge,
            allow_update_branch: true,
          }
        : {}),
      ...(parent ? { parent: this.repoJson(parent, login), source: this.repoJson(parent, login) } : {}),
    };
  }

  /** Keeps a PR's head in step with its branch, and refs/pull/N/head in the base repository. */
  private async refresh(base: Repo, pull: StandInPull): Promise<void> {
    if (pull.state !== 'open') return;
    const head = pull.headRepo ? this.repos.get(pull.headRepo) : undefined;
    if (!head) {
      pull.headRepo = null;
      return;
    }
    const sha = await resolveRev(head.dir, `refs/heads/${pull.headRef}`);
    if (!sha) return;
    if (sha !== pull.headSha || !(await resolveRev(base.dir, `refs/pull/${pull.number}/head`))) {
      // "Dismiss stale pull request approvals when new commits are pushed" (docs.github.com/en/
      // repositories/configuring-branches-and-merges-in-your-repository/managing-protected-branches/
      // about-protected-branches#require-pull-request-reviews-before-merging).
      if (pull.headSha && sha !== pull.headSha && base.protection.get(pull.baseRef)?.reviews?.dismissStale) {
        const full = `${base.owner}/${base.name}`;
        for (const r of this.reviews) if (r.repo === full && r.pull === pull.number && r.state === 'APPROVED') r.state = 'DISMISSED';
      }
      if (head !== base) await git(['fetch', '--quiet', head.dir, `+refs/heads/${pull.headRef}:refs/pull/${pull.number}/head`], { cwd: base.dir });
      else await git(['update-ref', `refs/pull/${pull.number}/head`, sha], { cwd: base.dir });
      pull.headSha = sha;
      pull.updatedAt = now();
      pull.changed = await this.changedPaths(base, pull);
    }
  }

  private async changedPaths(repo: Repo, p: StandInPull): Promise<StandInPull['changed']> {
    const from = await gitText(['merge-base', p.base, `refs/pull/${p.number}/head`], { cwd: repo.dir });
    const out = await gitText(['diff', '--name-status', '--no-renames', '-z', from, `refs/pull/${p.number}/head`], { cwd: repo.dir });
    const fields = out.split('\0').filter(Boolean);
    const files: StandInPull['changed'] = [];
    for (let i = 0; i + 1 < fields.length; i += 2) {
      files.push({ path: fields[i + 1]!, status: fields[i] === 'A' ? 'added' : fields[i] === 'D' ? 'removed' : 'modified' });
    }
    return files;
  }

  /**
   * One page of a list, as GitHub pages: `per_page` defaults to 30 and is at most 100, `page`
   * counts from 1, and the `Link` header names the next, last, first and prev pages that exist
   * (docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api). `limit` is
   * where an endpoint stops listing altogether.
   */
  private page<T>(path: string, query: URLSearchParams, items: T[], limit = Infinity): [T[], Record<string, string>] {
    const perPage = Math.min(100, Math.max(1, Number(query.get('per_page') ?? 30) || 30));
    const page = Math.max(1, Number(query.get('page') ?? 1) || 1);
    const all = items.slice(0, limit);
    const last = Math.max(1, Math.ceil(all.length / perPage));
    const link = (n: number, rel: string) => {
      const q = new URLSearchParams(query);
      q.set('page', String(n));
      return `<${this.apiUrl}${path}?${q}>; rel="${rel}"`;
    };
    const links: string[] = [];
    if (page < last) links.push(link(page + 1, 'next'), link(last, 'last'));
    if (page > 1) links.push(link(1, 'first'), link(Math.min(page - 1, last), 'prev'));
    return [all.slice((page - 1) * perPage, page * perPage), links.length ? { link: links.join(', ') } : {}];
  }

  /** A single pull request: the list's fields and the counts, `changed_files` counting every file. */
  private async pullDetail(base: Repo, p: StandInPull, login: string): Promise<Record<string, unknown>> {
    const merge = await this.mergeState(base, p);
    return { ...this.pullJson(base, p, login), mergeable: merge.mergeable, mergeable_state: merge.state, changed_files: p.changed.length, commits: 1, additions: 0, deletions: 0 };
  }

  private pullJson(base: Repo, p: StandInPull, login: string): Record<string, unknown> {
    const full = `${base.owner}/${base.name}`;
    const head = p.headRepo ? this.repos.get(p.headRepo) : undefined;
    return {
      url: `${this.apiUrl}/repos/${full}/pulls/${p.number}`,
      id: hashId(`${full}#${p.number}`),
      node_id: pullNodeId(base.id, p.number),
      html_url: `${this.url}/${full}/pull/${p.number}`,
      number: p.number,
      state: p.state,
      locked: false,
      title: p.title,
      body: p.body || null,
      user: this.userJson(p.user),
      created_at: p.createdAt,
      updated_at: p.updatedAt,
      closed_at: p.closedAt,
      merged_at: p.mergedAt,
      merge_commit_sha: p.mergeSha,
      labels: [],
      assignees: [],
      requested_reviewers: [],
      requested_teams: [],
      draft: false,
      author_association: this.association(base, p.user),
      head: {
        label: `${head?.owner ?? 'unknown'}:${p.headRef}`,
        ref: p.headRef,
        sha: p.headSha,
        user: this.userJson(head?.owner ?? p.user),
        repo: head ? this.repoJson(head, login) : null,
      },
      base: { label: `${base.owner}:${p.baseRef}`, ref: p.baseRef, sha: p.base, user: this.userJson(base.owner), repo: this.repoJson(base, login) },
      _links: {},
      merged: Boolean(p.mergedAt),
      mergeable: p.state === 'open' ? true : null,
      merged_by: p.mergedBy ? this.userJson(p.mergedBy) : null,
      maintainer_can_modify: false,
    };
  }

  private async route(
    method: string,
    path: string,
    template: string,
    query: URLSearchParams,
    body: Record<string, unknown>,
    who: Caller,
  ): Promise<[number, unknown, Record<string, string>?]> {
    const { login, appId } = who;
    const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
    const key = `${method} ${template}`;
    if (key === 'GET /user') return [200, { ...this.userJson(login), name: login }, { 'x-oauth-scopes': 'repo, read:org' }];
    const full = `${parts[1]}/${parts[2]}`;
    const repo = this.repo(full);
    if (!repo) return [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }];
    const pulls = this.pulls.get(full)!;
    const pullOf = async (n: string | undefined) => {
      const p = pulls.find((x) => x.number === Number(n));
      if (p) await this.refresh(repo, p);
      return p;
    };
    const notFound: [number, unknown] = [404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' }];
    switch (key) {
      case 'GET /repos/{owner}/{repo}':
        return [200, this.repoJson(repo, login)];
      case 'POST /repos/{owner}/{repo}/forks': {
        const forkName = `${login}/${repo.name}`;
        if (!this.repos.has(forkName)) {
          const dir = join(this.root, 'repos', login, `${repo.name}.git`);
          await mkdir(join(this.root, 'repos', login), { recursive: true });
          await git(['clone', '--quiet', '--bare', repo.dir, dir], { cwd: this.root });
          await this.configure(dir);
          const readyAt = Date.now() + this.forkDelayMs;
          this.repos.set(forkName, {
            owner: login,
            name: repo.name,
            id: this.nextId++,
            dir,
            roles: new Map([[login, 'admin']]),
            settings: { ...repo.settings },
            protection: new Map(),
            parent: full,
            createdAt: now(),
            readyAt,
          });
        }
        return [202, this.repoJson(this.repos.get(forkName)!, login)];
      }
      case 'GET /repos/{owner}/{repo}/pulls': {
        const state = query.get('state') ?? 'open';
        const head = query.get('head');
        let list = [];
        for (const p of pulls) {
          await this.refresh(repo, p);
          if (state !== 'all' && p.state !== state) continue;
          if (head && `${p.headRepo?.split('/')[0]}:${p.headRef}` !== head) continue;
          list.push(p);
        }
        const [pageItems, headers] = this.page(path, query, list.sort((a, b) => b.number - a.number));
        return [200, pageItems.map((p) => this.pullJson(repo, p, login)), headers];
      }
      case 'POST /repos/{owner}/{repo}/pulls': {
        const [headOwner, headRef] = String(body.head).includes(':') ? String(body.head).split(':') : [repo.owner, String(body.head)];
        const headRepo = headOwner === repo.owner ? repo : [...this.repos.values()].find((r) => r.owner === headOwner && r.parent === full);
        const sha = headRepo ? await resolveRev(headRepo.dir, `refs/heads/${headRef}`) : undefined;
        if (!headRepo || !sha) return [422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'head', code: 'invalid' }], documentation_url: 'https://docs.github.com/rest' }];
        if (pulls.some((p) => p.state === 'open' && p.headRepo === `${headRepo.owner}/${headRepo.name}` && p.headRef === headRef)) {
          return [422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${headOwner}:${headRef}.` }], documentation_url: 'https://docs.github.com/rest' }];
        }
        const baseRef = String(body.base);
        const baseSha = await resolveRev(repo.dir, `refs/heads/${baseRef}`);
        if (!baseSha) return [422, { message: 'Validation Failed', errors: [{ resource: 'PullRequest', field: 'base', code: 'invalid' }], documentation_url: 'https://docs.github.com/rest' }];
        const pull = await this.addPull(repo, { title: String(body.title), body: String(body.body ?? ''), user: login, baseRef, base: baseSha, headRepo: `${headRepo.owner}/${headRepo.name}`, headRef: headRef! });
        return [201, await this.pullDetail(repo, pull, login)];
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}': {
        const p = await pullOf(parts[4]);
        return p ? [200, await this.pullDetail(repo, p, login)] : notFound;
      }
      case 'PATCH /repos/{owner}/{repo}/pulls/{pull_number}': {
        const p = await pullOf(parts[4]);
        if (!p) return notFound;
        // The author may edit and close their own PR; closing another's needs triage, editing it write.
        const allowed = p.user === login || (this.can(repo, who, 'triage') && body.title === undefined && body.body === undefined) || this.can(repo, who, 'write');
        if (!allowed) return [403, { message: 'Must have admin rights to Repository.', documentation_url: 'https://docs.github.com/rest' }];
        if (typeof body.title === 'string') p.title = body.title;
        if (typeof body.body === 'string') p.body = body.body;
        if (body.state === 'closed' && p.state === 'open') {
          p.state = 'closed';
          p.closedAt = now();
        }
        p.updatedAt = now();
        return [200, await this.pullDetail(repo, p, login)];
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}/files': {
        const p = await pullOf(parts[4]);
        if (!p) return notFound;
        const all = p.changed.map((f) => ({ sha: '0'.repeat(40), filename: f.path, status: f.status, additions: 0, deletions: 0, changes: 0, blob_url: `${this.url}/blob`, raw_url: `${this.url}/raw`, contents_url: `${this.apiUrl}/contents` }));
        // "Responses include a maximum of 3000 files" (docs.github.com/en/rest/pulls/pulls#list-pull-requests-files).
        const [files, headers] = this.page(path, query, all, 3000);
        return [200, files, headers];
      }
      case 'GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews': {
        const p = await pullOf(parts[4]);
        if (!p) return notFound;
        const [items, headers] = this.page(path, query, this.reviews.filter((r) => r.repo === full && r.pull === p.number));
        return [200, items.map((r) => this.reviewJson(repo, r)), headers];
      }
      case 'POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews': {
        const p = await pullOf(parts[4]);
        if (!p) return notFound;
        const event = String(body.event ?? 'PENDING');
        if (p.user === login && event !== 'COMMENT') {
          const what = event === 'APPROVE' ? 'approve' : 'request changes on';
          return [422, { message: 'Unprocessable Entity', errors: [`Can not ${what} your own pull request`], documentation_url: 'https://docs.github.com/rest' }];
        }
        if (event === 'REQUEST_CHANGES' && !body.body) {
          return [422, { message: 'Unprocessable Entity', errors: ['Review body is required'], documentation_url: 'https://docs.github.com/rest' }];
        }
        const state = event === 'APPROVE' ? 'APPROVED' : event === 'REQUEST_CHANGES' ? 'CHANGES_REQUESTED' : 'COMMENTED';
        // commit_id: "The SHA of the commit that needs a review ... Defaults to the most recent commit
        // in the pull request" (docs.github.com/en/rest/pulls/reviews#create-a-review-for-a-pull-request);
        // a commit that is not part of the pull request is refused.
        let commit = p.headSha;
        if (body.commit_id !== undefined) {
          const id = String(body.commit_id);
          const known = /^[0-9a-f]{40}$/.test(id) && p.headSha && (await git(['merge-base', '--is-ancestor', id, p.headSha], { cwd: repo.dir, okCodes: [1, 128] })).code === 0;
          if (!known) return [422, { message: 'Unprocessable Entity', errors: ['Commit id could not be resolved or is not part of the pull request'], documentation_url: 'https://docs.github.com/rest' }];
          commit = id;
        }
        const review = { id: this.nextId++, repo: full, pull: p.number, user: login, state, body: String(body.body ?? ''), submittedAt: now(), commit };
        this.reviews.push(review);
        await this.runAutoMerges(repo);
        return [200, this.reviewJson(repo, review)];
      }
      case 'PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge': {
        const p = await pullOf(parts[4]);
        if (!p) return notFound;
        // Merging needs the write role.
        if (!this.can(repo, who, 'write')) return [403, { message: 'Must have write access to merge.', documentation_url: 'https://docs.github.com/rest' }];
        if (p.state !== 'open') return [405, { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest' }];
        // Only the merge methods the repository allows (docs.github.com/en/repositories/
        // configuring-branches-and-merges-in-your-repository/configuring-pull-request-merges/
        // about-merge-methods-on-github); the others answer 405.
        const method = (body.merge_method ?? 'merge') as MergeMethod;
        if (!allowsMethod(repo.settings, method)) return [405, { message: METHOD_REFUSED[method], documentation_url: 'https://docs.github.com/rest' }];
        if (body.sha && body.sha !== p.headSha) return [409, { message: 'Head branch was modified. Review and try the merge again.', documentation_url: 'https://docs.github.com/rest' }];
        const refusal = await this.protectionRefusal(repo, p, login);
        if (refusal) return [405, { message: refusal, documentation_url: 'https://docs.github.com/rest' }];
        const tip = (await resolveRev(repo.dir, `refs/heads/${p.baseRef}`))!;
        const merged = await mergeTrees(repo.dir, tip, p.headSha);
        if ('conflicts' in merged) return [405, { message: 'Pull Request is not mergeable', documentation_url: 'https://docs.github.com/rest' }];
        const sha = await this.mergeCommits(repo, p, tip, merged.tree, method, login);
        await git(['update-ref', `refs/heads/${p.baseRef}`, sha, tip], { cwd: repo.dir });
        this.pushed(repo, p.baseRef, login, appId);
        const stamp = now();
        Object.assign(p, { state: 'closed', mergedAt: stamp, closedAt: stamp, updatedAt: stamp, mergedBy: login, mergeSha: sha });
        return [200, { sha, merged: true, message: 'Pull Request successfully merged' }];
      }
      case 'PUT /repos/{owner}/{repo}/pulls/{pull_number}/update-branch': {
        // "Updates the pull request branch with the latest upstream changes by merging HEAD from
        // the base branch into the pull request branch" (docs.github.com/en/rest/pulls/pulls
        // #update-a-pull-request-branch): a push to the head repository, by someone who may push there.
        const p = await pullOf(parts[4]);
        if (!p) return notFound;
        const head = p.headRepo ? this.repos.get(p.headRepo) : undefined;
        if (p.state !== 'open' || !head) return [422, { message: 'Pull request is not open or its head repository is gone.', documentation_url: 'https://docs.github.com/rest' }];
        if (!this.can(head, who, 'write')) return [403, { message: `Must have push access to ${p.headRepo} to update the pull request branch.`, documentation_url: 'https://docs.github.com/rest' }];
        if (body.expected_head_sha && body.expected_head_sha !== p.headSha) return [422, { message: "expected head sha didn't match current head ref.", documentation_url: 'https://docs.github.com/rest' }];
        if (!(await this.behind(repo, p))) return [422, { message: 'There are no new commits on the base branch.', documentation_url: 'https://docs.github.com/rest' }];
        const tip = (await resolveRev(repo.dir, `refs/heads/${p.baseRef}`))!;
        if (head !== repo) await git(['fetch', '--quiet', repo.dir, tip], { cwd: head.dir });
        const merged = await mergeTrees(head.dir, p.headSha, tip);
        if ('conflicts' in merged) return [422, { message: 'merge conflict between base and head', documentation_url: 'https://docs.github.com/rest' }];
        const id = commitIdentity(login);
        const env = { GIT_AUTHOR_NAME: id.name, GIT_AUTHOR_EMAIL: id.email, GIT_COMMITTER_NAME: id.name, GIT_COMMITTER_EMAIL: id.email };
        const sha = await gitText(['commit-tree', merged.tree, '-p', p.headSha, '-p', tip, '-m', `Merge branch '${p.baseRef}' into ${p.headRef}`], { cwd: head.dir, env });
        await git(['update-ref', `refs/heads/${p.headRef}`, sha, p.headSha], { cwd: head.dir });
        this.pushed(head, p.headRef, login, appId);
        await this.refresh(repo, p);
        return [202, { message: 'Updating pull request branch.', url: `${this.url}/${full}/pull/${p.number}` }];
      }
      case 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const n = Number(parts[4]);
        if (!pulls.some((p) => p.number === n)) return notFound;
        const [items, headers] = this.page(path, query, this.comments.filter((c) => c.issue === n));
        return [200, items.map((c) => this.commentJson(repo, c)), headers];
      }
      case 'POST /repos/{owner}/{repo}/issues/{issue_number}/comments': {
        const n = Number(parts[4]);
        if (!pulls.some((p) => p.number === n)) return notFound;
        const c = { id: this.nextId++, issue: n, user: login, body: String(body.body), createdAt: now(), updatedAt: now() };
        this.comments.push(c);
        return [201, this.commentJson(repo, c)];
      }
      case 'PATCH /repos/{owner}/{repo}/issues/comments/{comment_id}': {
        const c = this.comments.find((x) => x.id === Number(parts[5]));
        if (!c) return notFound;
        if (c.user !== login) return [403, { message: 'Forbidden', documentation_url: 'https://docs.github.com/rest' }];
        Object.assign(c, { body: String(body.body), updatedAt: now() });
        return [200, this.commentJson(repo, c)];
      }
      case 'GET /repos/{owner}/{repo}/git/ref/{ref}': {
        const ref = parts.slice(5).join('/');
        const sha = await resolveRev(repo.dir, `refs/${ref}`);
        if (!sha) return notFound;
        return [200, { ref: `refs/${ref}`, node_id: `REF_${sha.slice(0, 8)}`, url: `${this.apiUrl}/repos/${full}/git/refs/${ref}`, object: { type: 'commit', sha, url: `${this.apiUrl}/repos/${full}/git/commits/${sha}` } }];
      }
      case 'POST /repos/{owner}/{repo}/statuses/{sha}': {
        // "Users with push access in a repository can create commit statuses" (docs.github.com/en/rest/commits/statuses).
        if (!this.can(repo, who, 'write')) return notFound;
        const status = { repo: full, sha: parts[4]!, context: String(body.context ?? 'default'), state: String(body.state), ...(appId ? { appId } : {}) };
        this.statuses.push(status);
        await this.runAutoMerges(repo);
        return [201, { id: this.nextId++, state: status.state, context: status.context, creator: this.userJson(login), created_at: now(), updated_at: now() }];
      }
      case 'POST /repos/{owner}/{repo}/actions/workflows/{workflow_id}/dispatches': {
        // docs.github.com/en/rest/actions/workflows#create-a-workflow-dispatch-event: needs write
        // (a workflow token with `actions: write`); the workflow must listen to workflow_dispatch.
        if (!this.can(repo, who, 'write')) return [403, { message: 'Resource not accessible by integration', documentation_url: 'https://docs.github.com/rest' }];
        const workflow = parts[5]!;
        const ref = String(body.ref).replace(/^refs\/heads\//, '');
        const file = await gitText(['show', `refs/heads/${ref}:.github/workflows/${workflow}`], { cwd: repo.dir }).catch(() => undefined);
        if (file === undefined) return notFound;
        if (!('workflow_dispatch' in ((parseYaml(file) as { on?: object }).on ?? {}))) return [422, { message: "Workflow does not have 'workflow_dispatch' trigger", documentation_url: 'https://docs.github.com/rest' }];
        this.events.push({ repo: full, event: 'workflow_dispatch', ref: `refs/heads/${ref}`, actor: login, workflow, ...(appId ? { appId } : {}) });
        return [204, undefined];
      }
      case 'POST /repos/{owner}/{repo}/check-runs': {
        // "To create a check run, you must use a GitHub App. OAuth apps and authenticated users
        // are not able to create a check suite." (docs.github.com/en/rest/checks/runs#create-a-check-run)
        if (!appId) return [403, { message: 'You must authenticate via a GitHub App.', documentation_url: 'https://docs.github.com/rest' }];
        const run = {
          id: this.nextId++,
          repo: full,
          sha: String(body.head_sha),
          name: String(body.name),
          status: String(body.status ?? (body.conclusion ? 'completed' : 'queued')),
          conclusion: body.conclusion === undefined ? null : String(body.conclusion),
          appId,
        };
        this.checkRuns.push(run);
        await this.runAutoMerges(repo);
        return [201, { id: run.id, head_sha: run.sha, node_id: `CR_${run.id}`, name: run.name, status: run.status, conclusion: run.conclusion, app: { id: appId, slug: login.replace(/\[bot\]$/, ''), name: login } }];
      }
      case 'GET /repos/{owner}/{repo}/branches/{branch}/protection': {
        if (!this.can(repo, who, 'admin')) return [403, { message: 'Must have admin rights to Repository.', documentation_url: 'https://docs.github.com/rest' }];
        const branch = parts[4]!;
        const protection = repo.protection.get(branch);
        if (!protection) return [404, { message: 'Branch not protected', documentation_url: 'https://docs.github.com/rest' }];
        return [200, this.protectionJson(full, branch, protection)];
      }
      case 'PUT /repos/{owner}/{repo}/branches/{branch}/protection': {
        // docs.github.com/en/rest/branches/branch-protection#update-branch-protection: admins only;
        // every top-level key is given, null to turn that part off.
        if (!this.can(repo, who, 'admin')) return [403, { message: 'Must have admin rights to Repository.', documentation_url: 'https://docs.github.com/rest' }];
        const branch = parts[4]!;
        if (!(await resolveRev(repo.dir, `refs/heads/${branch}`))) return [404, { message: 'Branch not found', documentation_url: 'https://docs.github.com/rest' }];
        const checks = body.required_status_checks as { strict: boolean; contexts: string[]; checks?: Array<{ context: string; app_id?: number }> } | null;
        const reviews = body.required_pull_request_reviews as { dismiss_stale_reviews?: boolean; required_approving_review_count?: number } | null;
        const protection: Protection = {
          strict: Boolean(checks?.strict),
          // "Omit [app_id] to automatically select the GitHub App that has recently provided this
          // check, or any app if it was not set by a GitHub App. Pass -1 to explicitly allow any app."
          checks: checks
            ? (checks.checks ?? checks.contexts.map((context): { context: string; app_id?: number } => ({ context }))).map((c) => ({ context: c.context, appId: c.app_id === undefined || c.app_id === -1 ? null : c.app_id }))
            : [],
          enforceAdmins: Boolean(body.enforce_admins),
          reviews: reviews ? { dismissStale: Boolean(reviews.dismiss_stale_reviews), requiredApprovals: reviews.required_approving_review_count ?? 0 } : null,
        };
        repo.protection.set(branch, protection);
        return [200, this.protectionJson(full, branch, protection)];
      }
      case 'PATCH /repos/{owner}/{repo}': {
        // docs.github.com/en/rest/repos/repos#update-a-repository: the merge settings and the default branch.
        if (!this.can(repo, who, 'admin')) return [403, { message: 'Must have admin rights to Repository.', documentation_url: 'https://docs.github.com/rest' }];
        const next = { ...repo.settings };
        if (typeof body.allow_merge_commit === 'boolean') next.allowMergeCommit = body.allow_merge_commit;
        if (typeof body.allow_squash_merge === 'boolean') next.allowSquashMerge = body.allow_squash_merge;
        if (typeof body.allow_rebase_merge === 'boolean') next.allowRebaseMerge = body.allow_rebase_merge;
        if (typeof body.allow_auto_merge === 'boolean') next.allowAutoMerge = body.allow_auto_merge;
        if (typeof body.default_branch === 'string') {
          if (!(await resolveRev(repo.dir, `refs/heads/${body.default_branch}`))) return [422, { message: 'Validation Failed', errors: [{ resource: 'Repository', field: 'default_branch', code: 'invalid' }], documentation_url: 'https://docs.github.com/rest' }];
          next.defaultBranch = body.default_branch;
          await git(['symbolic-ref', 'HEAD', `refs/heads/${body.default_branch}`], { cwd: repo.dir });
        }
        if (!next.allowMergeCommit && !next.allowSquashMerge && !next.allowRebaseMerge) {
          return [422, { message: 'Validation Failed', errors: [{ resource: 'Repository', code: 'custom', message: 'Sorry, you need to allow at least one merge strategy. (no_merge_method)' }], documentation_url: 'https://docs.github.com/rest' }];
        }
        repo.settings = next;
        return [200, this.repoJson(repo, login)];
      }
      case 'GET /repos/{owner}/{repo}/pages': {
        if (!repo.pages) return notFound;
        return [200, this.pagesJson(full, repo.pages)];
      }
      case 'POST /repos/{owner}/{repo}/pages': {
        // docs.github.com/en/rest/pages/pages#create-a-github-pages-site: a site built by a
        // workflow (build_type "workflow") or from a branch (source).
        if (!this.can(repo, who, 'admin')) return [403, { message: 'Must have admin rights to Repository.', documentation_url: 'https://docs.github.com/rest' }];
        if (repo.pages) return [409, { message: 'GitHub Pages is already enabled.', documentation_url: 'https://docs.github.com/rest' }];
        const source = body.source as { branch?: string } | undefined;
        repo.pages = { buildType: body.build_type === 'workflow' ? 'workflow' : 'legacy', branch: source?.branch ?? repo.settings.defaultBranch };
        return [201, this.pagesJson(full, repo.pages)];
      }
      case 'PUT /repos/{owner}/{repo}/pages': {
        if (!this.can(repo, who, 'admin')) return [403, { message: 'Must have admin rights to Repository.', documentation_url: 'https://docs.github.com/rest' }];
        if (!repo.pages) return notFound;
        if (body.build_type === 'workflow' || body.build_type === 'legacy') repo.pages.buildType = body.build_type;
        return [204, undefined];
      }
      default:
        this.violations.push(`stand-in does not implement ${key}`);
        return [501 as number, { message: 'not implemented by the stand-in' }];
    }
  }

  /** Whether the PR's head lacks its base branch's tip ("behind" in GitHub's merge state). */
  private async behind(repo: Repo, p: StandInPull): Promise<boolean> {
    const tip = await resolveRev(repo.dir, `refs/heads/${p.baseRef}`);
    if (!tip || !p.headSha) return false;
    const r = await git(['merge-base', '--is-ancestor', tip, p.headSha], { cwd: repo.dir, okCodes: [1] });
    return r.code === 1;
  }

  /**
   * The required checks not passing on `sha`: a commit status with the check's context or a check
   * run with its name, from the app the check is pinned to (any source when it is not), the
   * latest of them deciding (docs.github.com/en/repositories/configuring-branches-and-merges-in-
   * your-repository/managing-protected-branches/about-protected-branches#require-status-checks-
   * before-merging). A status a person posts with their own token comes from no app.
   */
  private unmetChecks(full: string, protection: Protection, sha: string): Array<{ context: string; state: string }> {
    const out: Array<{ context: string; state: string }> = [];
    for (const check of protection.checks) {
      const from = (source?: number) => check.appId === null || source === check.appId;
      const status = this.statuses.filter((x) => x.repo === full && x.sha === sha && x.context === check.context && from(x.appId)).at(-1);
      const run = this.checkRuns.filter((x) => x.repo === full && x.sha === sha && x.name === check.context && from(x.appId)).at(-1);
      const passed = status?.state === 'success' || (run?.status === 'completed' && ['success', 'neutral', 'skipped'].includes(run.conclusion ?? ''));
      if (passed) continue;
      out.push({ context: check.context, state: run ? (run.status === 'completed' ? 'failing' : 'pending') : status ? (status.state === 'pending' ? 'pending' : 'failing') : 'expected' });
    }
    return out;
  }

  /** Why branch protection refuses to merge the PR now, or undefined. */
  private async protectionRefusal(repo: Repo, p: StandInPull, login: string): Promise<string | undefined> {
    const protection = repo.protection.get(p.baseRef);
    if (!protection) return undefined;
    // Without "enforce_admins", administrators merge past the protection.
    if (!protection.enforceAdmins && this.can(repo, login, 'admin')) return undefined;
    const full = `${repo.owner}/${repo.name}`;
    const checks = protection.checks.length;
    // "Require branches to be up to date before merging": while the PR is behind, its checks are
    // expected again on an updated head.
    if (protection.strict && checks && (await this.behind(repo, p))) return `${checks} of ${checks} required status checks are expected.`;
    const unmet = this.unmetChecks(full, protection, p.headSha);
    if (unmet.length === 1) return `Required status check "${unmet[0]!.context}" is ${unmet[0]!.state}.`;
    if (unmet.length > 1) {
      const states = new Set(unmet.map((u) => u.state));
      return `${unmet.length} of ${checks} required status checks ${states.size === 1 ? `are ${unmet[0]!.state}` : 'have not succeeded'}.`;
    }
    const required = protection.reviews?.requiredApprovals ?? 0;
    if (required > 0) {
      const latest = new Map<string, string>();
      for (const r of this.reviews) if (r.repo === full && r.pull === p.number && r.state !== 'COMMENTED') latest.set(r.user, r.state);
      const approvals = [...latest].filter(([user, state]) => state === 'APPROVED' && this.can(repo, user, 'write')).length;
      if (approvals < required) return `At least ${required} approving review${required > 1 ? 's are' : ' is'} required by reviewers with write access.`;
    }
    return undefined;
  }

  /** GitHub's merge state of an open PR: dirty (conflicts), behind, blocked, or clean. */
  private async mergeState(repo: Repo, p: StandInPull): Promise<{ mergeable: boolean | null; state: string }> {
    if (p.state !== 'open') return { mergeable: null, state: 'unknown' };
    const tip = (await resolveRev(repo.dir, `refs/heads/${p.baseRef}`))!;
    if ('conflicts' in (await mergeTrees(repo.dir, tip, p.headSha))) return { mergeable: false, state: 'dirty' };
    const protection = repo.protection.get(p.baseRef);
    if (protection?.strict && protection.checks.length && (await this.behind(repo, p))) return { mergeable: true, state: 'behind' };
    if (protection && (await this.protectionRefusal(repo, p, ''))) return { mergeable: true, state: 'blocked' };
    return { mergeable: true, state: 'clean' };
  }

  /** The commit a merge leaves on the base branch, by method. */
  private async mergeCommits(repo: Repo, p: StandInPull, tip: string, tree: string, method: MergeMethod, login: string): Promise<string> {
    const id = commitIdentity(login);
    const env = { GIT_AUTHOR_NAME: id.name, GIT_AUTHOR_EMAIL: id.email, GIT_COMMITTER_NAME: id.name, GIT_COMMITTER_EMAIL: id.email };
    if (method === 'merge') {
      return gitText(['commit-tree', tree, '-p', tip, '-p', p.headSha, '-m', `Merge pull request #${p.number} from ${p.headRepo?.split('/')[0]}/${p.headRef}\n\n${p.title}`], { cwd: repo.dir, env });
    }
    if (method === 'squash') return gitText(['commit-tree', tree, '-p', tip, '-m', `${p.title} (#${p.number})`], { cwd: repo.dir, env });
    // rebase: each of the PR's commits replayed on the base branch, authors kept.
    let current = tip;
    const commits = (await gitText(['rev-list', '--reverse', '--topo-order', p.headSha, `^${tip}`], { cwd: repo.dir })).split('\n').filter(Boolean);
    for (const c of commits) {
      const step = await mergeTrees(repo.dir, current, c);
      if ('conflicts' in step) throw new Error(`stand-in: rebase of ${c} conflicts`);
      const [name, email, date, message] = (await gitText(['show', '-s', '--format=%an%x00%ae%x00%aI%x00%B', c], { cwd: repo.dir })).split('\0');
      current = await gitText(['commit-tree', step.tree, '-p', current, '-m', message!.trim() || 'commit'], {
        cwd: repo.dir,
        env: { ...env, GIT_AUTHOR_NAME: name!, GIT_AUTHOR_EMAIL: email!, GIT_AUTHOR_DATE: date! },
      });
    }
    return current;
  }

  private protectionJson(full: string, branch: string, p: Protection) {
    const url = `${this.apiUrl}/repos/${full}/branches/${branch}/protection`;
    return {
      url,
      required_status_checks: {
        url: `${url}/required_status_checks`,
        strict: p.strict,
        contexts: p.checks.map((c) => c.context),
        checks: p.checks.map((c) => ({ context: c.context, app_id: c.appId })),
        contexts_url: `${url}/required_status_checks/contexts`,
      },
      enforce_admins: { url: `${url}/enforce_admins`, enabled: p.enforceAdmins },
      ...(p.reviews
        ? {
            required_pull_request_reviews: {
              url: `${url}/required_pull_request_reviews`,
              dismiss_stale_reviews: p.reviews.dismissStale,
              require_code_owner_reviews: false,
              required_approving_review_count: p.reviews.requiredApprovals,
            },
          }
        : {}),
    };
  }

  private pagesJson(full: string, pages: NonNullable<Repo['pages']>) {
    const [owner, name] = full.split('/');
    return {
      url: `${this.apiUrl}/repos/${full}/pages`,
      status: 'built',
      cname: null,
      custom_404: false,
      html_url: `https://${owner}.github.io/${name}/`,
      build_type: pages.buildType,
      source: { branch: pages.branch, path: '/' },
      public: true,
      https_enforced: true,
    };
  }

  /**
   * How GitHub labels a user's relation to the repository on a review or comment: OWNER, a
   * COLLABORATOR (given a role), a CONTRIBUTOR (has had a PR merged), else NONE
   * (docs.github.com/en/graphql/reference/enums#commentauthorassociation).
   */
  private association(repo: Repo, login: string): string {
    if (login === repo.owner) return 'OWNER';
    if (repo.roles.has(login)) return 'COLLABORATOR';
    if ((this.pulls.get(`${repo.owner}/${repo.name}`) ?? []).some((p) => p.user === login && p.mergedAt)) return 'CONTRIBUTOR';
    return 'NONE';
  }

  private reviewJson(repo: Repo, r: StandInReview) {
    return {
      id: r.id,
      node_id: `PRR_${r.id}`,
      user: this.userJson(r.user),
      body: r.body,
      state: r.state,
      html_url: `${this.url}/${repo.owner}/${repo.name}/pull/${r.pull}#pullrequestreview-${r.id}`,
      pull_request_url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/pulls/${r.pull}`,
      submitted_at: r.submittedAt,
      commit_id: r.commit,
      author_association: this.association(repo, r.user),
      _links: { html: { href: `${this.url}/x` }, pull_request: { href: `${this.url}/x` } },
    };
  }

  private commentJson(repo: Repo, c: StandInComment) {
    return {
      id: c.id,
      node_id: `IC_${c.id}`,
      url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/issues/comments/${c.id}`,
      html_url: `${this.url}/${repo.owner}/${repo.name}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${this.apiUrl}/repos/${repo.owner}/${repo.name}/issues/${c.issue}`,
      body: c.body,
      user: this.userJson(c.user),
      created_at: c.createdAt,
      updated_at: c.updatedAt,
      author_association: this.association(repo, c.user),
    };
  }
}

type MergeMethod = 'merge' | 'squash' | 'rebase';

const METHOD_REFUSED: Record<MergeMethod, string> = {
  merge: 'Merge commits are not allowed on this repository.',
  squash: 'Squash merges are not allowed on this repository.',
  rebase: 'Rebase merges are not allowed on this repository.',
};

function allowsMethod(settings: RepoSettings, method: MergeMethod): boolean {
  return method === 'merge' ? settings.allowMergeCommit : method === 'squash' ? settings.allowSquashMerge : settings.allowRebaseMerge;
}

/** A pull request's GraphQL node id, unique across repositories. */
function pullNodeId(repoId: number, number: number): string {
  return `PR_${repoId}_${number}`;
}

function now(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function hashId(text: string): number {
  let h = 7;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) % 1_000_000_007;
  return h;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
