// Fetching a cube's assets: a content-addressed cache under the state directory, every file
// verified against its sha256 on every use, cached or not (MedPerf's issue #202 was that cached
// files were never checked again). Tarballs are listed and checked before anything is written,
// then extracted into a temporary folder renamed into place.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, posix, resolve, sep } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import type * as Tar from 'tar';
import { HashMismatchError, MedperfError } from '../registry/errors.ts';
import { hashFile } from '../registry/hash.ts';
import { makeReadableByContainers } from './runners/container-access.ts';
import { statePaths } from './state.ts';

export interface Asset {
  url: string;
  sha256: string;
}

export class FetchError extends MedperfError {
  constructor(message: string) {
    super('fetch-failed', message);
  }
}

export class TarballRejectedError extends MedperfError {
  constructor(
    readonly tarball: string,
    readonly reason: string,
  ) {
    super('tarball-rejected', `${tarball}: ${reason}; nothing was extracted`);
  }
}

export interface FetchOptions {
  stateDir: string;
  /** What the asset is, for messages: "chestxray-cnn's additional files". */
  what?: string;
  /** Called as bytes arrive or are hashed. */
  onProgress?: (done: number, total?: number) => void;
}

/** Where an asset with this sha256 lives in the cache. */
export function cachePath(stateDir: string, sha256: string): string {
  return join(statePaths(stateDir).cache, 'sha256', sha256);
}

function sourceOf(url: string): { kind: 'http'; url: string } | { kind: 'file'; path: string } {
  if (/^https?:\/\//.test(url)) return { kind: 'http', url };
  if (url.startsWith('file://')) return { kind: 'file', path: fileURLToPath(url) };
  if (isAbsolute(url)) return { kind: 'file', path: url };
  throw new FetchError(`${url}: only https://, http://, file:// URLs and absolute paths can be fetched`);
}

async function openSource(url: string): Promise<{ stream: Readable; total?: number }> {
  const source = sourceOf(url);
  if (source.kind === 'file') {
    const s = await stat(source.path).catch(() => undefined);
    if (!s?.isFile()) throw new FetchError(`${url}: no such file`);
    return { stream: createReadStream(source.path, { highWaterMark: 1 << 20 }), total: s.size };
  }
  let response: Response;
  try {
    response = await fetch(source.url, { redirect: 'follow' });
  } catch (error) {
    throw new FetchError(`${url}: cannot download (${(error as Error).cause ?? (error as Error).message})`);
  }
  if (!response.ok || !response.body) throw new FetchError(`${url}: the server answered ${response.status} ${response.statusText}`);
  const length = Number(response.headers.get('content-length'));
  return { stream: Readable.fromWeb(response.body as never), total: Number.isFinite(length) && length > 0 ? length : undefined };
}

/**
 * Downloads (or copies) a URL into the content-addressed cache, hashing it on the way in. With
 * `expected`, a mismatch throws HashMismatchError naming the asset, the expected and the actual
 * hash, and nothing enters the cache.
 */
export async function downloadToCache(
  url: string,
  options: FetchOptions & { expected?: string },
): Promise<{ sha256: string; path: string }> {
  const { stream, total } = await openSource(url);
  return storeInCache(stream, { ...options, what: options.what ?? url, total });
}

/**
 * Writes a stream of bytes into the content-addressed cache, hashing it on the way in: the one
 * place bytes from elsewhere (a download, or a private model's decrypted files) are verified. With
 * `expected`, a mismatch throws HashMismatchError and nothing enters the cache; a stream that
 * fails part way (a tampered ciphertext) leaves nothing behind either.
 */
export async function storeInCache(
  stream: Readable,
  options: FetchOptions & { expected?: string; total?: number },
): Promise<{ sha256: string; path: string }> {
  const dir = join(statePaths(options.stateDir).cache, 'sha256');
  await mkdir(dir, { recursive: true });
  const partial = join(dir, `.download.${process.pid}.${Date.now()}.${Math.random().toString(36).slice(2)}.partial`);
  const hash = createHash('sha256');
  let done = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, callback) {
      hash.update(chunk);
      done += chunk.length;
      options.onProgress?.(done, options.total);
      callback(null, chunk);
    },
  });
  try {
    await pipeline(stream, meter, createWriteStream(partial));
    const sha256 = hash.digest('hex');
    if (options.expected !== undefined && sha256 !== options.expected) throw new HashMismatchError(options.what ?? 'a file', options.expected, sha256);
    const path = cachePath(options.stateDir, sha256);
    await rename(partial, path);
    return { sha256, path };
  } finally {
    await rm(partial, { force: true });
  }
}

/**
 * The verified local path of an asset: from the cache when present and still matching its sha256,
 * else downloaded (or copied), hashed on the way in, and moved into the cache only when it matches.
 */
