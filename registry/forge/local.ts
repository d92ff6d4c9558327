// The local forge, the embedded default: a bare repository on disk (`registry.git`) and a PR store
// beside it (`pulls.json`), so the whole tutorial — every role, approvals included — runs offline
// on one machine. Two processes (two data owners on one machine) may act at once: every change to
// the store and to main happens under one lock, and the store is replaced atomically, so readers
// never see half a file.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { NotFoundError, MedperfError } from '../errors.ts';
import { formatFinding, type Finding } from '../findings.ts';
import { formatGateDecision, type GateDecision } from '../gate.ts';
import { sameLogin } from '../layout.ts';
import { siteKeysOf } from '../identity.ts';
import { createView } from '../load.ts';
import { checkSealedResults, sealedResultPaths } from '../sealed-check.ts';
import { gitTree, memoryTree, type RegistryTree } from '../trees.ts';
import type { FileTree } from '../view.ts';
import { type MergeChecks, registryChecks } from './checks.ts';
import { AuthError, MergeRefusedError, movedOn, NonFastForwardError, NotPermittedError, PullNotOpenError, ReviewRefusedError } from './errors.ts';
import {
  branchFor,
  commentMarker,
  type AuthStatus,
  type ChangeRequest,
  type FileChange,
  type Forge,
  type MergeResult,
  type ProposeResult,
  type PullFilter,
  type PullRequest,
  type Review,
  type ReviewEvent,
  touchesAny,
} from './forge.ts';
import { commitChange, diffPaths, git, gitText, mergeTrees, resolveRev, treeOf } from './git.ts';

const EMPTY_TREE = '4b825dc642cb6eb9a060e54bf8d69288fbee4904';

interface StoredComment {
  id: number;
  author: string;
  body: string;
  createdAt: string;
  updatedAt: string;
}

interface StoredPull extends PullRequest {
  key: string;
  /** The merge base the PR's files are relative to. */
  baseSha: string;
  reviews: Review[];
  comments: StoredComment[];
}

interface Store {
  version: 1;
  nextPull: number;
  nextComment: number;
  pulls: StoredPull[];
  /** The commit the forge last moved main to: main moved by anything else is refused. */
  main?: string;
}

/**
 * The bare repository's guard, as GitHub's branch protection: main takes no push at all (the forge
 * moves it itself, with update-ref, after its checks), and no branch is deleted or rewritten.
 */
const PRE_RECEIVE = `#!/bin/sh
# Installed by medperf-git: the registry's main branch changes only by a merge the forge makes.
status=0
while read -r old new ref; do
  case "$ref" in
    refs/heads/main)
      echo "refused: main changes only through a pull request merged by the forge (medperf-git pr merge)" >&2
      status=1 ;;
  esac
done
exit $status
`;

export interface LocalForgeOptions {
  /** The forge folder (holds registry.git and pulls.json); created when missing. */
  root: string;
  login: string;
  /** Validation and gate run by merge; the registry core's by default. */
  checks?: MergeChecks;
  now?: () => Date;
  /** Where the login came from, for `auth status`. */
  loginSource?: string;
}

export class LocalForge implements Forge {
  readonly kind = 'local' as const;
  readonly registry: string;
  readonly login: string;
  readonly repo: string;
  private readonly storePath: string;
  private readonly checks?: MergeChecks;
  private readonly now: () => Date;
  private readonly loginSource: string;
  private readonly trees: RegistryTree[] = [];

  private constructor(options: LocalForgeOptions) {
    this.registry = resolve(options.root);
    this.login = options.login;
    this.repo = join(this.registry, 'registry.git');
    this.storePath = join(this.registry, 'pulls.json');
    this.checks = options.checks;
    this.now = options.now ?? (() => new Date());
    this.loginSource = options.loginSource ?? 'local login';
  }

