import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HashMismatchError } from '../registry/errors.ts';
import { cachePath, extractTarball, fetchAsset, TarballRejectedError } from './fetch.ts';

const tmp = mkdtempSync(join(tmpdir(), 'fetch-test-'));
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
let server: Server;
let base = '';
let hits = 0;
const served: Record<string, Buffer> = { '/weights.bin': Buffer.alloc(300_000, 3) };

beforeAll(async () => {
  server = createServer((req, res) => {
    hits++;
    const body = served[req.url ?? ''];
    if (!body) return res.writeHead(404).end();
    res.writeHead(200, { 'content-length': body.length }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  rmSync(tmp, { recursive: true, force: true });
});

/** One ustar entry, written by hand so tests can build what no honest tool would. */
function tarEntry(name: string, body: string, type = '0', linkname = ''): Buffer {
  const header = Buffer.alloc(512);
  header.write(name, 0, 100);
  header.write('0000644\0', 100);
  header.write('0000000\0', 108);
  header.write('0000000\0', 116);
  header.write(Buffer.byteLength(body).toString(8).padStart(11, '0') + '\0', 124);
  header.write('00000000000\0', 136);
  header.write('        ', 148);
  header.write(type, 156);
  header.write(linkname, 157, 100);
  header.write('ustar\0', 257);
  header.write('00', 263);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  const data = Buffer.alloc(Math.ceil(Buffer.byteLength(body) / 512) * 512);
  data.write(body);
  return Buffer.concat([header, data]);
}
const tarball = (...entries: Buffer[]) => Buffer.concat([...entries, Buffer.alloc(1024)]);

describe('fetching assets', () => {
  it('downloads over http into the cache, then serves the cache after checking it again', async () => {
    const stateDir = join(tmp, 'state-http');
    const body = served['/weights.bin']!;
    const progress: number[] = [];
    const path = await fetchAsset({ url: `${base}/weights.bin`, sha256: sha(body) }, { stateDir, onProgress: (d) => progress.push(d) });
    expect(path).toBe(cachePath(stateDir, sha(body)));
    expect(readFileSync(path).equals(body)).toBe(true);
    expect(progress.at(-1)).toBe(body.length);
    const before = hits;
    expect(await fetchAsset({ url: `${base}/weights.bin`, sha256: sha(body) }, { stateDir })).toBe(path);
    expect(hits).toBe(before);
  });

  it('refuses a download whose sha256 differs, naming it, and caches nothing', async () => {
    const stateDir = join(tmp, 'state-bad');
    const wrong = '0'.repeat(64);
    const error = await fetchAsset({ url: `${base}/weights.bin`, sha256: wrong }, { stateDir, what: 'chestxray-cnn additional files' }).catch((e) => e);
    expect(error).toBeInstanceOf(HashMismatchError);
    expect(error.message).toBe(
      `chestxray-cnn additional files: expected sha256 ${wrong}, got ${sha(served['/weights.bin']!)}; nothing was run`,
    );
    expect(existsSync(cachePath(stateDir, wrong))).toBe(false);
    expect(readdirSync(join(stateDir, 'cache', 'sha256'))).toEqual([]);
  });

  it('re-checks a cached file on every use: an altered cache is fetched again', async () => {
    const stateDir = join(tmp, 'state-tamper');
    const file = join(tmp, 'params.yaml');
    writeFileSync(file, 'threshold: 0.5\n');
    const asset = { url: pathToFileURL(file).href, sha256: sha('threshold: 0.5\n') };
    const path = await fetchAsset(asset, { stateDir });
    writeFileSync(path, 'threshold: 0.0\n');
    expect(readFileSync(await fetchAsset(asset, { stateDir }), 'utf8')).toBe('threshold: 0.5\n');
    // When the source itself changed, the mismatch is an error.
    writeFileSync(path, 'tampered');
    writeFileSync(file, 'threshold: 0.9\n');
    await expect(fetchAsset(asset, { stateDir })).rejects.toThrow(/expected sha256 .* got /);
  });

  it('says what went wrong with an unreachable or missing source', async () => {
    const stateDir = join(tmp, 'state-missing');
    await expect(fetchAsset({ url: `${base}/nope`, sha256: '1'.repeat(64) }, { stateDir })).rejects.toThrow(/the server answered 404/);
    await expect(fetchAsset({ url: 'file:///does/not/exist', sha256: '1'.repeat(64) }, { stateDir })).rejects.toThrow(/no such file/);
  });
});

describe('extracting tarballs safely', () => {
  const write = (name: string, bytes: Buffer) => {
    const path = join(tmp, name);
    writeFileSync(path, bytes);
    return path;
  };

  it('extracts an honest gzip tarball with folders and inner links', async () => {
    const file = write('ok.tar.gz', gzipSync(tarball(tarEntry('weights/', '', '5'), tarEntry('weights/a.bin', 'AAA'), tarEntry('latest', '', '2', 'weights/a.bin'))));
    const dest = join(tmp, 'ok');
    await extractTarball(file, dest);
    expect(readFileSync(join(dest, 'weights/a.bin'), 'utf8')).toBe('AAA');
    expect(readFileSync(join(dest, 'latest'), 'utf8')).toBe('AAA');
  });

  const hostile: Array<[string, Buffer, RegExp]> = [
    ['absolute path', tarball(tarEntry('/tmp/owned', 'x')), /has an absolute path/],
    ['dot-dot', tarball(tarEntry('a/../../owned', 'x')), /climbs out of its folder/],
    ['symlink out', tarball(tarEntry('evil', '', '2', '../../etc/passwd')), /points outside the tarball/],
    ['absolute symlink', tarball(tarEntry('evil', '', '2', '/etc/passwd')), /points to the absolute path/],
    ['hard link out', tarball(tarEntry('evil', '', '1', '../outside')), /points outside the tarball/],
    ['device', tarball(tarEntry('dev', '', '3')), /is a CharacterDevice/],
    ['symlink then write through it', tarball(tarEntry('d', '', '2', '.'), tarEntry('x', 'ok'), tarEntry('e', '', '2', 'd/../..')), /points outside/],
  ];
  for (const [name, bytes, message] of hostile) {
    it(`rejects a tarball with ${name}, writing nothing`, async () => {
      const file = write(`${name}.tar`, bytes);
      const dest = join(tmp, 'x', name);
      mkdirSync(join(tmp, 'x'), { recursive: true });
      const error = await extractTarball(file, dest).catch((e) => e);
      expect(error).toBeInstanceOf(TarballRejectedError);
      expect(error.message).toMatch(message);
      expect(error.message).toContain('nothing was extracted');
      expect(readdirSync(join(tmp, 'x'))).toEqual([]);
      expect(existsSync('/tmp/owned')).toBe(false);
    });
  }

  it('rejects a tarball over the size limit', async () => {
    const file = write('big.tar', tarball(tarEntry('a', 'x'.repeat(2000))));
    await expect(extractTarball(file, join(tmp, 'big'), { maxBytes: 1000 })).rejects.toThrow(/more than 1000 bytes/);
    expect(existsSync(join(tmp, 'big'))).toBe(false);
  });

  it('rejects something that is not a tarball', async () => {
    const file = write('junk.tar', Buffer.from('this is not a tarball at all'.repeat(40)));
    await expect(extractTarball(file, join(tmp, 'junk'))).rejects.toThrow(TarballRejectedError);
  });
});
