// File trees a registry is read from: a folder on disk, a git revision (read straight from the
// object database, no checkout), or memory (tests and the pure core). Each tree answers only what
// it is asked: existence and single reads do not list the whole registry.
import { spawn, execFile, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { closeSync, constants, fstatSync, lstatSync, openSync, readdirSync, readSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FileTree } from './view.ts';
import { registryPath } from './layout.ts';

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
  /** What the entry at a path is (undefined when there is none); only `file` entries are ever read. */
  kind(path: string): Promise<EntryKind | undefined>;
  /** The names of the entries directly in a folder ('' for the root), without listing the tree. */
  names(folder: string): Promise<string[]>;
  /** Every folder's names at once, when the whole tree is already listed; else undefined. */
  allNames?(): ReadonlyMap<string, readonly string[]> | undefined;
}

/**
 * What a tree entry is. A registry holds only regular files; every other kind is listed (so a rule
 * sees it) but never read: a symbolic link is not followed, a submodule not entered, a name that is
 * not UTF-8 text not guessed at.
 */
export type EntryKind = 'file' | 'symlink' | 'submodule' | 'folder' | 'special' | 'undecodable';

/** The kind of the entry at a path of any tree; a tree that cannot tell has files only. */
export async function entryKind(tree: FileTree, path: string): Promise<EntryKind | undefined> {
  const t = tree as Partial<RegistryTree>;
  if (typeof t.kind === 'function') return t.kind(path);
  return (await tree.has(path)) ? 'file' : undefined;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });
