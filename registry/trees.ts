// File trees a registry is read from: a folder on disk, a git revision (read straight from the
// object database, no checkout), or memory (tests and the pure core). Each tree answers only what
// it is asked: existence and single reads do not list the whole registry.
import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FileTree } from './view.ts';

const execFileAsync = promisify(execFile);

/** A file's size and, when it is within the limit, its bytes. */
export interface LimitedRead {
  size: number;
  bytes?: Buffer;
}

/** The trees of this module also tell a file's size before reading it, and can be closed. */
export interface RegistryTree extends FileTree {
  /** Reads a file only when it is at most `limit` bytes; undefined when it does not exist. */
  readLimited(path: string, limit: number): Promise<LimitedRead | undefined>;
  /** Releases what the tree holds open (the git tree's long-lived `git cat-file`). */
  close(): Promise<void>;
  /** readLimited without a promise, for trees that read synchronously (folder, memory). */
  readLimitedSync?(path: string, limit: number): LimitedRead | undefined;
}

/** Reads with a size limit from any tree: the trees of this module check the size first. */
export async function readLimited(tree: FileTree, path: string, limit: number): Promise<LimitedRead | undefined> {
  const t = tree as Partial<RegistryTree>;
  if (typeof t.readLimited === 'function') return t.readLimited(path, limit);
  const bytes = await tree.read(path);
  if (!bytes) return undefined;
  return bytes.length > limit ? { size: bytes.length } : { size: bytes.length, bytes };
}

/** Closes a tree if it holds anything open. */
export async function closeTree(tree: FileTree): Promise<void> {
  const t = tree as Partial<RegistryTree>;
  if (typeof t.close === 'function') await t.close();
}

function normalizePrefix(prefix = ''): string {
  return prefix.replace(/^\.?\/+/, '');
}

function safeRelative(path: string): boolean {
  return path !== '' && !path.startsWith('/') && !path.split('/').some((s) => s === '..' || s === '.' || s === '');
}

// ---------------------------------------------------------------------------------------------
// A folder on disk.

/**
 * A registry folder (a working directory). `.git/` is not part of the tree. `files`: its listing,
 * when already known.
 */