  /** Opens the forge at `root`, creating an empty registry there when none exists. */
  static async open(options: LocalForgeOptions): Promise<LocalForge> {
    const forge = new LocalForge(options);
    await mkdir(forge.registry, { recursive: true });
    if (!existsSync(join(forge.repo, 'HEAD'))) {
      await forge.locked(async () => {
        if (existsSync(join(forge.repo, 'HEAD'))) return;
        await mkdir(forge.repo, { recursive: true });
        await git(['init', '--quiet', '--bare', '--initial-branch=main', forge.repo], { cwd: forge.registry });
      });
    }
    await forge.protect();
    return forge;
  }

  /** Installs the guard on main (idempotent): a pre-receive hook and receive settings. */
  private async protect(): Promise<void> {
    const hook = join(this.repo, 'hooks', 'pre-receive');
    const current = await readFile(hook, 'utf8').catch(() => undefined);
    if (current === PRE_RECEIVE) return;
    await this.locked(async () => {
      await mkdir(join(this.repo, 'hooks'), { recursive: true });
      await writeFile(hook, PRE_RECEIVE);
      await chmod(hook, 0o755);
      const settings: Array<[string, string]> = [
        ['receive.denyNonFastForwards', 'true'],
        ['receive.denyDeletes', 'true'],
        // The repository's own hooks, whatever a user's configuration says.
        ['core.hooksPath', 'hooks'],
      ];
      for (const [key, value] of settings) await git(['config', key, value], { cwd: this.repo });
    });
  }

  /**
   * main as the forge last left it. A main moved by anything but the forge (a push that got past the
   * guard, a hand-made update-ref) is refused, with how to put it back.
   */
  private async checkedMain(store: Store): Promise<string | undefined> {
    const sha = await this.mainSha();
    if (store.main !== undefined && sha !== store.main) {
      throw new MedperfError(
        'main-moved',
        `main of the local registry ${this.registry} is at ${sha ?? 'nothing'}, but the forge last left it at ${store.main}: ` +
          `main changes only through merged pull requests. Put it back with \`git -C ${this.repo} update-ref refs/heads/main ${store.main}\``,
      );
    }
    return sha;
  }

  // --- store -------------------------------------------------------------------------------

