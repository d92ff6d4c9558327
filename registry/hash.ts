// Hashing as MedPerf does it, so that hashes are comparable with MedPerf's: sha256 of a file, and
// the folder hash of `get_folders_hash` (sha256 over the concatenated hex sha256 digests of every
// file under the folders, sorted). Folder hashing streams each file and spreads the files over
// worker threads, one per core, so it keeps up with `sha256sum` on a warm cache.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';

export interface HashProgress {
  /** Bytes hashed so far. */
  bytes: number;
  /** Total bytes, when known. */
  totalBytes?: number;
  files: number;
  totalFiles: number;
}

export type ProgressCallback = (progress: HashProgress) => void;

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** sha256 of one file, streamed; `onProgress` receives the bytes read so far. */
export async function hashFile(path: string, onProgress?: (bytes: number) => void): Promise<string> {
  const hash = createHash('sha256');
  let bytes = 0;
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    bytes += chunk.length;
    onProgress?.(bytes);
  }
  return hash.digest('hex');
}

/**
 * Every file under `root`, as Python's os.walk lists them for MedPerf: regular files and symbolic
 * links that are not directories (followed when hashed); linked directories are not descended.
 */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    const subdirs: string[] = [];
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) subdirs.push(path);
      else if (entry.isSymbolicLink()) {
        const target = await stat(path).catch(() => undefined);
        // os.walk lists a dangling link or a link to a file among the files.
        if (!target?.isDirectory()) out.push(path);
      } else out.push(path);
    }
    await Promise.all(subdirs.map(walk));
  };
  await walk(root);
  return out;
}

/** MedPerf's get_folders_hash: sha256 of the sorted per-file sha256 hex digests, concatenated. */
export function combineFileHashes(fileHashes: Iterable<string>): string {
  const sorted = [...fileHashes].sort();
  const hash = createHash('sha256');
  for (const h of sorted) hash.update(h, 'utf8');
  return hash.digest('hex');
}

// The worker hashes batches of files with synchronous reads into one reused buffer: the cheapest
// loop there is, and it runs on its own core. Plain JavaScript evaluated in the worker, so it
// needs no loader.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, readSync, closeSync } = require('node:fs');
const buffer = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', (batch) => {
  const hashes = [];
  let bytes = 0;
  try {
    for (const path of batch.paths) {
      const fd = openSync(path, 'r');
      try {
        const hash = createHash('sha256');
        for (;;) {
          const n = readSync(fd, buffer, 0, buffer.length, null);
          if (n === 0) break;
          hash.update(buffer.subarray(0, n));
          bytes += n;
        }
        hashes.push(hash.digest('hex'));
      } finally {
        closeSync(fd);
      }
    }
    parentPort.postMessage({ id: batch.id, hashes, bytes });
  } catch (error) {
    parentPort.postMessage({ id: batch.id, error: String(error && error.message || error) });
  }
});
`;

interface BatchResult {
  id: number;
  hashes?: string[];
  bytes?: number;
  error?: string;
}

/** sha256 of every file, in the order given, on `threads` worker threads. */
export async function hashFiles(
  paths: string[],
  options: { threads?: number; onProgress?: ProgressCallback; totalBytes?: number } = {},
): Promise<string[]> {
  const result: string[] = new Array(paths.length);
  if (paths.length === 0) return result;
  const threads = Math.max(1, Math.min(options.threads ?? availableParallelism(), paths.length));
  // Small batches keep both cores busy to the end; large ones save messages.
  const batchSize = Math.max(1, Math.min(64, Math.ceil(paths.length / (threads * 8))));
  const batches: Array<{ id: number; start: number; paths: string[] }> = [];
  for (let start = 0, id = 0; start < paths.length; start += batchSize, id++) {
    batches.push({ id, start, paths: paths.slice(start, start + batchSize) });
  }
  let next = 0;
  let files = 0;
  let bytes = 0;
  const workers = Array.from({ length: threads }, () => new Worker(WORKER_SOURCE, { eval: true }));
  try {
    await Promise.all(
      workers.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            const send = () => {
              const batch = batches[next++];
              if (!batch) return resolve();
              worker.postMessage({ id: batch.id, paths: batch.paths });
            };
            worker.on('message', (message: BatchResult) => {
              if (message.error) return reject(new Error(`hashing failed: ${message.error}`));
              const batch = batches[message.id]!;
              message.hashes!.forEach((h, i) => (result[batch.start + i] = h));
              files += batch.paths.length;
              bytes += message.bytes ?? 0;
              options.onProgress?.({ bytes, files, totalFiles: paths.length, totalBytes: options.totalBytes });
              send();
            });
            worker.on('error', reject);
            send();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return result;
}

/**
 * MedPerf's folder hash over one or more folders (the order of folders does not matter), streamed
 * and spread over the cores. With `onProgress`, the files are sized first so a total can be shown.
 */
export async function hashFolders(
  folders: string | string[],
  options: { threads?: number; onProgress?: ProgressCallback } = {},
): Promise<string> {
  const roots = typeof folders === 'string' ? [folders] : folders;
  const files = (await Promise.all(roots.map(listFiles))).flat();
  let totalBytes: number | undefined;
  if (options.onProgress) {
    const sizes = await Promise.all(files.map((f) => stat(f).then((s) => s.size)));
    totalBytes = sizes.reduce((a, b) => a + b, 0);
  }
  const hashes = await hashFiles(files, { ...options, totalBytes });
  return combineFileHashes(hashes);
}
