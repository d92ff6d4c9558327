// A rerun replaces a finished folder only once it finishes: a failed or interrupted rerun leaves
// the earlier output as it was, and the next rerun resumes the tasks the interrupted one finished.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { replaceWhenDone } from './execute.ts';

function finished(root: string): string {
  const target = join(root, 'execution');
  mkdirSync(join(target, 'predictions'), { recursive: true });
  writeFileSync(join(target, 'predictions', 'p.csv'), 'earlier');
  return target;
}

describe('replaceWhenDone', () => {
  it('keeps the earlier folder when the rerun fails', async () => {
    const target = finished(mkdtempSync(join(tmpdir(), 'rerun-')));
    const failed = await replaceWhenDone(target, async (dir) => {
      writeFileSync(join(dir, 'half'), 'x');
      throw new Error('model failed');
    }).catch((e: Error) => e);
    expect((failed as Error).message).toBe('model failed');
    expect(readFileSync(join(target, 'predictions', 'p.csv'), 'utf8')).toBe('earlier');
  });

  it('replaces it once the rerun finishes, and only then writes what refers to it', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rerun-'));
    const target = finished(root);
    const seen: string[] = [];
    const value = await replaceWhenDone(
      target,
      async (dir) => {
        mkdirSync(join(dir, 'predictions'));
        writeFileSync(join(dir, 'predictions', 'p.csv'), 'rerun');
        seen.push(readFileSync(join(target, 'predictions', 'p.csv'), 'utf8'));
        return 42;
      },
      async (v) => void seen.push(`after ${v}: ${readFileSync(join(target, 'predictions', 'p.csv'), 'utf8')}`),
    );
    expect(value).toBe(42);
    expect(seen).toEqual(['earlier', 'after 42: rerun']);
    expect(readdirSync(root)).toEqual(['execution']);
  });

  it('resumes what an interrupted rerun finished', async () => {
    const target = finished(mkdtempSync(join(tmpdir(), 'rerun-')));
    await replaceWhenDone(target, async (dir) => {
      mkdirSync(join(dir, 'predictions'));
      throw new Error('interrupted');
    }).catch(() => {});
    const found = await replaceWhenDone(target, async (dir) => existsSync(join(dir, 'predictions')));
    expect(found).toBe(true);
    expect(existsSync(join(target, 'predictions', 'p.csv'))).toBe(false);
  });
});
