import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { combineFileHashes, hashFile, hashFolders, sha256Hex } from './hash.ts';

const dir = mkdtempSync(join(tmpdir(), 'hash-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// MedPerf's get_folders_hash, computed by coreutils: hash every file, sort the hex digests,
// concatenate them and hash that.
function coreutilsFolderHash(folder: string): string {
  return execFileSync(
    'sh',
    ['-c', `find "$1" -type f -print0 | xargs -0 sha256sum | cut -d' ' -f1 | sort | tr -d '\\n' | sha256sum | cut -d' ' -f1`, 'sh', folder],
    { encoding: 'utf8' },
  ).trim();
}

describe('hashing', () => {
  it('hashes a file like sha256sum, reporting progress', async () => {
    const file = join(dir, 'big.bin');
    writeFileSync(file, Buffer.alloc(3 * 1024 * 1024 + 17, 7));
    const seen: number[] = [];
    const hash = await hashFile(file, (b) => seen.push(b));
    expect(hash).toBe(execFileSync('sha256sum', [file], { encoding: 'utf8' }).split(' ')[0]);
    expect(seen.at(-1)).toBe(3 * 1024 * 1024 + 17);
  });

  it("gives MedPerf's folder hash over nested folders, whatever the thread count", async () => {
    const folder = join(dir, 'data');
    mkdirSync(join(folder, 'a', 'b'), { recursive: true });
    for (let i = 0; i < 300; i++) writeFileSync(join(folder, i % 2 ? 'a' : 'a/b', `f${i}.txt`), `image ${i}\n`.repeat(i));
    writeFileSync(join(folder, 'empty'), '');
    const expected = coreutilsFolderHash(folder);
    const progress: number[] = [];
    expect(await hashFolders(folder, { onProgress: (p) => progress.push(p.files) })).toBe(expected);
    expect(await hashFolders(folder, { threads: 1 })).toBe(expected);
    expect(progress.at(-1)).toBe(301);
  });

  it('does not depend on the order of folders, and counts linked files but not linked folders', async () => {
    const a = join(dir, 'x');
    const b = join(dir, 'y');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, '1'), 'one');
    writeFileSync(join(b, '2'), 'two');
    symlinkSync(join(a, '1'), join(b, 'link-to-file'));
    symlinkSync(a, join(b, 'link-to-dir'));
    const expected = combineFileHashes([sha256Hex('one'), sha256Hex('two'), sha256Hex('one')]);
    expect(await hashFolders([a, b])).toBe(expected);
    expect(await hashFolders([b, a])).toBe(expected);
  });

  it('hashes an empty folder as the hash of nothing', async () => {
    const empty = join(dir, 'empty-folder');
    mkdirSync(empty);
    expect(await hashFolders(empty)).toBe(sha256Hex(''));
  });
});