export function directoryTree(dir: string, opts: { files?: string[] } = {}): RegistryTree {
  let all: string[] | undefined = opts.files;
  let allSet: Set<string> | undefined = all && new Set(all);
  const root = dir.endsWith('/') ? dir : dir + '/';

  function walk(rel: string, out: string[]): void {
    let entries;
    try {
      entries = readdirSync(rel ? root + rel : dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!rel && e.name === '.git') continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, out);
      else if (e.isFile() || e.isSymbolicLink()) out.push(p);
    }
  }

  // One buffer, reused for every read: a record file is read with open, one read, close; its size
  // is known from the read itself (up to limit + 1 bytes), so a large file is never read whole.
  let scratch = Buffer.allocUnsafe(64 * 1024);
  function readSyncLimited(path: string, limit: number): LimitedRead | undefined {
    if (!safeRelative(path)) return undefined;
    let fd: number;
    try {
      // Never through a symbolic link: a registry's files are its own, not what a link points at.
      fd = openSync(root + path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch {
      return undefined;
    }
    try {
      let off = 0;
      for (;;) {
        if (off === scratch.length) {
          if (scratch.length > limit) break;
          const bigger = Buffer.allocUnsafe(Math.min(scratch.length * 4, limit + 1));
          scratch.copy(bigger, 0, 0, off);
          scratch = bigger;
        }
        const n = readSync(fd, scratch, off, scratch.length - off, null);
        if (n === 0) break;
        off += n;
        if (off > limit) break;
      }
      if (off > limit) return { size: fstatSync(fd).size };
      return { size: off, bytes: Buffer.from(scratch.subarray(0, off)) };
    } catch {
      // A folder, or a file that vanished while being read.
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  return {
    label: dir,
    async list(prefix = '') {
      const p = normalizePrefix(prefix);
      if (all) return p ? all.filter((f) => f.startsWith(p)) : all;
      if (!p) {
        const out: string[] = [];
        walk('', out);
        all = out.sort();
        allSet = new Set(all);
        return all;
      }
      // Walk only the folder the prefix names (a prefix that is a folder path, with or without '/').
      const folder = p.endsWith('/') ? p.slice(0, -1) : p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
      const out: string[] = [];
      walk(folder, out);
      return out.filter((f) => f.startsWith(p)).sort();
    },
    // Synchronous reads in a resolved promise: small files, and far cheaper than fs/promises at
    // 100,000 files.
    async read(path) {
      return readSyncLimited(path, Number.MAX_SAFE_INTEGER)?.bytes;
    },
    async readLimited(path, limit) {
      return readSyncLimited(path, limit);
    },
    readLimitedSync: readSyncLimited,
    async has(path) {
      if (allSet) return allSet.has(path);
      if (!safeRelative(path)) return false;
      try {
        const st = lstatSync(root + path);
        return st.isFile() || st.isSymbolicLink();
      } catch {
        return false;
      }
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------
// Memory.

/** A tree held in memory: the pure core's tests build registries with it. */
export function memoryTree(files: Record<string, string | Buffer>): RegistryTree {
  const map = new Map<string, Buffer>();
  for (const [path, content] of Object.entries(files)) {
    map.set(path, typeof content === 'string' ? Buffer.from(content, 'utf8') : content);
  }
  const sorted = [...map.keys()].sort();
  return {
    label: 'memory',
    async list(prefix = '') {
      const p = normalizePrefix(prefix);
      return p ? sorted.filter((f) => f.startsWith(p)) : sorted;
    },
    async read(path) {
      return map.get(path);
    },
    async readLimited(path, limit) {
      return this.readLimitedSync!(path, limit);
    },
    readLimitedSync(path, limit) {
      const bytes = map.get(path);
      if (!bytes) return undefined;
      return bytes.length > limit ? { size: bytes.length } : { size: bytes.length, bytes };
    },
    async has(path) {
      return map.has(path);
    },
    async close() {},
  };
}

// ---------------------------------------------------------------------------------------------
// A git revision, read through one long-lived `git cat-file --batch-command`.

interface Pending {
  command: string;
  resolve: (value: { header: string; body?: Buffer }) => void;
  reject: (error: Error) => void;
  wantBody: boolean;
}

class CatFile {
  private child?: ChildProcessWithoutNullStreams;
  private queue: Pending[] = [];
  private buffer: Buffer = Buffer.alloc(0);
  private expecting?: { pending: Pending; header: string; size: number };
  private failed?: Error;

  constructor(private readonly repoDir: string) {}

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn('git', ['cat-file', '--batch-command'], { cwd: this.repoDir, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const fail = (error: Error) => {
      this.failed = error;
      for (const p of this.queue.splice(0)) p.reject(error);
      this.child = undefined;
    };
    child.on('error', fail);
    child.on('exit', (code) => {
      if (this.queue.length) fail(new Error(`git cat-file exited (${code}) in ${this.repoDir}: ${stderr.trim()}`));
      this.child = undefined;
    });
    child.stdin.on('error', () => {});
    this.child = child;
    this.idle();
    return child;
  }

  // The process must not keep the program alive while no request waits for it.
  private idle(): void {
    const c = this.child;
    if (!c) return;
    const busy = this.queue.length > 0;
    for (const s of [c, c.stdout, c.stderr, c.stdin] as Array<{ ref(): void; unref(): void }>) {
      if (busy) s.ref();
      else s.unref();
    }
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    for (;;) {
      if (this.expecting) {
        const { pending, header, size } = this.expecting;
        if (this.buffer.length < size + 1) return;
        const body = Buffer.from(this.buffer.subarray(0, size));
        this.buffer = this.buffer.subarray(size + 1);
        this.expecting = undefined;
        this.queue.shift();
        pending.resolve({ header, body });
        continue;
      }
      const nl = this.buffer.indexOf(0x0a);
      if (nl < 0) return;
      const header = this.buffer.subarray(0, nl).toString('utf8');
      this.buffer = this.buffer.subarray(nl + 1);
      const pending = this.queue[0];
      if (!pending) continue;
      const m = /^[0-9a-f]+ (\w+) (\d+)$/.exec(header);
      if (m && pending.wantBody) {
        this.expecting = { pending, header, size: Number(m[2]) };
        continue;
      }
      this.queue.shift();
      pending.resolve({ header });
    }
    this.idle();
  }

  request(command: string, wantBody: boolean): Promise<{ header: string; body?: Buffer }> {
    if (this.failed) return Promise.reject(this.failed);
    if (/[\n\r]/.test(command)) return Promise.resolve({ header: 'missing' });
    const child = this.child ?? this.start();
    return new Promise((resolve, reject) => {
      this.queue.push({ command, resolve, reject, wantBody });
      this.idle();
      child.stdin.write(command + '\n');
    }).then((r) => {
      this.idle();
      return r as { header: string; body?: Buffer };
    });
  }

  async close(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (!c) return;
    if (c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      // Waiting for the exit must keep the program alive (the idle process is unref'd).
      c.ref();
      c.stdin.end();
      setTimeout(() => c.kill(), 2000).unref();
    });
  }
}

/**
 * One revision of a git repository, read without a checkout. Call close() when done. `subdir`
 * (relative to the repository's top) makes a folder of the revision the tree's root, for a
 * registry kept inside a larger repository.
 */
export function gitTree(repoDir: string, rev: string, opts: { subdir?: string } = {}): RegistryTree {
  const cat = new CatFile(repoDir);
  const sizes = new Map<string, number>();
  let all: string[] | undefined;
  let allSet: Set<string> | undefined;
  let commit: Promise<string> | undefined;

  // The revision is resolved once to a tree id, so every read sees the same tree even if a branch moves.
  const subdir = (opts.subdir ?? '').replace(/^\/+|\/+$/g, '');
  const resolved = () =>
    (commit ??= (async () => {
      const git = (arg: string) => execFileAsync('git', ['rev-parse', '--verify', '--end-of-options', arg], { cwd: repoDir });
      const c = (await git(`${rev}^{commit}`)).stdout.trim();
      return (await git(subdir ? `${c}:${subdir}` : `${c}^{tree}`)).stdout.trim();
    })());

  async function lsTree(prefix: string): Promise<string[]> {
    // --full-tree: paths relative to the tree's root, wherever the command runs.
    const args = ['ls-tree', '-r', '-l', '-z', '--full-tree', await resolved()];
    const folder = prefix.endsWith('/') ? prefix : prefix.slice(0, prefix.lastIndexOf('/') + 1);
    if (folder) args.push('--', folder);
    const { stdout } = await execFileAsync('git', args, { cwd: repoDir, maxBuffer: 1024 * 1024 * 1024, encoding: 'buffer' });
    const out: string[] = [];
    for (const entry of stdout.toString('utf8').split('\0')) {
      if (!entry) continue;
      const tab = entry.indexOf('\t');
      const [, type, , size] = entry.slice(0, tab).split(/\s+/);
      const path = entry.slice(tab + 1);
      if (type !== 'blob') continue;
      sizes.set(path, Number(size));
      if (path.startsWith(prefix)) out.push(path);
    }
    return out.sort();
  }

  async function info(path: string): Promise<number | undefined> {
    const known = sizes.get(path);
    if (known !== undefined) return known;
    if (allSet && !allSet.has(path)) return undefined;
    if (!safeRelative(path)) return undefined;
    const { header } = await cat.request(`info ${await resolved()}:${path}`, false);
    const m = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!m) return undefined;
    const size = Number(m[1]);
    sizes.set(path, size);
    return size;
  }

  async function contents(path: string): Promise<Buffer | undefined> {
    if (!safeRelative(path)) return undefined;
    const { header, body } = await cat.request(`contents ${await resolved()}:${path}`, true);
    return /^[0-9a-f]+ blob \d+$/.test(header) ? body : undefined;
  }

  return {
    label: `git:${rev}`,
    async list(prefix = '') {
      const p = normalizePrefix(prefix);
      if (all) return p ? all.filter((f) => f.startsWith(p)) : all;
      const listed = await lsTree(p);
      if (!p) {
        all = listed;
        allSet = new Set(all);
      }
      return listed;
    },
    async read(path) {
      return contents(path);
    },
    async readLimited(path, limit) {
      const size = await info(path);
      if (size === undefined) return undefined;
      if (size > limit) return { size };
      const bytes = await contents(path);
      return bytes ? { size: bytes.length, bytes } : undefined;
    },
    async has(path) {
      return (await info(path)) !== undefined;
    },
    close: () => cat.close(),
  };
}

// ---------------------------------------------------------------------------------------------
// Changes between trees.

/** Paths added, modified or deleted between two trees (any kind), sorted. */
export async function changedPaths(base: FileTree, head: FileTree): Promise<string[]> {
  const [b, h] = await Promise.all([base.list(), head.list()]);
  const inBase = new Set(b);
  const inHead = new Set(h);
  const out = new Set<string>();
  for (const p of h) if (!inBase.has(p)) out.add(p);
  for (const p of b) {
    if (!inHead.has(p)) {
      out.add(p);
      continue;
    }
    const [x, y] = await Promise.all([base.read(p), head.read(p)]);
    if (!x || !y || !x.equals(y)) out.add(p);
  }
  return [...out].sort();
}

/**
 * Paths that differ between two revisions, from `git diff --name-only` (no renames: a rename is a
 * deletion and an addition, each checked). Without headRev: the working tree, untracked files included.
 */
export async function gitChangedPaths(repoDir: string, baseRev: string, headRev?: string): Promise<string[]> {
  // --relative: paths relative to repoDir, which may be a registry folder inside a larger repository.
  const args = ['diff', '--name-only', '-z', '--relative', '--no-renames', '--no-ext-diff', baseRev];
  if (headRev) args.push(headRev);
  args.push('--', '.');
  const { stdout } = await execFileAsync('git', args, { cwd: repoDir, maxBuffer: 256 * 1024 * 1024 });
  const out = new Set(stdout.split('\0').filter(Boolean));
  if (!headRev) {
    const untracked = await execFileAsync('git', ['ls-files', '-z', '--others', '--exclude-standard'], {
      cwd: repoDir,
      maxBuffer: 256 * 1024 * 1024,
    });
    for (const p of untracked.stdout.split('\0')) if (p) out.add(p);
  }
  return [...out].sort();
}

/** `git merge-base REV HEAD`: what a change is compared with (the fork point, not REV itself). */
export async function mergeBase(repoDir: string, rev: string, head = 'HEAD'): Promise<string> {
  const { stdout } = await execFileAsync('git', ['merge-base', '--end-of-options', rev, head], { cwd: repoDir });
  return stdout.trim();
}