  /** Runs `fn` holding the forge's lock (PR store and main). */
  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    const release = await lockfile.lock(this.registry, {
      lockfilePath: join(this.registry, 'forge.lock'),
      realpath: false,
      stale: 20_000,
      retries: { retries: 200, factor: 1.2, minTimeout: 20, maxTimeout: 250, randomize: true },
    });
    try {
      return await fn();
    } finally {
      await release();
    }
  }

  private async readStore(): Promise<Store> {
    let text: string;
    try {
      text = await readFile(this.storePath, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, nextPull: 1, nextComment: 1, pulls: [] };
      throw error;
    }
    try {
      return JSON.parse(text) as Store;
    } catch (error) {
      throw new MedperfError('corrupt-store', `${this.storePath}: not valid JSON (${(error as Error).message})`);
    }
  }

  private async writeStore(store: Store): Promise<void> {
    await writeFileAtomic(this.storePath, JSON.stringify(store, null, 2) + '\n');
  }

  private async mutate<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    this.requireLogin();
    return this.locked(async () => {
      const store = await this.readStore();
      const result = await fn(store);
      await this.writeStore(store);
      return result;
    });
  }

  /** Every change is made as someone: on one shared machine the login is chosen, never guessed. */
  private requireLogin(): void {
    if (!this.login) {
      throw new AuthError(
        'who are you acting as on the local registry? Pass --as LOGIN, set MEDPERF_GIT_LOGIN, or run `medperf-git registry use --as LOGIN`',
      );
    }
  }

  private find(store: Store, number: number): StoredPull {
    const pull = store.pulls.find((p) => p.number === number);
    if (!pull) throw new NotFoundError(`no pull request #${number} in the local registry ${this.registry}`);
    return pull;
  }

  private url(number: number): string {
    return `local:${this.registry}#${number}`;
  }

  private stamp(): string {
    return this.now().toISOString();
  }

  // --- reading -------------------------------------------------------------------------------

  private async mainSha(): Promise<string | undefined> {
    return resolveRev(this.repo, 'refs/heads/main');
  }

  async main(): Promise<FileTree> {
    const sha = await this.checkedMain(await this.readStore());
    return this.tree(sha);
  }

  async pullTree(number: number): Promise<FileTree> {
    const pull = await this.getStored(number);
    return this.tree(pull.headSha);
  }

  async pullBase(number: number): Promise<FileTree> {
    const pull = await this.getStored(number);
    return this.tree(pull.baseSha || undefined);
  }

  /** A commit's files (no commit: the empty registry), read by one `git cat-file` released by dispose(). */
  private tree(commit: string | undefined): RegistryTree {
    const tree = commit ? gitTree(this.repo, commit) : memoryTree({});
    this.trees.push(tree);
    return tree;
  }

  private async getStored(number: number): Promise<StoredPull> {
    return this.find(await this.readStore(), number);
  }

  /** The local forge merges a PR whatever main did since it branched: nothing is ever behind. */
  async updateBranch(number: number): Promise<PullRequest> {
    return this.getPull(number);
  }

  async getPull(number: number): Promise<PullRequest> {
    return publicPull(await this.getStored(number));
  }

  async listPulls(filter: PullFilter = {}): Promise<PullRequest[]> {
    const state = filter.state ?? 'open';
    const store = await this.readStore();
    return store.pulls
      .filter((p) => state === 'all' || p.state === state)
      .filter((p) => !filter.author || sameLogin(p.author, filter.author))
      .filter((p) => !filter.paths || touchesAny(p.paths, filter.paths))
      .map(publicPull);
  }

  async reviews(number: number): Promise<Review[]> {
    return (await this.getStored(number)).reviews.map((r) => ({ ...r }));
  }

  async comments(number: number): Promise<Array<{ id: number; author: string; body: string }>> {
    return (await this.getStored(number)).comments.map(({ id, author, body }) => ({ id, author, body }));
  }

  // --- writing -------------------------------------------------------------------------------

  /**
   * Commits files straight to main, as the registry's creator does once (`registry init`, the
   * tutorial's set-up). Every later change goes through a PR.
   */
  async commitToMain(files: FileChange[], message: string): Promise<string> {
    return this.mutate(async (store) => {
      const main = await this.checkedMain(store);
      const { commit } = await commitChange({
        repo: this.repo,
        baseTree: main ? await treeOf(this.repo, main) : EMPTY_TREE,
        parents: main ? [main] : [],
        files,
        message,
        login: this.login,
        date: this.now(),
      });
      await git(['update-ref', 'refs/heads/main', commit, main ?? ''], { cwd: this.repo });
      store.main = commit;
      return commit;
    });
  }

  async propose(change: ChangeRequest): Promise<ProposeResult> {
    const branch = branchFor(change.key);
    const ref = `refs/heads/${branch}`;
    return this.mutate(async (store) => {
      const open = store.pulls.find((p) => p.branch === branch && p.state === 'open');
      if (open && open.author !== this.login) {
        throw new MedperfError(
          'not-owner',
          `pull request #${open.number} for this change was opened by ${open.author}; only they can update it`,
        );
      }
      const main = await this.checkedMain(store);
      const head = await resolveRev(this.repo, ref);
      let base: string | undefined;
      let parent: string | undefined;
      if (open && head) {
        // Keep the PR's base: its diff stays exactly the files of this change.
        base = main ? await gitText(['merge-base', main, head], { cwd: this.repo }) : undefined;
        parent = head;
      } else {
        base = main;
        parent = main;
      }
      const baseTree = base ? await treeOf(this.repo, base) : EMPTY_TREE;
      const { commit, tree } = await commitChange({
        repo: this.repo,
        baseTree,
        parents: parent ? [parent] : [],
        files: change.files,
        message: change.title + (change.body ? `\n\n${change.body}` : ''),
        login: this.login,
        date: this.now(),
      });
      if (tree === baseTree) {
        throw new MedperfError('no-change', `nothing to propose: main already holds exactly these files (${change.files.map((f) => f.path).join(', ')})`);
      }
      const stamp = this.stamp();
      if (open && head && tree === (await treeOf(this.repo, head))) {
        if (open.title !== change.title || open.body !== change.body) {
          Object.assign(open, { title: change.title, body: change.body, updatedAt: stamp });
        }
        return { pull: publicPull(open), created: false, pushed: false };
      }
      try {
        // Compare-and-swap: a branch moved by anyone else since we read it is not overwritten.
        await git(['update-ref', ref, commit, head ?? ''], { cwd: this.repo });
      } catch {
        throw new NonFastForwardError(`branch ${branch} moved while proposing; run the command again`);
      }
      const paths = await diffPaths(this.repo, base ?? EMPTY_TREE, commit);
      if (open) {
        Object.assign(open, { title: change.title, body: change.body, headSha: commit, paths, updatedAt: stamp });
        return { pull: publicPull(open), created: false, pushed: true };
      }
      const number = store.nextPull++;
      const pull: StoredPull = {
        number,
        title: change.title,
        body: change.body,
        author: this.login,
        state: 'open',
        branch,
        headSha: commit,
        paths,
        url: this.url(number),
        createdAt: stamp,
        updatedAt: stamp,
        key: change.key,
        baseSha: base ?? '',
        reviews: [],
        comments: [],
      };
      store.pulls.push(pull);
      return { pull: publicPull(pull), created: true, pushed: true };
    });
  }

  async review(number: number, event: ReviewEvent, body = '', commit?: string): Promise<void> {
    await this.mutate(async (store) => {
      const pull = this.find(store, number);
      if (pull.state !== 'open') throw new PullNotOpenError(`pull request #${number} is ${pull.state}; it can no longer be reviewed`);
      if (commit && commit !== pull.headSha) throw movedOn(number, commit, pull.headSha);
      if (sameLogin(pull.author, this.login) && event !== 'COMMENT') {
        throw new ReviewRefusedError(
          `${this.login} opened pull request #${number}; the author cannot ${event === 'APPROVE' ? 'approve' : 'request changes on'} their own pull request`,
        );
      }
      const state = event === 'APPROVE' ? 'APPROVED' : event === 'REQUEST_CHANGES' ? 'CHANGES_REQUESTED' : 'COMMENTED';
      // The review is of the commit the PR is at now: a later push needs a new review.
      pull.reviews.push({ login: this.login, state, submittedAt: this.stamp(), commitId: pull.headSha, ...(body ? { body } : {}) });
      pull.updatedAt = this.stamp();
    });
  }

  async upsertComment(number: number, body: string, marker?: string): Promise<void> {
    const tag = commentMarker(marker);
    const text = body.includes(tag) ? body : `${tag}\n${body}`;
    await this.mutate(async (store) => {
      const pull = this.find(store, number);
      const existing = pull.comments.find((c) => sameLogin(c.author, this.login) && c.body.includes(tag));
      const stamp = this.stamp();
      if (existing) Object.assign(existing, { body: text, updatedAt: stamp });
      else pull.comments.push({ id: store.nextComment++, author: this.login, body: text, createdAt: stamp, updatedAt: stamp });
    });
  }

  /**
   * Who may act on a PR besides its author, as GitHub's permissions and branch protection would
   * have it: the registry admins (registry.yaml on main) and whoever may approve the change.
   */
  private async deciders(main: string | undefined, gate: GateDecision): Promise<{ admins: string[]; approvers: string[] }> {
    let admins: string[] = [];
    if (main) {
      const tree = gitTree(this.repo, main);
      try {
        admins = [...((await createView(tree).registryConfig())?.admins ?? [])];
      } finally {
        await tree.close();
      }
    }
    const approvers = [...new Set(gate.requirements.flatMap((r) => r.approvers))];
    return { admins, approvers };
  }

  /** Refuses `verb` unless the acting login is the author, an approver of the change or an admin. */
  private mayAct(pull: StoredPull, verb: string, who: { admins: string[]; approvers: string[] }): void {
    const is = (list: string[]) => list.some((l) => sameLogin(l, this.login));
    if (sameLogin(pull.author, this.login) || is(who.admins) || is(who.approvers)) return;
    const may = [
      `its author (${pull.author})`,
      ...(who.approvers.length ? [`one who may approve it (${who.approvers.join(', ')})`] : []),
      who.admins.length ? `a registry admin (${who.admins.join(', ')})` : 'a registry admin',
    ];
    throw new NotPermittedError(
      `${this.login} may not ${verb} pull request #${pull.number}: only ${may.slice(0, -1).join(', ')} or ${may[may.length - 1]} may`,
    );
  }

  /** The gate of a PR as it stands (its head against the commit it branched from). */
  private async pullGate(pull: StoredPull, checks: MergeChecks): Promise<GateDecision> {
    const base = pull.baseSha ? gitTree(this.repo, pull.baseSha) : memoryTree({});
    const head = gitTree(this.repo, pull.headSha);
    try {
      return await checks.evaluateGate({
        base: checks.createView(base),
        head: checks.createView(head),
        changed: pull.paths,
        author: pull.author,
        reviews: pull.reviews,
        headSha: pull.headSha,
      });
    } finally {
      await Promise.all([base.close(), head.close()]);
    }
  }

  async close(number: number): Promise<PullRequest> {
    const checks = this.checks ?? registryChecks;
    return this.mutate(async (store) => {
      const pull = this.find(store, number);
      if (pull.state !== 'open') throw new PullNotOpenError(`pull request #${number} is already ${pull.state}`);
      if (!sameLogin(pull.author, this.login)) {
        this.mayAct(pull, 'close', await this.deciders(await this.checkedMain(store), await this.pullGate(pull, checks)));
      }
      const stamp = this.stamp();
      Object.assign(pull, { state: 'closed', closedAt: stamp, updatedAt: stamp });
      return publicPull(pull);
    });
  }

  async merge(number: number): Promise<MergeResult> {
    const checks = this.checks ?? registryChecks;
    return this.mutate(async (store) => {
      const pull = this.find(store, number);
      if (pull.state !== 'open') throw new PullNotOpenError(`pull request #${number} is ${pull.state}; only an open pull request can be merged`);
      const main = await this.checkedMain(store);
      let tree: string;
      if (main) {
        // A PR opened on the empty registry shares no history with main: its base is the empty tree.
        const merged = await mergeTrees(this.repo, main, pull.headSha, undefined, { unrelated: !pull.baseSha });
        if ('conflicts' in merged) {
          throw new MergeRefusedError(
            `pull request #${number} conflicts with main in ${merged.conflicts.join(', ')}; propose the change again on top of main`,
          );
        }
        tree = merged.tree;
      } else {
        tree = await treeOf(this.repo, pull.headSha);
      }
      // The merge commit is made first (unreferenced until the checks pass) so both sides are commits.
      const { commit } = await commitChange({
        repo: this.repo,
        baseTree: tree,
        parents: main ? [main, pull.headSha] : [pull.headSha],
        files: [],
        message: `Merge pull request #${number} from ${pull.branch}\n\n${pull.title}`,
        login: this.login,
        date: this.now(),
      });
      const baseTree = main ? gitTree(this.repo, main) : memoryTree({});
      const headTree = gitTree(this.repo, commit);
      const changed = await diffPaths(this.repo, main ?? EMPTY_TREE, tree);
      let findings, gate;
      try {
        findings = await checks.validateChange({ head: headTree, base: baseTree, changed, author: pull.author });
        if (!findings.length) findings = await this.sealedFindings({ base: baseTree, head: headTree, changed, author: pull.author });
        gate = await checks.evaluateGate({
          base: checks.createView(baseTree),
          head: checks.createView(headTree),
          changed,
          author: pull.author,
          reviews: pull.reviews,
          headSha: pull.headSha,
        });
      } finally {
        await Promise.all([baseTree.close(), headTree.close()]);
      }
      if (findings.length) {
        throw new MergeRefusedError(
          `pull request #${number} fails validation, as the Action would report it:\n` + findings.map(formatFinding).join('\n'),
        );
      }
      if (!gate.satisfied) {
        const unmet = formatGateDecision({ ...gate, requirements: gate.requirements.filter((r) => !r.met) }).slice(1);
        throw new MergeRefusedError([`pull request #${number} is not approved: ${gate.summary}`, ...unmet].join('\n'));
      }
      this.mayAct(pull, 'merge', await this.deciders(main, gate));
      await git(['update-ref', 'refs/heads/main', commit, main ?? ''], { cwd: this.repo });
      store.main = commit;
      const stamp = this.stamp();
      Object.assign(pull, { state: 'merged', mergedAt: stamp, closedAt: stamp, updatedAt: stamp });
      return { pull: publicPull(pull), sha: commit };
    });
  }

  /** The site keys this registry's merges check committee-only results with: its secret, as the gate's. */
  private get siteKeyFile(): string {
    return join(this.registry, 'secrets', 'site-key.txt');
  }

  /**
   * Committee-only results opened with the registry's site key and checked as clear ones, as the
   * gate does on GitHub; without the key they do not merge.
   */
  async sealedFindings(input: { base: FileTree; head: FileTree; changed: string[]; author?: string }): Promise<Finding[]> {
    // Most changes hold no committee-only result: the key is read only for one that does.
    if (!(await sealedResultPaths(input)).length) return [];
    return checkSealedResults({
      ...input,
      identities: await this.siteKeys(),
      keyHolder: 'the local registry keeps it once a registry admin runs `medperf-git site key`',
    });
  }

  /** The site keys the local registry holds (none until an admin runs `medperf-git site key`). */
  async siteKeys(): Promise<string[]> {
    const text = await readFile(this.siteKeyFile, 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return '';
      throw e;
    });
    const keys = siteKeysOf(text);
    if (!keys) throw new MedperfError('site-key-corrupt', `${this.siteKeyFile} holds a line that is not an age identity: a registry admin runs \`medperf-git site key\` again`);
    return keys;
  }

  /**
   * Keeps `key` as the local registry's site key, first, with the keys it held before after it (a
   * rotation's old key still opens what was sealed to it until it is re-encrypted). Readable by
   * whoever runs the forge's merges alone, as the repository secret is on GitHub.
   */
  async storeSiteKey(key: string): Promise<void> {
    if (!siteKeysOf(key)?.length) throw new Error('not an age identity');
    await this.locked(async () => {
      const keys = [key, ...(await this.siteKeys()).filter((k) => k !== key)];
      await mkdir(join(this.registry, 'secrets'), { recursive: true, mode: 0o700 });
      await writeFileAtomic(this.siteKeyFile, keys.join('\n') + '\n', { mode: 0o600 });
    });
  }

  async authStatus(): Promise<AuthStatus> {
    this.requireLogin();
    return { login: this.login, source: this.loginSource, permission: 'write' };
  }

  async dispose(): Promise<void> {
    await Promise.all(this.trees.splice(0).map((t) => t.close()));
  }
}

function publicPull(p: StoredPull): PullRequest {
  const { key: _k, baseSha: _b, reviews: _r, comments: _c, ...pull } = p;
  return { ...pull, paths: [...pull.paths] };
}