export async function fetchAsset(asset: Asset, options: FetchOptions): Promise<string> {
  const target = cachePath(options.stateDir, asset.sha256);
  if (existsSync(target)) {
    const total = (await stat(target)).size;
    const actual = await hashFile(target, (b) => options.onProgress?.(b, total));
    if (actual === asset.sha256) return target;
    // The cache was altered: throw the copy away and fetch again; the fresh copy is checked too.
    await rm(target, { force: true });
  }
  return (await downloadToCache(asset.url, { ...options, expected: asset.sha256, what: options.what ?? asset.url })).path;
}

/**
 * A URL's sha256 and a local path holding its bytes: a local file is hashed in place (not copied),
 * anything else downloaded once into the cache.
 */
export async function hashUrl(url: string, stateDir: string): Promise<{ sha256: string; path: string }> {
  const source = sourceOf(url);
  if (source.kind === 'file') {
    const s = await stat(source.path).catch(() => undefined);
    if (!s?.isFile()) throw new FetchError(`${url}: no such file`);
    return { sha256: await hashFile(source.path), path: source.path };
  }
  return downloadToCache(url, { stateDir });
}

export interface ExtractOptions {
  /** Refuse tarballs whose files add up to more than this (bytes). Default 8 GiB. */
  maxBytes?: number;
  /** Refuse tarballs with more entries than this. Default 1,000,000. */
  maxEntries?: number;
}

const ALLOWED_TYPES = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink', 'Link']);

/** The reason an entry is refused, or undefined when it is safe to extract under a folder. */
function entryProblem(entry: { path: string; type: string; linkpath?: string }): string | undefined {
  const path = entry.path;
  if (!ALLOWED_TYPES.has(entry.type)) return `entry ${JSON.stringify(path)} is a ${entry.type}, not a file, folder or link`;
  if (path.startsWith('/') || /^[A-Za-z]:/.test(path)) return `entry ${JSON.stringify(path)} has an absolute path`;
  if (path.split(/[\\/]/).includes('..')) return `entry ${JSON.stringify(path)} climbs out of its folder with ..`;
  if (entry.type === 'SymbolicLink' || entry.type === 'Link') {
    const link = entry.linkpath ?? '';
    if (link.startsWith('/') || /^[A-Za-z]:/.test(link)) return `link ${JSON.stringify(path)} points to the absolute path ${JSON.stringify(link)}`;
    // A symbolic link resolves from its own folder; a hard link names a path from the root.
    const resolved = entry.type === 'SymbolicLink' ? posix.normalize(posix.join(posix.dirname(path), link)) : posix.normalize(link);
    if (resolved === '..' || resolved.startsWith('../')) return `link ${JSON.stringify(path)} points outside the tarball (${JSON.stringify(link)})`;
  }
  return undefined;
}

/**
 * Extracts a tarball (plain or gzip) into `dest`, which must not exist yet. Every entry is checked
 * first (no absolute paths, no `..`, no links out, no devices, a size limit); one bad entry rejects
 * the whole tarball and nothing is written. Extraction goes to a temporary sibling, renamed at the end.
 */
export async function extractTarball(file: string, dest: string, options: ExtractOptions = {}): Promise<void> {
  const maxBytes = options.maxBytes ?? 8 * 1024 ** 3;
  const maxEntries = options.maxEntries ?? 1_000_000;
  let bytes = 0;
  let entries = 0;
  let problem: string | undefined;
  // tar loads when a tarball is extracted: a command that extracts none (a cluster job) does without it.
  const tar = await import('tar');
  try {
    await tar.t({
      file,
      strict: true,
      onReadEntry: (entry) => {
        entries++;
        bytes += entry.size ?? 0;
        problem ??= entryProblem({ path: entry.path, type: entry.type, linkpath: entry.linkpath });
        if (!problem && bytes > maxBytes) problem = `its files add up to more than ${maxBytes} bytes`;
        if (!problem && entries > maxEntries) problem = `it has more than ${maxEntries} entries`;
      },
    });
  } catch (error) {
    throw new TarballRejectedError(file, `not a readable tarball (${(error as Error).message})`);
  }
  if (problem) throw new TarballRejectedError(file, problem);
  const staging = `${dest}.${process.pid}.extracting`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  const root = resolve(staging);
  let written = 0;
  try {
    await tar.x({
      file,
      cwd: staging,
      strict: true,
      preservePaths: false,
      preserveOwner: false,
      // Checked again while extracting, in case the stream differs from the listing.
      filter: (path, entry) => {
        const e = entry as Tar.ReadEntry;
        const p = entryProblem({ path, type: e.type, linkpath: e.linkpath });
        const out = resolve(root, normalize(path));
        if (p || (out !== root && !out.startsWith(root + sep))) {
          problem ??= p ?? `entry ${JSON.stringify(path)} lands outside the folder`;
          return false;
        }
        written += e.size ?? 0;
        if (written > maxBytes) {
          problem ??= `its files add up to more than ${maxBytes} bytes`;
          return false;
        }
        return true;
      },
    });
    if (problem) throw new TarballRejectedError(file, problem);
    // What is extracted is for cubes to read, whatever the umask: explicit modes, never the tarball's.
    await makeReadableByContainers(staging);
    await rename(staging, dest);
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  }
}
