// The forge: where the registry lives and how a change to it is proposed, reviewed and merged.
// Two implementations stand behind this one interface: the local forge (a bare repository and a
// PR store on disk, the offline default) and GitHub (octokit + git over HTTPS). Every workflow of
// the CLI (submit, associate, approve, run, result submit) codes against this file only; open a
// forge with `openForge` from ./select.ts.
//
// MedPerf's approval states map onto pull requests: open = pending, merged = approved,
// closed without merging = rejected.
import type { Finding } from '../findings.ts';
import type { FileTree } from '../view.ts';


/** A pull request's state in GitHub's terms, and MedPerf's approval status it stands for. */
export type PullState = 'open' | 'merged' | 'closed';

export const APPROVAL_STATUS: Record<PullState, 'PENDING' | 'APPROVED' | 'REJECTED'> = {
  open: 'PENDING',
  merged: 'APPROVED',
  closed: 'REJECTED',
};

/** A review as the approval gate reads it (registry/gate.ts): GitHub's review states. */
export interface Review {
  login: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  submittedAt: string;
  /** The commit the review was made on (GitHub's `commit_id`): an approval counts for that commit only. */
  commitId?: string;
  body?: string;
}

/** One record file of a change: new bytes to add or modify it, or null to delete it. */
export interface FileChange {
  path: string;
  content: string | Buffer | null;
}

/**
 * A change to propose. The `key` names the change, not its content: proposing again with the same
 * key updates the pull request already open for it (re-running a submit never opens a second PR).
 * Keys are short slugs such as `cube/alice/brain-model` or `result/bench/alice/ds/bob/model`;
 * the branch is `medperf/<key>`.
 */
export interface ChangeRequest {
  key: string;
  title: string;
  body: string;
  /** The full set of files this change touches; a re-proposal replaces the previous set. */
  files: FileChange[];
}

export interface PullRequest {
  number: number;
  title: string;
  body: string;
  /** The login that opened it. */
  author: string;
  state: PullState;
  /** The head branch (without owner), `medperf/<key>` for changes this CLI proposed. */
  branch: string;
  /** The commit the PR currently points at. */
  headSha: string;
  /** Paths the PR adds, modifies or deletes, sorted. */
  paths: string[];
  url: string;
  createdAt: string;
  updatedAt: string;
  mergedAt?: string;
  closedAt?: string;
}

export interface ProposeResult {
  pull: PullRequest;
  /** True when this call opened the PR; false when it updated (or left as is) the open one. */
  created: boolean;
  /** True when a new commit was pushed (false when the open PR already had exactly these files). */
  pushed: boolean;
  /** Things the user should know (a previous PR for this change was rejected, a fork was re-created). */
  notes?: string[];
}

export interface PullFilter {
  /** Default 'open'. */
  state?: PullState | 'all';
  /** Keep PRs touching at least one path equal to, or under (when ending in '/'), one of these. */
  paths?: string[];
  author?: string;
}

export interface AuthStatus {
  login: string;
  /** Where the login or token came from: `GITHUB_TOKEN`, `GH_TOKEN`, `gh CLI`, `--as`, ... */
  source: string;
  /** The acting login's permission on the registry: admin, maintain, write, triage, read or none. */
  permission: string;
  /** OAuth scopes of a classic token; undefined for fine-grained tokens and the local forge. */
  scopes?: string[];
}

export type ReviewEvent = 'APPROVE' | 'REQUEST_CHANGES' | 'COMMENT';

export interface MergeResult {
  pull: PullRequest;
  /** The merge commit now at the tip of main. */
  sha: string;
}

/**
 * The registry as a Git remote. All methods act as `login` (the acting user).
 * Errors that a user can act on are MedperfError subclasses (registry/errors.ts) with a stable code.
 */
export interface Forge {
  readonly kind: 'local' | 'github';
  /** The registry as the user names it: `owner/repo` on GitHub, the folder of a local forge. */
  readonly registry: string;
  /** The acting login. */
  readonly login: string;

