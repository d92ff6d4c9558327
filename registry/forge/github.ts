// The GitHub forge: REST through octokit (with its retry and throttling plugins), git over HTTPS
// through the forges' one git runner (git.ts). The registry is cloned partially (no blobs until needed, a sparse checkout of
// the paths a command reads), a change is built with plumbing (no working-tree edits), pushed to
// the registry or, when the user cannot push there, to their fork, and opened as one PR per change.
//
// The token never leaves memory: git receives it as an HTTP header through GIT_CONFIG_* variables
// of its own environment (not argv, not .git/config), and messages are built from status codes and
// GitHub's error text, never from request objects.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { load } from 'js-yaml';
import lockfile from 'proper-lockfile';
import { MedperfError } from '../errors.ts';
import type { FileTree } from '../view.ts';
import { AuthError, movedOn, NonFastForwardError, NotPermittedError, PullNotOpenError, ReviewRefusedError } from './errors.ts';
import {
  type AuthStatus,
  branchFor,
  type ChangeRequest,
  commentMarker,
  type FileChange,
  type Forge,
  type MergeResult,
  type ProposeResult,
  type PullFilter,
  type PullRequest,
  type PullState,
  type Review,
  type ReviewEvent,
  touchesAny,
} from './forge.ts';
import {
  type ApiPull,
  apiFailure,
  applyProtection,
  getPull,
  type GitHub,
  listComments,
  mergePull,
  updatePullBranch,
  pullFiles,
  pullReviews,
  readProtection,
  restClient,
  upsertComment,
} from './github-rest.ts';
import { desiredProtection, type ProtectionChange, protectionChanges } from '../protection.ts';
import { commitChange, diffPaths, git, GitError, gitText, resolveRev, revTree, treeOf } from './git.ts';

export interface GitHubForgeOptions {
  owner: string;
  repo: string;
  /** REST base URL (https://api.github.com, https://HOST/api/v3). */
  apiUrl: string;
  /** Git base URL (https://github.com, https://HOST). */
  serverUrl: string;
  env: NodeJS.ProcessEnv;
  /** Where clones live (<state>/clones). */
  clonesDir: string;
  /** Retry timing in ms per second of back-off GitHub asks for (tests shorten it). */
  retryUnitMs?: number;
  /** How many times a failing request is retried (default 3). */
  retries?: number;
  /** How long to wait for a new fork to appear (GitHub makes forks asynchronously; default 5 minutes). */
  forkWaitMs?: number;
  /** Least time between two writes (GitHub asks for 1 s, 3 s for those that notify; tests shorten it). */
  writeIntervalMs?: number;
}

export interface Token {
  token: string;
  source: string;
}

/** The token: $GITHUB_TOKEN, then $GH_TOKEN, then the GitHub CLI's stored login for the host. */
export async function findToken(env: NodeJS.ProcessEnv, host: string): Promise<Token | undefined> {
  if (env.GITHUB_TOKEN) return { token: env.GITHUB_TOKEN, source: 'GITHUB_TOKEN' };
  if (env.GH_TOKEN) return { token: env.GH_TOKEN, source: 'GH_TOKEN' };
  const dir = env.GH_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), 'gh');
  const file = join(dir, 'hosts.yml');
  if (!existsSync(file)) return undefined;
  const hosts = load(await readFile(file, 'utf8')) as Record<string, { oauth_token?: string }> | null;
  const token = hosts?.[host]?.oauth_token;
  return token ? { token, source: `gh CLI (${file})` } : undefined;
}

/** How long `updateBranch` waits for GitHub to make the new head: 20 polls, half a second apart. */
const UPDATE_POLLS = 20;
const UPDATE_POLL_MS = 500;