const isAscii = (bytes: Buffer) => {
  for (let i = 0; i < bytes.length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
};
const ESCAPED_BYTE = /\\x[0-9a-f]{2}/;

/**
 * A path as git or the file system gives it (bytes) as text. A segment that is not valid UTF-8
 * keeps its bytes visible as `\xNN` (printable ASCII stays as it is), so the entry is still listed,
 * can be named in a finding, and can never match a record's path.
 */
export function pathFromBytes(bytes: Buffer): string {
  // ASCII (every registry name) decodes byte for byte.
  if (isAscii(bytes)) return bytes.toString('latin1');
  try {
    return UTF8.decode(bytes);
  } catch {
    const segments: string[] = [];
    let start = 0;
    for (let i = 0; i <= bytes.length; i++) {
      if (i < bytes.length && bytes[i] !== 0x2f) continue;
      const segment = bytes.subarray(start, i);
      try {
        segments.push(UTF8.decode(segment));
      } catch {
        segments.push([...segment].map((b) => (b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`)).join(''));
      }
      start = i + 1;
    }
    return segments.join('/');
  }
}

/** Whether a path is one pathFromBytes made of a name that is not UTF-8 text. */
export function isUndecodablePath(path: string): boolean {
  return path.includes('\\') && ESCAPED_BYTE.test(path);
}

/** The bytes a path of pathFromBytes stands for (its inverse). */
export function bytesFromPath(path: string): Buffer {
  if (!isUndecodablePath(path)) return Buffer.from(path, 'utf8');
  const parts = path.split('/').map((segment) =>
    ESCAPED_BYTE.test(segment) && !/[^\x20-\x7e]/.test(segment)
      ? Buffer.from(segment.replace(/\\x([0-9a-f]{2})|([\s\S])/g, (_m, hex: string | undefined, c: string | undefined) => String.fromCharCode(hex ? parseInt(hex, 16) : c!.charCodeAt(0))), 'latin1')
      : Buffer.from(segment, 'utf8'),
  );
  return Buffer.concat(parts.flatMap((b, i) => (i ? [Buffer.from('/'), b] : [b])));
}

/** Splits NUL-separated output (git's -z) into byte strings, without decoding. */
function splitNul(out: Buffer): Buffer[] {
  const parts: Buffer[] = [];
  let start = 0;
  for (let i = out.indexOf(0); i >= 0; i = out.indexOf(0, start)) {
    if (i > start) parts.push(out.subarray(start, i));
    start = i + 1;
  }
  if (start < out.length) parts.push(out.subarray(start));
  return parts;
}

/** The kind of a git tree entry from its mode. */
function kindOfMode(mode: string): EntryKind {
  if (mode === '100644' || mode === '100755') return 'file';
  if (mode === '120000') return 'symlink';
  if (mode === '160000') return 'submodule';
  if (mode === '40000' || mode === '040000') return 'folder';
  return 'special';
}

/**
 * The names directly in each folder of a listing, built in one pass: what a tree whose every path
 * is already known answers `names` from.
 */
function folderIndex(all: readonly string[]): Map<string, string[]> {
  const index = new Map<string, Set<string>>();
  const add = (folder: string, name: string) => {
    let set = index.get(folder);
    if (!set) index.set(folder, (set = new Set()));
    set.add(name);
  };
  for (const path of all) {
    let start = 0;
    for (let slash = path.indexOf('/'); slash >= 0; slash = path.indexOf('/', start)) {
      add(path.slice(0, start ? start - 1 : 0), path.slice(start, slash));
      start = slash + 1;
    }
    add(path.slice(0, start ? start - 1 : 0), path.slice(start));
  }
  return new Map([...index].map(([folder, names]) => [folder, [...names]]));
}

/** The names directly in a folder of any tree ('' for the root); a tree that cannot tell is listed. */
export async function folderNames(tree: FileTree, folder: string): Promise<string[]> {
  const t = tree as Partial<RegistryTree>;
  if (typeof t.names === 'function') return t.names(folder);
  return folderIndex(await tree.list(folder ? `${folder}/` : '')).get(folder) ?? [];
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

/** A segment that is empty, `.` or `..`: at the start, between slashes or at the end. */
const UNSAFE_SEGMENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

function safeRelative(path: string): boolean {
  return !UNSAFE_SEGMENT.test(path);
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
  let index: Map<string, string[]> | undefined;
  // After a walk every entry's kind is known: what is listed and not in `kinds` is a regular file.
  let walked = false;
  const root = dir.endsWith('/') ? dir : dir + '/';

  // A folder's names are read as text; a folder holding a name that is not UTF-8 text (decoded
  // as U+FFFD) is read again as bytes, so that name is listed (escaped), not lost or merged.
  const kinds = new Map<string, EntryKind>();
  function entriesOf(rel: string): Array<Dirent<string> | Dirent<Buffer>> | undefined {
    try {
      const folder = root + (rel ? rel + '/' : '');
      const entries = readdirSync(folder, { withFileTypes: true });
      if (!entries.some((e) => e.name.includes('\uFFFD'))) return entries;
      return readdirSync(Buffer.from(folder), { withFileTypes: true, encoding: 'buffer' });
    } catch {
      return undefined;
    }
  }
  function walk(rel: string, out: string[], names?: Map<string, string[]>): void {
    const entries = entriesOf(rel);
    if (!entries) return;
    // The names of a folder that hold a file, as a listing of paths would give them.
    const here: string[] = [];
    for (const e of entries) {
      const name = typeof e.name === 'string' ? e.name : pathFromBytes(e.name);
      if (!rel && name === '.git') continue;
      const p = rel ? `${rel}/${name}` : name;
      const kind: EntryKind = isUndecodablePath(name) ? 'undecodable' : e.isDirectory() ? 'folder' : e.isFile() ? 'file' : e.isSymbolicLink() ? 'symlink' : 'special';
      if (kind === 'folder') {
        const before = out.length;
        walk(p, out, names);
        if (out.length > before) here.push(name);
      } else {
        out.push(p);
        here.push(name);
        if (kind !== 'file') kinds.set(p, kind);
      }
    }
    if (names && here.length) names.set(rel, here);
  }
  /** The sorted listing under each folder walked on its own, by folder. */
  const walkedFolders = new Map<string, string[]>();

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
        // The full walk reads every folder once: each folder's names come with it.
        index = new Map();
        walk('', out, index);
        all = out.sort();
        walked = true;
        allSet = new Set(all);
        return all;
      }
      // Walk only the folder the prefix names (a prefix that is a folder path, with or without '/').
      // Each folder is walked once: a tree is read as it was (as the full listing above is).
      const folder = p.endsWith('/') ? p.slice(0, -1) : p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '';
      let under = walkedFolders.get(folder);
      if (!under) {
        under = [];
        walk(folder, under);
        under.sort();
        walkedFolders.set(folder, under);
      }
      return under.filter((f) => f.startsWith(p));
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
    allNames() {
      return all && (index ??= folderIndex(all));
    },
    async names(folder) {
      if (all) return (index ??= folderIndex(all)).get(folder) ?? [];
      if (folder && !safeRelative(folder)) return [];
      try {
        const names = readdirSync(Buffer.concat([Buffer.from(root), bytesFromPath(folder ? folder + '/' : '')]), { encoding: 'buffer' }).map(pathFromBytes);
        return folder ? names : names.filter((n) => n !== '.git');
      } catch {
        return [];
      }
    },
    async has(path) {
      if (allSet) return allSet.has(path);
      if (!safeRelative(path)) return false;
      const kind = await this.kind(path);
      return kind !== undefined && kind !== 'folder';
    },
    async kind(path) {
      if (isUndecodablePath(path)) {
        if (allSet) return kinds.get(path);
        try {
          lstatSync(Buffer.concat([Buffer.from(root), bytesFromPath(path)]));
          return 'undecodable';
        } catch {
          return undefined;
        }
      }
      if (allSet && !allSet.has(path)) return undefined;
      const known = kinds.get(path);
      if (known) return known;
      if (walked) return 'file';
      if (!safeRelative(path)) return undefined;
      try {
        const st = lstatSync(root + path);
        // A folder where a file was named is a submodule's checkout (git lists a gitlink as a path).
        return st.isFile() ? 'file' : st.isSymbolicLink() ? 'symlink' : st.isDirectory() ? 'folder' : 'special';
      } catch {
        return undefined;
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
  let index: Map<string, string[]> | undefined;
  return {
    label: 'memory',
    async names(folder) {
      return (index ??= folderIndex(sorted)).get(folder) ?? [];
    },
    allNames() {
      return (index ??= folderIndex(sorted));
    },
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
    async kind(path) {
      return map.has(path) ? (isUndecodablePath(path) ? 'undecodable' : 'file') : undefined;
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

  constructor(
    private readonly repoDir: string,
    private readonly env?: NodeJS.ProcessEnv,
  ) {}

  private start(): ChildProcessWithoutNullStreams {
    const child = spawn('git', ['cat-file', '--batch-command'], { cwd: this.repoDir, env: this.env, stdio: ['pipe', 'pipe', 'pipe'] });
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
export function gitTree(repoDir: string, rev: string, opts: { subdir?: string; env?: NodeJS.ProcessEnv; partial?: boolean } = {}): RegistryTree {
  const cat = new CatFile(repoDir, opts.env);
  const sizes = new Map<string, number>();
  let all: string[] | undefined;
  let allKinds: Map<string, EntryKind> | undefined;
  let index: Map<string, string[]> | undefined;
  let commit: Promise<string> | undefined;
  const exec = (args: string[]) => execFileAsync('git', args, { cwd: repoDir, env: opts.env, maxBuffer: 1024 * 1024 * 1024, encoding: 'buffer' });

  // The revision is resolved once to a tree id, so every read sees the same tree even if a branch moves.
  const subdir = (opts.subdir ?? '').replace(/^\/+|\/+$/g, '');
  const resolved = () =>
    (commit ??= (async () => {
      const git = async (arg: string) => (await exec(['rev-parse', '--verify', '--end-of-options', arg])).stdout.toString('utf8').trim();
      const c = await git(`${rev}^{commit}`);
      return git(subdir ? `${c}:${subdir}` : `${c}^{tree}`);
    })());

  async function lsTree(prefix: string): Promise<string[]> {
    // --full-tree: paths relative to the tree's root, wherever the command runs. In a partial clone
    // the sizes are not asked for: each missing blob's size is a fetch of that blob.
    const args = ['ls-tree', '-r', ...(opts.partial ? [] : ['-l']), '-z', '--full-tree', await resolved()];
    const folder = prefix.endsWith('/') ? prefix : prefix.slice(0, prefix.lastIndexOf('/') + 1);
    if (folder) args.push('--', folder);
    const { stdout } = await exec(args);
    const out: string[] = [];
    const kinds = new Map<string, EntryKind>();
    for (const entry of splitNul(stdout)) {
      // <mode> SP <type> SP <object> [SP+ <size>] TAB <path>
      const tab = entry.indexOf(0x09);
      const [mode, , , size] = entry.toString('latin1', 0, tab).split(/\s+/);
      const path = pathFromBytes(entry.subarray(tab + 1));
      const kind = isUndecodablePath(path) ? 'undecodable' : kindOfMode(mode!);
      kinds.set(path, kind);
      if (kind === 'file' && size !== undefined) sizes.set(path, Number(size));
      if (path.startsWith(prefix)) out.push(path);
    }
    if (!prefix) allKinds = kinds;
    return out.sort();
  }

  // A folder's entries, read from its tree object (raw names, modes, ids), each folder once: what a
  // path is, without listing the revision.
  const folders = new Map<string, Promise<Map<string, { kind: EntryKind; id: string }> | undefined>>();
  function folderEntries(folder: string): Promise<Map<string, { kind: EntryKind; id: string }> | undefined> {
    let entries = folders.get(folder);
    if (!entries) {
      entries = (async () => {
        let id: string;
        if (!folder) id = await resolved();
        else {
          const slash = folder.lastIndexOf('/');
          const parent = await folderEntries(slash < 0 ? '' : folder.slice(0, slash));
          const entry = parent?.get(folder.slice(slash + 1));
          if (entry?.kind !== 'folder') return undefined;
          id = entry.id;
        }
        const { header, body } = await cat.request(`contents ${id}`, true);
        if (!body || !/ tree \d+$/.test(header)) return undefined;
        const out = new Map<string, { kind: EntryKind; id: string }>();
        const hashBytes = id.length / 2;
        for (let i = 0; i < body.length; ) {
          const space = body.indexOf(0x20, i);
          const nul = body.indexOf(0, space);
          if (space < 0 || nul < 0) break;
          const name = pathFromBytes(body.subarray(space + 1, nul));
          const kind = isUndecodablePath(name) ? 'undecodable' : kindOfMode(body.toString('latin1', i, space));
          out.set(name, { kind, id: body.toString('hex', nul + 1, nul + 1 + hashBytes) });
          i = nul + 1 + hashBytes;
        }
        return out;
      })();
      folders.set(folder, entries);
    }
    return entries;
  }

  async function entry(path: string): Promise<{ kind: EntryKind; id?: string } | undefined> {
    if (allKinds) {
      const kind = allKinds.get(path);
      return kind && { kind };
    }
    if (!safeRelative(path)) return undefined;
    const slash = path.lastIndexOf('/');
    return (await folderEntries(slash < 0 ? '' : path.slice(0, slash)))?.get(path.slice(slash + 1));
  }

  /** The blob to read at a path: only a regular file is ever read (never a link's target text). */
  async function blob(path: string): Promise<string | undefined> {
    const e = await entry(path);
    return e?.kind === 'file' ? (e.id ?? `${await resolved()}:${path}`) : undefined;
  }

  async function info(path: string): Promise<number | undefined> {
    const known = sizes.get(path);
    if (known !== undefined) return known;
    const id = await blob(path);
    if (!id) return undefined;
    const { header } = await cat.request(`info ${id}`, false);
    const m = /^[0-9a-f]+ blob (\d+)$/.exec(header);
    if (!m) return undefined;
    const size = Number(m[1]);
    sizes.set(path, size);
    return size;
  }

  async function contents(path: string): Promise<Buffer | undefined> {
    const id = await blob(path);
    if (!id) return undefined;
    const { header, body } = await cat.request(`contents ${id}`, true);
    return /^[0-9a-f]+ blob \d+$/.test(header) ? body : undefined;
  }

  return {
    label: `git:${rev}`,
    async list(prefix = '') {
      const p = normalizePrefix(prefix);
      if (all) return p ? all.filter((f) => f.startsWith(p)) : all;
      const listed = await lsTree(p);
      if (!p) all = listed;
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
    async names(folder) {
      if (all) return (index ??= folderIndex(all)).get(folder) ?? [];
      if (folder && !safeRelative(folder)) return [];
      return [...((await folderEntries(folder))?.keys() ?? [])];
    },
    allNames() {
      return all && (index ??= folderIndex(all));
    },
    async has(path) {
      const kind = (await entry(path))?.kind;
      return kind !== undefined && kind !== 'folder';
    },
    async kind(path) {
      return (await entry(path))?.kind;
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
  // Every path of the repository, named as the registry in repoDir names it: a registry in a folder
  // of a larger repository sees the files around it too (`../.github/...`), which only an admin changes.
  const options = { cwd: repoDir, maxBuffer: 256 * 1024 * 1024, encoding: 'buffer' as const };
  const prefix = pathFromBytes((await execFileAsync('git', ['rev-parse', '--show-prefix'], options)).stdout).trim();
  // --ignore-submodules=none: a gitlink's change is listed whatever .gitmodules or the user's config says.
  const args = ['diff', '--name-only', '-z', '--no-relative', '--no-renames', '--no-ext-diff', '--ignore-submodules=none', baseRev];
  if (headRev) args.push(headRev);
  args.push('--', ':/');
  const out = new Set(pathsFromGit((await execFileAsync('git', args, options)).stdout).map((p) => registryPath(p, prefix)));
  if (!headRev) {
    // An untracked repository is listed as `name/`: it is listed as the path it sits at.
    const untracked = await execFileAsync('git', ['ls-files', '-z', '--others', '--exclude-standard', '--full-name', '--', ':/'], options);
    for (const p of pathsFromGit(untracked.stdout)) out.add(registryPath(p.replace(/\/+$/, ''), prefix));
  }
  return [...out].sort();
}

/** The paths of git's NUL-separated output (`-z`), names that are not UTF-8 text escaped (pathFromBytes). */
export function pathsFromGit(stdout: Buffer): string[] {
  return splitNul(stdout).map(pathFromBytes);
}

/** `git merge-base REV HEAD`: what a change is compared with (the fork point, not REV itself). */
export async function mergeBase(repoDir: string, rev: string, head = 'HEAD'): Promise<string> {
  const { stdout } = await execFileAsync('git', ['merge-base', '--end-of-options', rev, head], { cwd: repoDir });
  return stdout.trim();
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