  /**
   * The registry's main branch, synced from the forge first. `paths` (prefixes such as
   * `benchmarks/brain/`, or exact files) limits what is fetched on forges that support partial
   * clones; files outside them are still readable, fetched on demand.
   */
  main(options?: { paths?: string[] }): Promise<FileTree>;
  /** The files of a PR's head commit. */
  pullTree(number: number): Promise<FileTree>;
  /** The commit the PR branched from (the merge base with main): what the PR is checked against. */
  pullBase(number: number): Promise<FileTree>;

  /** Opens the PR for a change, or updates the one open for the same key. */
  propose(change: ChangeRequest): Promise<ProposeResult>;
  listPulls(filter?: PullFilter): Promise<PullRequest[]>;
  getPull(number: number): Promise<PullRequest>;

  reviews(number: number): Promise<Review[]>;
  /**
   * Reviews the PR's head. `commit` is the head the reviewer read: the review is of that commit,
   * refused when the PR moved on since (the gate counts only reviews of the current head).
   */
  review(number: number, event: ReviewEvent, body?: string, commit?: string): Promise<void>;
  /**
   * Brings an open PR that is behind main up to date where the registry requires it (GitHub's
   * "require branches to be up to date": main merged into its branch, a new head whose checks run
   * again); returns the PR as it is now. A PR that is not behind is returned as it is.
   */
  updateBranch(number: number): Promise<PullRequest>;
  /**
   * One comment per PR and `marker`, edited in place on later calls (for the check report).
   * The marker is an HTML comment hidden in the body.
   */
  upsertComment(number: number, body: string, marker?: string): Promise<void>;
  comments(number: number): Promise<Array<{ id: number; author: string; body: string }>>;
  close(number: number): Promise<PullRequest>;
  /** Merges an open PR. The local forge runs the Action's validation and gate first and refuses what it would refuse. */
  merge(number: number): Promise<MergeResult>;
  /**
   * The findings of the gate's check of a change's committee-only results, opened with the site key
   * the forge keeps (the local forge); on GitHub the Action holds the key and runs the check.
   */
  sealedFindings?(input: { base: FileTree; head: FileTree; changed: string[]; author?: string }): Promise<Finding[]>;
  /**
   * Commits files straight to main, as an admin who may push there does once to set a registry up
   * (`registry init --local`, `import` of a MedPerf server's approved records). Every later change
   * goes through a PR. Returns the new commit; refuses when main moved meanwhile or cannot be written.
   */
  commitToMain(files: FileChange[], message: string): Promise<string>;

  /** Who is acting and what they may do, for `medperf-git auth status`. Never includes a token. */
  authStatus(): Promise<AuthStatus>;

  /** Releases processes and temporary files. */
  dispose(): Promise<void>;
}

/** The branch a change key lives on. Keys are slugs: lower-case letters, digits, `.`, `_`, `-`, `/`. */
export function branchFor(key: string): string {
  const slug = key
    .toLowerCase()
    .replace(/[^a-z0-9._/-]+/g, '-')
    .replace(/\/+/g, '/')
    .replace(/^[-/.]+|[-/.]+$/g, '')
    .replace(/\.\.+/g, '.')
    .replace(/\.lock(\/|$)/g, '-lock$1');
  if (!slug) throw new Error(`empty change key: ${JSON.stringify(key)}`);
  return `medperf/${slug}`;
}

/** Whether a PR touching `touched` matches a path filter (exact files, or prefixes ending in '/'). */
export function touchesAny(touched: string[], filter: string[]): boolean {
  return touched.some((p) => filter.some((f) => (f.endsWith('/') ? p.startsWith(f) : p === f)));
}

/** The noreply-style commit identity of a login. */
export function commitIdentity(login: string): { name: string; email: string } {
  return { name: login, email: `${login}@users.noreply.github.com` };
}

/** Hidden marker for the one comment a tool keeps per PR. */
export function commentMarker(marker = 'medperf-git'): string {
  return `<!-- ${marker} -->`;
}