export class GitHubForge implements Forge {
  readonly kind = 'github' as const;
  readonly registry: string;
  login = '';
  private readonly octokit: GitHub;
  private readonly clone: string;
  private readonly gitEnvironment: NodeJS.ProcessEnv;
  private readonly filesCache = new Map<string, string[]>();
  private sparse = new Set<string>();
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly options: GitHubForgeOptions,
    private readonly token: Token,
  ) {
    this.registry = `${options.owner}/${options.repo}`;
    this.octokit = restClient({
      token: token.token,
      baseUrl: options.apiUrl,
      userAgent: 'medperf-git',
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      ...(options.retryUnitMs !== undefined ? { retryUnitMs: options.retryUnitMs } : {}),
      ...(options.writeIntervalMs !== undefined ? { writeIntervalMs: options.writeIntervalMs } : {}),
    });
    const host = new URL(options.serverUrl).host;
    this.clone = join(options.clonesDir, host, options.owner, options.repo);
    const basic = Buffer.from(`x-access-token:${token.token}`).toString('base64');
    // The header goes only to the forge's own host, and only through this environment.
    this.gitEnvironment = {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${options.serverUrl}/.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basic}`,
    };
  }

  static async open(options: GitHubForgeOptions): Promise<GitHubForge> {
    const host = new URL(options.serverUrl).host;
    const token = await findToken(options.env, host);
    if (!token) {
      throw new AuthError(`no GitHub token for ${host}: set GITHUB_TOKEN or GH_TOKEN, or log in with \`gh auth login\``);
    }
    const forge = new GitHubForge(options, token);
    const user = await forge.api('GET /user', () => forge.octokit.rest.users.getAuthenticated());
    forge.login = user.data.login;
    return forge;
  }

  // --- REST ----------------------------------------------------------------------------------

  /** Runs one API call; a failure (after octokit's retries) becomes a message a user can act on. */
  private async api<T>(what: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw apiFailure(what, error, this.token.token, this.options.apiUrl);
    }
  }

  private redact(text: string): string {
    return text.split(this.token.token).join('***');
  }

  private get repoParams() {
    return { owner: this.options.owner, repo: this.options.repo };
  }

  // --- git -----------------------------------------------------------------------------------

  private gitUrl(fullName: string): string {
    return `${this.options.serverUrl}/${fullName}.git`;
  }

  /** Runs git with the token's header; errors are scrubbed of anything token-like. */
  private async remoteGit(args: string[]): Promise<string> {
    try {
      return (await git(args, { cwd: this.clone, env: this.gitEnvironment })).stdout.toString('utf8');
    } catch (error) {
      throw new GitRemoteError(this.redact(error instanceof GitError ? error.stderr.trim() : (error as Error).message));
    }
  }

  private defaultBranch?: string;

  /** The registry's main line: the repository's default branch, whatever its name (read once). */
  private async branch(): Promise<string> {
    this.defaultBranch ??= (await this.api(`get ${this.registry}`, () => this.octokit.rest.repos.get(this.repoParams))).data.default_branch;
    return this.defaultBranch;
  }

  /** The clone's copy of the default branch (set by sync). */
  private get mainRef(): string {
    return `refs/remotes/origin/${this.defaultBranch ?? 'main'}`;
  }

  /** Clones (partially: no blobs) or fetches the default branch; checks out only `paths` (sparse). */
  private async sync(paths: string[] = []): Promise<void> {
    const branch = await this.branch();
    if (!existsSync(join(this.clone, '.git'))) {
      await mkdir(this.clone, { recursive: true });
      await this.remoteGit([
        'clone',
        '--quiet',
        '--filter=blob:none',
        '--no-checkout',
        '--sparse',
        '--branch',
        branch,
        this.gitUrl(this.registry),
        '.',
      ]).catch((error: Error) => {
        throw new MedperfError('clone-failed', `could not clone ${this.registry} from ${this.options.serverUrl}: ${error.message}`);
      });
    } else {
      await this.remoteGit(['fetch', '--quiet', 'origin', `+refs/heads/${branch}:${this.mainRef}`]);
    }
    for (const p of paths) this.sparse.add(p);
    // Only the sparse paths are checked out, so only their blobs are fetched (in one batch).
    const patterns = ['/registry.yaml', ...[...this.sparse].map((p) => '/' + p.replace(/^\/+/, ''))];
    await this.remoteGit(['sparse-checkout', 'set', '--no-cone', ...patterns]);
    await this.remoteGit(['checkout', '--quiet', '--detach', this.mainRef]);
  }

  /**
   * One commit of the clone. Listing reads trees only (all fetched); a blob outside the sparse
   * paths is fetched when first read, with the token's header.
   */
  private tree(rev: string): FileTree {
    return revTree(this.clone, rev, this.gitEnvironment);
  }

  /**
   * Runs `fn` alone on the clone: one at a time in this process (a command may read a PR's base
   * and head at once), and under a lock file against other processes sharing the state directory.
   */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await mkdir(dirname(this.clone), { recursive: true });
      const release = await lockfile.lock(dirname(this.clone), {
        lockfilePath: `${this.clone}.lock`,
        realpath: false,
        stale: 60_000,
        retries: { retries: 600, factor: 1, minTimeout: 100, maxTimeout: 100 },
      });
      try {
        return await fn();
      } finally {
        await release();
      }
    });
    this.queue = run.catch(() => {});
    return run;
  }

  async main(options: { paths?: string[] } = {}): Promise<FileTree> {
    return this.exclusive(() => this.mainUnlocked(options));
  }

  private async mainUnlocked(options: { paths?: string[] }): Promise<FileTree> {
    await this.sync(options.paths);
    const sha = await gitText(['rev-parse', this.mainRef], { cwd: this.clone });
    return this.tree(sha);
  }

  /** Fetches a PR's head commit (refs/pull/N/head, which GitHub keeps for forks too). */
  private async fetchPull(number: number): Promise<string> {
    if (!existsSync(join(this.clone, '.git'))) await this.sync();
    await this.remoteGit(['fetch', '--quiet', 'origin', `+refs/pull/${number}/head:refs/remotes/pull/${number}`]);
    return gitText(['rev-parse', `refs/remotes/pull/${number}`], { cwd: this.clone });
  }

  async pullTree(number: number): Promise<FileTree> {
    return this.exclusive(async () => this.tree(await this.fetchPull(number)));
  }

  async pullBase(number: number): Promise<FileTree> {
    return this.exclusive(async () => {
      const head = await this.fetchPull(number);
      await this.sync();
      const base = await gitText(['merge-base', this.mainRef, head], { cwd: this.clone });
      return this.tree(base);
    });
  }

  // --- pull requests -------------------------------------------------------------------------

  /**
   * The paths each PR changes, read from git objects: one fetch of every PR's head commit (trees
   * only, in this blob-less clone), then a local diff against where it branched off. No files
   * request per PR, and no cap: GitHub's files list stops at 3,000 entries. A PR whose base commit
   * is not in main's history (main rewritten) falls back to that list, which refuses to be partial.
   * Runs with the clone held (see `exclusive`).
   */
  private async pullPaths(pulls: ApiPull[]): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    const key = (p: ApiPull) => `${p.number}@${p.head.sha}`;
    const missing = pulls.filter((p) => {
      const cached = this.filesCache.get(key(p));
      if (cached) out.set(p.number, cached);
      return !cached;
    });
    if (!missing.length) return out;
    if (!existsSync(join(this.clone, '.git'))) await this.sync();
    for (let i = 0; i < missing.length; i += 200) {
      const refspecs = missing.slice(i, i + 200).map((p) => `+refs/pull/${p.number}/head:refs/remotes/pull/${p.number}`);
      await this.remoteGit(['fetch', '--quiet', '--no-tags', 'origin', ...refspecs]);
    }
    for (const p of missing) {
      const head = await resolveRev(this.clone, p.head.sha);
      const base = head ? await resolveRev(this.clone, p.base.sha) : undefined;
      let paths: string[];
      if (head && base) {
        const from = await gitText(['merge-base', base, head], { cwd: this.clone });
        paths = await diffPaths(this.clone, from, head);
      } else {
        const files = await this.api(`list files of PR #${p.number}`, () => pullFiles(this.octokit, this.repoParams, p));
        paths = [...new Set(files.map((f) => f.path))].sort();
      }
      this.filesCache.set(key(p), paths);
      out.set(p.number, paths);
    }
    return out;
  }

  private toPull(p: ApiPull, paths: string[]): PullRequest {
    const state: PullState = p.merged_at ? 'merged' : p.state === 'open' ? 'open' : 'closed';
    return {
      number: p.number,
      title: p.title,
      body: p.body ?? '',
      author: p.user?.login ?? 'ghost',
      state,
      branch: p.head.ref,
      headSha: p.head.sha,
      paths,
      url: p.html_url,
      createdAt: p.created_at,
      updatedAt: p.updated_at,
      ...(p.merged_at ? { mergedAt: p.merged_at } : {}),
      ...(p.closed_at ? { closedAt: p.closed_at } : {}),
    };
  }

  /** Pull requests with their paths; the caller holds the clone. */
  private async withPaths(pulls: ApiPull[]): Promise<PullRequest[]> {
    const paths = await this.pullPaths(pulls);
    return pulls.map((p) => this.toPull(p, paths.get(p.number)!));
  }

  private async getPullUnlocked(number: number): Promise<PullRequest> {
    return (await this.withPaths([await this.apiPull(number)]))[0]!;
  }

  private async apiPull(number: number): Promise<ApiPull> {
    return this.api(`get PR #${number} of ${this.registry}`, () => getPull(this.octokit, this.repoParams, number));
  }

  async getPull(number: number): Promise<PullRequest> {
    return this.exclusive(() => this.getPullUnlocked(number));
  }

  async listPulls(filter: PullFilter = {}): Promise<PullRequest[]> {
    const state = filter.state ?? 'open';
    const apiState = state === 'open' ? 'open' : state === 'all' ? 'all' : 'closed';
    const branch = await this.branch();
    const pulls = (await this.api(`list PRs of ${this.registry}`, () =>
      this.octokit.paginate(this.octokit.rest.pulls.list, { ...this.repoParams, state: apiState, base: branch, per_page: 100 }),
    )) as unknown as ApiPull[];
    const mine = pulls.filter((p) => !filter.author || p.user?.login === filter.author).sort((a, b) => a.number - b.number);
    const out: PullRequest[] = [];
    for (const pull of await this.exclusive(() => this.withPaths(mine))) {
      if (state !== 'all' && pull.state !== state) continue;
      if (filter.paths && !touchesAny(pull.paths, filter.paths)) continue;
      out.push(pull);
    }
    return out;
  }

  /** Where the user's branches go: the registry when they may push there, else their fork. */
  private async headRepo(): Promise<{ fullName: string; owner: string; fork: boolean; created?: boolean }> {
    const repo = await this.api(`get ${this.registry}`, () => this.octokit.rest.repos.get(this.repoParams));
    if (repo.data.permissions?.push) return { fullName: this.registry, owner: this.options.owner, fork: false };
    const forkName = `${this.login}/${this.options.repo}`;
    const existing = await this.octokit.rest.repos
      .get({ owner: this.login, repo: this.options.repo })
      .catch((error: { status?: number }) => (error.status === 404 ? undefined : Promise.reject(error)))
      .catch((error) => this.api(`get ${forkName}`, () => Promise.reject(error)));
    if (existing) {
      if (existing.data.fork && existing.data.parent?.full_name === this.registry) return { fullName: forkName, owner: this.login, fork: true };
      throw new MedperfError(
        'fork-name-taken',
        `${forkName} exists but is not a fork of ${this.registry}; rename it so medperf-git can fork the registry there`,
      );
    }
    // No fork (never made, or deleted): make one. GitHub creates it asynchronously.
    const created = await this.api(`fork ${this.registry}`, () => this.octokit.rest.repos.createFork(this.repoParams));
    const fullName = created.data.full_name;
    // "Forking a Repository happens asynchronously. You may have to wait a short period of time
    // before you can access the git objects. If this takes longer than 5 minutes, be sure to
    // contact GitHub Support." (docs.github.com/en/rest/repos/forks#create-a-fork)
    const deadline = Date.now() + (this.options.forkWaitMs ?? 300_000);
    for (let pause = 200; ; pause = Math.min(pause * 2, 5000)) {
      try {
        await this.remoteGit(['ls-remote', '--heads', this.gitUrl(fullName)]);
        return { fullName, owner: this.login, fork: true, created: true };
      } catch {
        if (Date.now() + pause > deadline) break;
        await new Promise((r) => setTimeout(r, pause));
      }
    }
    throw new MedperfError('fork-not-ready', `GitHub accepted the fork ${fullName} but it has not appeared after ${Math.round((this.options.forkWaitMs ?? 300_000) / 1000)} s; run the command again in a few minutes (nothing was pushed)`);
  }

  async propose(change: ChangeRequest): Promise<ProposeResult> {
    return this.exclusive(() => this.proposeUnlocked(change));
  }

  private async proposeUnlocked(change: ChangeRequest): Promise<ProposeResult> {
    const branch = branchFor(change.key);
    await this.sync(change.files.map((f) => f.path));
    const head = await this.headRepo();
    const headLabel = `${head.owner}:${branch}`;
    const open = (
      (await this.api(`list PRs of ${this.registry}`, () =>
        this.octokit.rest.pulls.list({ ...this.repoParams, state: 'open', head: headLabel, per_page: 100 }),
      )).data as unknown as ApiPull[]
    ).find((p) => p.head.ref === branch);
    const notes: string[] = [];
    if (!open && head.created) {
      // A PR whose fork was deleted keeps its branch name but has no head repository any more.
      const all = (await this.api(`list PRs of ${this.registry}`, () =>
        this.octokit.paginate(this.octokit.rest.pulls.list, { ...this.repoParams, state: 'open', per_page: 100 }),
      )) as unknown as ApiPull[];
      const orphan = all.find((p) => p.head.repo === null && p.head.ref === branch && p.user?.login === this.login);
      if (orphan) {
        notes.push(`the fork behind pull request #${orphan.number} was deleted; opening a new pull request from a new fork (close #${orphan.number})`);
      }
    }

    // The branch as the head repository has it now (missing when new, or after its fork was deleted).
    const remoteRef = `refs/remotes/medperf-head/${branch}`;
    await git(['update-ref', '-d', remoteRef], { cwd: this.clone, okCodes: [1] });
    try {
      await this.remoteGit(['fetch', '--quiet', this.gitUrl(head.fullName), `+refs/heads/${branch}:${remoteRef}`]);
    } catch (error) {
      if (!/couldn't find remote ref|not found/i.test((error as Error).message)) throw error;
    }
    const branchHead = await resolveRev(this.clone, remoteRef);
    const main = await gitText(['rev-parse', this.mainRef], { cwd: this.clone });
    const updating = Boolean(open && branchHead && branchHead === open.head.sha);
    if (open && !updating) {
      throw new NonFastForwardError(
        `pull request #${open.number}'s branch ${branch} on ${head.fullName} is not where GitHub says it is (someone pushed to it, or it was deleted); run the command again`,
      );
    }

    const base = updating ? await gitText(['merge-base', main, branchHead!], { cwd: this.clone }) : main;
    const baseTree = await treeOf(this.clone, base);
    const { commit, tree } = await commitChange({
      repo: this.clone,
      baseTree,
      parents: [updating ? branchHead! : main],
      files: change.files,
      message: change.title + (change.body ? `\n\n${change.body}` : ''),
      login: this.login,
    });
    if (tree === baseTree) {
      throw new MedperfError('no-change', `nothing to propose: main already holds exactly these files (${change.files.map((f) => f.path).join(', ')})`);
    }
    if (updating && open && tree === (await treeOf(this.clone, branchHead!))) {
      if (open.title !== change.title || (open.body ?? '') !== change.body) {
        await this.api(`update PR #${open.number}`, () =>
          this.octokit.rest.pulls.update({ ...this.repoParams, pull_number: open.number, title: change.title, body: change.body }),
        );
      }
      return { pull: await this.getPullUnlocked(open.number), created: false, pushed: false, notes };
    }
    // force-with-lease: replace only what we read (a stale branch of a closed PR), never someone's new push.
    const lease = `--force-with-lease=refs/heads/${branch}:${branchHead ?? ''}`;
    try {
      await this.remoteGit(['push', '--quiet', '--no-verify', lease, this.gitUrl(head.fullName), `${commit}:refs/heads/${branch}`]);
    } catch (error) {
      const message = (error as Error).message;
      if (/stale info|non-fast-forward|fetch first|rejected/i.test(message)) {
        throw new NonFastForwardError(
          `${head.fullName} branch ${branch} changed while proposing (someone else pushed to it); run the command again to propose on top of it`,
        );
      }
      if (/not found|404/i.test(message)) {
        throw new MedperfError('fork-missing', `${head.fullName} is gone (deleted fork?); run the command again to fork the registry anew`);
      }
      throw new MedperfError('push-failed', `could not push ${branch} to ${head.fullName}: ${message}`);
    }
    if (updating && open) {
      if (open.title !== change.title || (open.body ?? '') !== change.body) {
        await this.api(`update PR #${open.number}`, () =>
          this.octokit.rest.pulls.update({ ...this.repoParams, pull_number: open.number, title: change.title, body: change.body }),
        );
      }
      return { pull: await this.getPullUnlocked(open.number), created: false, pushed: true, notes };
    }
    const closed = (
      (await this.api(`list PRs of ${this.registry}`, () =>
        this.octokit.rest.pulls.list({ ...this.repoParams, state: 'closed', head: headLabel, per_page: 10 }),
      )).data as unknown as ApiPull[]
    ).filter((p) => p.head.ref === branch && !p.merged_at);
    if (closed.length) notes.push(`the previous pull request for this change, #${closed[0]!.number}, was closed (rejected); this opens a new one`);
    const baseBranch = await this.branch();
    const created = await this.api(`open a PR on ${this.registry}`, () =>
      this.octokit.rest.pulls.create({ ...this.repoParams, title: change.title, body: change.body, head: headLabel, base: baseBranch }),
    );
    this.filesCache.set(`${created.data.number}@${commit}`, await diffPaths(this.clone, base, commit));
    return { pull: (await this.withPaths([created.data as unknown as ApiPull]))[0]!, created: true, pushed: true, notes };
  }

  async commitToMain(files: FileChange[], message: string): Promise<string> {
    return this.exclusive(async () => {
      const repo = await this.api(`read ${this.registry}`, () => this.octokit.rest.repos.get(this.repoParams));
      if (!repo.data.permissions?.push) {
        throw new MedperfError('cannot-write-main', `${this.login} may not push to ${this.registry}: writing its main needs an admin with write access (nothing was written)`);
      }
      await this.sync(files.map((f) => f.path));
      const main = await gitText(['rev-parse', 'refs/remotes/origin/main'], { cwd: this.clone });
      const { commit } = await commitChange({ repo: this.clone, baseTree: await treeOf(this.clone, main), parents: [main], files, message, login: this.login });
      try {
        // Only over the main this commit was made on: a push in between is never overwritten.
        await this.remoteGit(['push', '--quiet', '--no-verify', `--force-with-lease=refs/heads/main:${main}`, this.gitUrl(this.registry), `${commit}:refs/heads/main`]);
      } catch (error) {
        const text = (error as Error).message;
        if (/stale info|non-fast-forward|fetch first/i.test(text)) throw new NonFastForwardError(`main of ${this.registry} moved while writing to it; run the command again (nothing was written)`);
        throw new MedperfError('cannot-write-main', `could not push to main of ${this.registry} (${text.trim().split('\n').pop()}); if main is protected, an admin allowed to push past the protection runs this (nothing was written)`);
      }
      await this.remoteGit(['fetch', '--quiet', 'origin', '+refs/heads/main:refs/remotes/origin/main']);
      return commit;
    });
  }

  async reviews(number: number): Promise<Review[]> {
    return this.api(`list reviews of PR #${number}`, () => pullReviews(this.octokit, this.repoParams, number));
  }

  async review(number: number, event: ReviewEvent, body = '', commit?: string): Promise<void> {
    const pull = await this.apiPull(number);
    if (pull.state !== 'open') throw new PullNotOpenError(`pull request #${number} is ${pull.merged_at ? 'merged' : 'closed'}; it can no longer be reviewed`);
    if (commit && commit !== pull.head.sha) throw movedOn(number, commit, pull.head.sha);
    try {
      // commit_id pins the review to the commit read, even if a push lands in between.
      await this.octokit.rest.pulls.createReview({ ...this.repoParams, pull_number: number, event, commit_id: pull.head.sha, ...(body ? { body } : {}) });
    } catch (error) {
      if ((error as { status?: number }).status === 422) {
        const message = (error as { response?: { data?: { message?: string; errors?: string[] } } }).response?.data;
        throw new ReviewRefusedError(`GitHub refused the review of #${number}: ${[message?.message, ...(message?.errors ?? [])].filter(Boolean).join('; ')}`);
      }
      await this.api(`review PR #${number}`, () => Promise.reject(error));
    }
  }

  async comments(number: number): Promise<Array<{ id: number; author: string; body: string }>> {
    const comments = await this.api(`list comments of PR #${number}`, () => listComments(this.octokit, this.repoParams, number));
    return comments.map(({ id, author, body }) => ({ id, author, body }));
  }

  async upsertComment(number: number, body: string, marker?: string): Promise<void> {
    const tag = commentMarker(marker);
    const text = body.includes(tag) ? body : `${tag}\n${body}`;
    await this.api(`comment on PR #${number}`, () =>
      upsertComment(this.octokit, this.repoParams, number, text, (c) => c.author === this.login && c.body.includes(tag)),
    );
  }

  async close(number: number): Promise<PullRequest> {
    const pull = await this.apiPull(number);
    if (pull.state !== 'open') throw new PullNotOpenError(`pull request #${number} is already ${pull.merged_at ? 'merged' : 'closed'}`);
    const r = await this.api(`close PR #${number}`, () =>
      this.octokit.rest.pulls.update({ ...this.repoParams, pull_number: number, state: 'closed' }),
    );
    return this.exclusive(async () => (await this.withPaths([r.data as unknown as ApiPull]))[0]!);
  }

  async updateBranch(number: number): Promise<PullRequest> {
    const pull = await this.apiPull(number);
    if (pull.state !== 'open' || pull.mergeable_state !== 'behind') return this.getPull(number);
    await this.api(`update the branch of PR #${number}`, () => updatePullBranch(this.octokit, this.repoParams, pull));
    // GitHub answers 202 and merges main into the branch shortly after: wait for the new head, bounded.
    for (let attempt = 0; attempt < UPDATE_POLLS; attempt++) {
      const now = await this.apiPull(number);
      if (now.head.sha !== pull.head.sha) return this.getPull(number);
      await new Promise((resolve) => setTimeout(resolve, UPDATE_POLL_MS));
    }
    throw new MedperfError('branch-update-pending', `GitHub accepted the update of pull request #${number}'s branch but has not made it yet; run the command again in a minute`);
  }

  /**
   * Merges through GitHub, whose branch protection runs the registry's required checks, with a
   * method the repository allows; a PR behind main under "require branches to be up to date" is
   * updated instead, and the error says its checks run again.
   */
  async merge(number: number): Promise<MergeResult> {
    const pull = await this.apiPull(number);
    if (pull.state !== 'open') throw new PullNotOpenError(`pull request #${number} is ${pull.merged_at ? 'merged' : 'closed'}; only an open pull request can be merged`);
    const repo = await this.api(`get ${this.registry}`, () => this.octokit.rest.repos.get(this.repoParams));
    const r = await this.api(`merge PR #${number}`, () => mergePull(this.octokit, this.repoParams, pull, repo.data));
    return { pull: await this.getPull(number), sha: r.sha };
  }

  async authStatus(): Promise<AuthStatus> {
    const user = await this.api('GET /user', () => this.octokit.rest.users.getAuthenticated());
    const header = user.headers['x-oauth-scopes'];
    const scopes = typeof header === 'string' ? header.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
    const repo = await this.api(`get ${this.registry}`, () => this.octokit.rest.repos.get(this.repoParams));
    const p = repo.data.permissions;
    const permission = !p ? 'read' : p.admin ? 'admin' : p.maintain ? 'maintain' : p.push ? 'write' : p.triage ? 'triage' : p.pull ? 'read' : 'none';
    return { login: user.data.login, source: this.token.source, permission, ...(scopes ? { scopes } : {}) };
  }

  /**
   * Gives the registry repository the protection it needs (registry/protection.ts), changing only
   * what differs; returns what changed (nothing on a second run). An admin's token only.
   */
  async protect(appId?: number): Promise<ProtectionChange[]> {
    const repo = await this.api(`get ${this.registry}`, () => this.octokit.rest.repos.get(this.repoParams));
    if (!repo.data.permissions?.admin) {
      throw new NotPermittedError(`${this.login} is not an admin of ${this.registry}; only an admin can change its branch protection, merge settings and Pages`);
    }
    const current = await this.api(`read the protection of ${this.registry}`, () => readProtection(this.octokit, this.repoParams));
    const desired = desiredProtection(current.defaultBranch, appId);
    const changes = protectionChanges(current, desired);
    if (changes.length) await this.api(`protect ${this.registry}`, () => applyProtection(this.octokit, this.repoParams, current, desired, changes));
    return changes;
  }

  async dispose(): Promise<void> {}
}

class GitRemoteError extends Error {}
