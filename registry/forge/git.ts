// The one way to run git (git, gitSync), and the plumbing both forges share: commits are built
// without a working tree (a temporary index over the base tree), so proposing a change never
// touches the user's files and works in bare and partial repositories alike.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitTree, pathsFromGit } from '../trees.ts';
import type { FileTree } from '../view.ts';
import { commitIdentity, type FileChange } from './forge.ts';

export interface GitOptions {
  cwd: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  /** Exit codes that are not failures (e.g. 1 for merge-tree conflicts). */
  okCodes?: number[];
  /**
   * Read the user's git configuration too (only for reading a checkout the user made: its
   * safe.directory, as actions/checkout sets it). Otherwise git runs with no user or system config.
   */
  userConfig?: boolean;
}

export interface GitResult {
  stdout: Buffer;
  stderr: string;
  code: number;
}

export class GitError extends Error {
  constructor(
    readonly args: string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`git ${args[0]} failed (${code}): ${stderr.trim()}`);
  }
}

/** Environment for git children: no user or system config, no prompts, a fixed locale. */
export function gitEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT']) if (process.env[k]) env[k] = process.env[k];
  return {
    ...env,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_TERMINAL_PROMPT: '0',
    LC_ALL: 'C',
    ...extra,
  };
}

export function git(args: string[], options: GitOptions): Promise<GitResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('git', args, { cwd: options.cwd, env: gitEnv(options.env), stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) => {
      const result = { stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8'), code: code ?? -1 };
      if (result.code === 0 || options.okCodes?.includes(result.code)) resolve(result);
      else reject(new GitError(args, result.code, result.stderr));
    });
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
  });
}

/** git for callers that cannot wait (reading settings at start-up); the same environment and errors. */
export function gitSync(args: string[], options: Omit<GitOptions, 'input'>): GitResult {
  const env = options.userConfig ? { ...process.env, ...options.env } : gitEnv(options.env);
  const r = spawnSync('git', args, { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  const result = { stdout: r.stdout, stderr: r.stderr.toString('utf8'), code: r.status ?? -1 };
  if (result.code === 0 || options.okCodes?.includes(result.code)) return result;
  throw new GitError(args, result.code, result.stderr);
}

export async function gitText(args: string[], options: GitOptions): Promise<string> {
  return (await git(args, options)).stdout.toString('utf8').trim();
}

/** The object id a revision names, or undefined when it does not exist. */
export async function resolveRev(cwd: string, rev: string, env?: NodeJS.ProcessEnv): Promise<string | undefined> {
  const r = await git(['rev-parse', '--verify', '--quiet', `${rev}^{commit}`], { cwd, env, okCodes: [1, 128] });
  return r.code === 0 ? r.stdout.toString().trim() : undefined;
}

/**
 * A FileTree over one commit of a repository, read from the object database (no checkout), with
 * git's environment for the forge. The clone is partial: a missing blob is fetched when read, and
 * listing never asks for sizes (each would fetch its blob).
 */
export function revTree(repo: string, rev: string, env?: NodeJS.ProcessEnv): FileTree {
  return gitTree(repo, rev, { env: gitEnv(env), partial: true });
}

/** Paths that differ between two commits (added, modified, deleted), sorted. */
export async function diffPaths(repo: string, from: string, to: string, env?: NodeJS.ProcessEnv): Promise<string[]> {
  const r = await git(['diff', '--name-only', '--no-renames', '-z', from, to], { cwd: repo, env });
  return pathsFromGit(r.stdout).sort();
}

/**
 * A commit whose tree is `baseTree` (a tree or commit) with `files` applied, by the acting login.
 * Returns the new commit and its tree.
 */
export async function commitChange(opts: {
  repo: string;
  baseTree: string;
  parents: string[];
  files: FileChange[];
  message: string;
  login: string;
  env?: NodeJS.ProcessEnv;
  date?: Date;
}): Promise<{ commit: string; tree: string }> {
  const tmp = await mkdtemp(join(tmpdir(), 'medperf-git-index-'));
  const id = commitIdentity(opts.login);
  const date = (opts.date ?? new Date()).toISOString();
  const env = {
    ...opts.env,
    GIT_INDEX_FILE: join(tmp, 'index'),
    GIT_AUTHOR_NAME: id.name,
    GIT_AUTHOR_EMAIL: id.email,
    GIT_AUTHOR_DATE: date,
    GIT_COMMITTER_NAME: id.name,
    GIT_COMMITTER_EMAIL: id.email,
    GIT_COMMITTER_DATE: date,
  };
  const o = { cwd: opts.repo, env };
  try {
    await git(['read-tree', opts.baseTree], o);
    // Each distinct content is written once, and all of them by one `git hash-object`.
    const contents = new Map<string, { file: string; content: string | Buffer }>();
    const keyOf = (content: string | Buffer) => (Buffer.isBuffer(content) ? `b:${content.toString('base64')}` : `s:${content}`);
    for (const f of opts.files) {
      if (f.content === null) continue;
      const key = keyOf(f.content);
      if (!contents.has(key)) contents.set(key, { file: join(tmp, `blob-${contents.size}`), content: f.content });
    }
    for (const { file, content } of contents.values()) await writeFile(file, content);
    const ids = contents.size ? (await gitText(['hash-object', '-w', '--no-filters', '--stdin-paths'], { ...o, input: [...contents.values()].map((c) => c.file).join('\n') + '\n' })).split('\n') : [];
    const blobs = new Map([...contents.keys()].map((key, i) => [key, ids[i]!]));
    const lines = opts.files.map((f) => (f.content === null ? `0 ${'0'.repeat(40)}\t${f.path}` : `100644 ${blobs.get(keyOf(f.content))}\t${f.path}`));
    // NUL-separated: git allows a newline (any byte but NUL and '/') in a file's name.
    if (lines.length) await git(['update-index', '-z', '--index-info'], { ...o, input: lines.join('\0') + '\0' });
    // --missing-ok: in a partial clone the unchanged blobs are not here, and need not be.
    const tree = await gitText(['write-tree', '--missing-ok'], o);
    const args = ['commit-tree', tree, ...opts.parents.flatMap((p) => ['-p', p]), '-F', '-'];
    const commit = await gitText(args, { ...o, input: opts.message + '\n' });
    return { commit, tree };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function treeOf(repo: string, rev: string, env?: NodeJS.ProcessEnv): Promise<string> {
  return gitText(['rev-parse', `${rev}^{tree}`], { cwd: repo, env });
}

/**
 * Three-way merge of `theirs` into `ours` without a working tree (git merge-tree --write-tree).
 * Returns the merged tree, or the conflicting paths.
 */
export async function mergeTrees(
  repo: string,
  ours: string,
  theirs: string,
  env?: NodeJS.ProcessEnv,
  options: { unrelated?: boolean } = {},
): Promise<{ tree: string } | { conflicts: string[] }> {
  const unrelated = options.unrelated ? ['--allow-unrelated-histories'] : [];
  const r = await git(['merge-tree', '--write-tree', ...unrelated, '--name-only', '-z', ours, theirs], {
    cwd: repo,
    env,
    okCodes: [1],
  });
  const parts = r.stdout.toString('utf8').split('\0');
  if (r.code === 0) return { tree: parts[0]!.trim() };
  // Output after the tree: conflicted file names, then an empty field, then messages.
  const conflicts: string[] = [];
  for (const p of parts.slice(1)) {
    if (!p) break;
    if (!conflicts.includes(p)) conflicts.push(p);
  }
  return { conflicts };
}
