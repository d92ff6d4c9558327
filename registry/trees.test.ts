import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { changedPaths, closeTree, directoryTree, gitChangedPaths, gitTree, memoryTree, mergeBase, readLimited } from './trees.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function write(root: string, files: Record<string, string>): void {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
}

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false', ...args], {
    cwd: dir,
    encoding: 'utf8',
  });
}

/** A repository whose `main` holds two files and whose `change` edits one, adds one and deletes one. */
function repo(): string {
  const dir = mkdtempSync(join(tmpdir(), 'medperf-git-trees-'));
  dirs.push(dir);
  git(dir, 'init', '-q', '-b', 'main');
  write(dir, { 'registry.yaml': 'title: t\n', 'mlcubes/a/x.yaml': 'name: x\n', 'mlcubes/a/gone.yaml': 'name: gone\n' });
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'base');
  git(dir, 'checkout', '-q', '-b', 'change');
  write(dir, { 'mlcubes/a/x.yaml': 'name: x2\n', 'datasets/b/y.yaml': 'name: y\n' });
  rmSync(join(dir, 'mlcubes/a/gone.yaml'));
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'change');
  return dir;
}

describe('memoryTree', () => {
  it('lists, reads and tells sizes before reading', async () => {
    const t = memoryTree({ 'b/2.yaml': 'two', 'a/1.yaml': Buffer.from('one') });
    expect(await t.list()).toEqual(['a/1.yaml', 'b/2.yaml']);
    expect(await t.list('b/')).toEqual(['b/2.yaml']);
    expect((await t.read('a/1.yaml'))?.toString()).toBe('one');
    expect(await t.read('c.yaml')).toBeUndefined();
    expect(await t.has('b/2.yaml')).toBe(true);
    expect(await t.readLimited('b/2.yaml', 2)).toEqual({ size: 3 });
  });
});

describe('directoryTree', () => {
  it('reads a folder without its .git, and refuses paths that leave it', async () => {
    const dir = repo();
    const t = directoryTree(dir);
    expect(await t.list('mlcubes/')).toEqual(['mlcubes/a/x.yaml']);
    expect(await t.list()).toEqual(['datasets/b/y.yaml', 'mlcubes/a/x.yaml', 'registry.yaml']);
    expect((await t.read('mlcubes/a/x.yaml'))?.toString()).toBe('name: x2\n');
    expect(await t.has('../outside')).toBe(false);
    expect(await t.read('mlcubes/../registry.yaml')).toBeUndefined();
    expect(await t.readLimited('registry.yaml', 4)).toEqual({ size: 9 });
  });

  it('lists a name that is not UTF-8 apart from a name that holds U+FFFD, the character it would decode to', async () => {
    const dir = repo();
    const folder = Buffer.from(join(dir, 'mlcubes/a/'));
    writeFileSync(Buffer.concat([folder, Buffer.from([0x78, 0xff, 0x2e, 0x79])]), 'x');
    writeFileSync(Buffer.concat([folder, Buffer.from('x\uFFFD.y')]), 'y');
    writeFileSync(Buffer.concat([folder, Buffer.from('z\uFFFD.y')]), 'z');
    const t = directoryTree(dir);
    expect(await t.list('mlcubes/')).toEqual(['mlcubes/a/x.yaml', 'mlcubes/a/x\\xff.y', 'mlcubes/a/x\uFFFD.y', 'mlcubes/a/z\uFFFD.y']);
    expect(await t.kind('mlcubes/a/x\\xff.y')).toBe('undecodable');
    expect((await t.read('mlcubes/a/x\uFFFD.y'))?.toString()).toBe('y');
    // A folder with only valid names, U+FFFD among them, is listed the same way.
    writeFileSync(join(dir, 'datasets/b/\uFFFD.yaml'), 'w');
    expect(await t.list('datasets/')).toEqual(['datasets/b/y.yaml', 'datasets/b/\uFFFD.yaml']);
  });
});

describe('gitTree', () => {
  it('reads a revision without a checkout, and closes its git process', async () => {
    const dir = repo();
    const base = gitTree(dir, 'main');
    try {
      expect(await base.list()).toEqual(['mlcubes/a/gone.yaml', 'mlcubes/a/x.yaml', 'registry.yaml']);
      expect(await base.list('mlcubes/a/x')).toEqual(['mlcubes/a/x.yaml']);
      expect((await base.read('mlcubes/a/x.yaml'))?.toString()).toBe('name: x\n');
      expect(await base.has('datasets/b/y.yaml')).toBe(false);
      expect(await base.read('nope.yaml')).toBeUndefined();
      expect(await readLimited(base, 'registry.yaml', 4)).toEqual({ size: 9 });
      // Many reads at once share the one process.
      const texts = await Promise.all(Array.from({ length: 50 }, () => base.read('registry.yaml')));
      expect(new Set(texts.map(String))).toEqual(new Set(['title: t\n']));
    } finally {
      await closeTree(base);
    }
  });

  it('takes a folder of the revision as its root', async () => {
    const dir = repo();
    const sub = gitTree(dir, 'change', { subdir: 'mlcubes' });
    try {
      expect(await sub.list()).toEqual(['a/x.yaml']);
      expect((await sub.read('a/x.yaml'))?.toString()).toBe('name: x2\n');
    } finally {
      await closeTree(sub);
    }
  });
});

describe('changes', () => {
  it('finds added, modified and deleted paths between trees and between revisions', async () => {
    const dir = repo();
    const expected = ['datasets/b/y.yaml', 'mlcubes/a/gone.yaml', 'mlcubes/a/x.yaml'];
    expect(await gitChangedPaths(dir, 'main', 'change')).toEqual(expected);
    const [base, head] = [gitTree(dir, 'main'), gitTree(dir, 'change')];
    try {
      expect(await changedPaths(base, head)).toEqual(expected);
    } finally {
      await Promise.all([closeTree(base), closeTree(head)]);
    }
  });

  it('compares the working tree, untracked files included, with the merge base', async () => {
    const dir = repo();
    git(dir, 'checkout', '-q', 'main');
    write(dir, { 'registry.yaml': 'title: edited\n', 'datasets/c/z.yaml': 'name: z\n' });
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'main moves on');
    git(dir, 'checkout', '-q', 'change');
    const mb = await mergeBase(dir, 'main');
    expect(mb).toBe(git(dir, 'rev-parse', 'main~1').trim());
    write(dir, { 'datasets/b/new.yaml': 'name: new\n' });
    expect(await gitChangedPaths(dir, mb)).toEqual(['datasets/b/new.yaml', 'datasets/b/y.yaml', 'mlcubes/a/gone.yaml', 'mlcubes/a/x.yaml']);
  });
});
