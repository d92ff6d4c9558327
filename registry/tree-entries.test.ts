// Tree entries that are not records: names that are not UTF-8 text, symbolic links (whose target
// text may be a record), submodules. Each is a finding wherever it sits, whether the registry is
// read from a folder or from git objects, as a change or whole.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PATHS as P, EXAMPLE_REGISTRY } from '../testing/example-registry.ts';
import type { Finding } from './findings.ts';
import { closeTree, directoryTree, gitChangedPaths, gitTree, pathFromBytes, type RegistryTree } from './trees.ts';
import { validateChange, validateRegistry } from './validate.ts';

const SYMLINK = 'a symbolic link: registry files are regular files, never links';
const SUBMODULE = 'a submodule (gitlink): a registry holds no other repositories';
const CHECKED_OUT_SUBMODULE = 'a folder (a submodule or another repository) where git tracks a single entry';
const UNDECODABLE = 'file name is not valid UTF-8 (its bytes are shown as \\xNN)';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const isUtf8 = (b: Uint8Array) => {
  try {
    utf8.decode(b);
    return true;
  } catch {
    return false;
  }
};

// Byte strings that are not UTF-8: stray continuation bytes, overlong forms, surrogates, bytes
// that never occur, truncated sequences; then random ones.
const BAD_NAMES: Buffer[] = [
  [0xff],
  [0x80],
  [0xc3, 0x28],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0x61, 0x62, 0xe2, 0x82],
  [0x63, 0x6e, 0x6e, 0xfe, 0x2e, 0x79, 0x61, 0x6d, 0x6c],
].map((b) => Buffer.from(b));
const RANDOM_BAD = fc
  .sample(fc.uint8Array({ minLength: 1, maxLength: 12 }).filter((b) => !b.includes(0) && !b.includes(0x2f) && !isUtf8(b)), { numRuns: 12, seed: 9 })
  .map((b) => Buffer.from(b));

// Where the bad names sit: at the top, where a record would be, deep in a benchmark's folder.
const FOLDERS = ['', 'mlcubes/model-owner/', 'benchmarks/chestxray/results/data-owner/'];

const cube = readFileSync(join(EXAMPLE_REGISTRY, P.cube), 'utf8');
const SYMLINKS = ['mlcubes/model-owner/linked.yaml', 'README.md', 'benchmarks/chestxray/models/model-owner/linked.yaml', '.github/workflows/x.yml'];
const GITLINKS = ['mlcubes/model-owner/sub.yaml', 'vendor/lib', 'benchmarks/chestxray/results/data-owner/hospital-a/sub'];

function git(cwd: string, args: string[], input?: Buffer | string): string {
  return execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false', ...args], {
    cwd,
    input,
    encoding: 'utf8',
    stdio: ['pipe', 'pipe', 'ignore'],
  }).trim();
}

let repo: string;
/** The display path of every hostile entry, and the message its finding must start with. */
const hostile = new Map<string, string>();

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'medperf-git-entries-'));
  cpSync(EXAMPLE_REGISTRY, repo, { recursive: true });
  git(repo, ['init', '-q', '-b', 'main']);
  git(repo, ['add', '-A']);
  git(repo, ['commit', '-q', '-m', 'registry']);
  git(repo, ['checkout', '-q', '-b', 'change']);
  const record = git(repo, ['hash-object', '-w', '--stdin'], cube);
  const commit = git(repo, ['rev-parse', 'main']);
  // The index is written with raw bytes: names git stores as they are, whatever they decode to.
  const lines: Buffer[] = [];
  const add = (mode: string, id: string, path: Buffer, message: string) => {
    lines.push(Buffer.concat([Buffer.from(`${mode} ${id}\t`), path, Buffer.from('\n')]));
    hostile.set(pathFromBytes(path), message);
  };
  for (const folder of FOLDERS) for (const name of [...BAD_NAMES, ...RANDOM_BAD]) add('100644', record, Buffer.concat([Buffer.from(folder), name]), UNDECODABLE);
  for (const path of SYMLINKS) add('120000', record, Buffer.from(path), SYMLINK);
  for (const path of GITLINKS) add('160000', commit, Buffer.from(path), SUBMODULE);
  git(repo, ['update-index', '--add', '--index-info'], Buffer.concat(lines));
  git(repo, ['commit', '-q', '-m', 'hostile entries']);
  // The working tree now holds them too: real links, folders for the submodules, raw names.
  git(repo, ['checkout', '-q', '-f', 'change']);
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

/** Every hostile entry has its finding (and the finding names it); nothing hostile passes. */
function expectEveryEntryFound(findings: Finding[], submodule: string): void {
  const layout = new Map(findings.filter((f) => f.rule === 'layout').map((f) => [f.path, f.message]));
  const missing: string[] = [];
  for (const [path, message] of hostile) {
    const expected = message === SUBMODULE ? submodule : message;
    if (!layout.get(path)?.startsWith(expected)) missing.push(`${path}: ${layout.get(path) ?? 'no finding'}`);
  }
  expect(missing).toEqual([]);
}

async function withTrees<T>(trees: RegistryTree[], fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    for (const t of trees) await closeTree(t);
  }
}

describe('tree entries that are not records', () => {
  it('shows a name that is not UTF-8 with its bytes escaped, and never as a record path', () => {
    expect(pathFromBytes(Buffer.from([0x6d, 0x6c, 0x2f, 0xff, 0x2e, 0x79]))).toBe('ml/\\xff.y');
    expect(pathFromBytes(Buffer.from('mlcubes/model-owner/cnn.yaml'))).toBe('mlcubes/model-owner/cnn.yaml');
    for (const name of RANDOM_BAD) expect(pathFromBytes(name)).toMatch(/\\x[0-9a-f]{2}/);
  });

  it('are each a finding in a change read from git objects (as the Action reads a PR)', async () => {
    const base = gitTree(repo, 'main');
    const head = gitTree(repo, 'change');
    const changed = await gitChangedPaths(repo, 'main', 'change');
    expect(changed.length).toBe(hostile.size);
    await withTrees([base, head], async () => expectEveryEntryFound(await validateChange({ base, head, changed, author: 'model-owner' }), SUBMODULE));
  });

  it('are each a finding when the whole revision is validated from git objects', async () => {
    const head = gitTree(repo, 'change');
    await withTrees([head], async () => expectEveryEntryFound(await validateRegistry(head), SUBMODULE));
  });

  it('never read a link target or a submodule as a record from git objects', async () => {
    const head = gitTree(repo, 'change');
    await withTrees([head], async () => {
      for (const path of SYMLINKS) {
        expect(await head.kind(path)).toBe('symlink');
        expect(await head.read(path)).toBeUndefined();
        expect(await head.readLimited(path, 1 << 20)).toBeUndefined();
      }
      for (const path of GITLINKS) expect(await head.kind(path)).toBe('submodule');
      expect(await head.kind(P.cube)).toBe('file');
      expect((await head.read(P.cube))?.toString('utf8')).toBe(cube);
    });
  });

  it('are each a finding in a change of the working tree (medperf-git validate --base main)', async () => {
    const base = gitTree(repo, 'main');
    const head = directoryTree(repo);
    const changed = await gitChangedPaths(repo, 'main');
    await withTrees([base, head], async () =>
      expectEveryEntryFound(await validateChange({ base, head, changed, author: 'model-owner' }), CHECKED_OUT_SUBMODULE),
    );
  });

  it('are each a finding when the whole folder is validated', async () => {
    const head = directoryTree(repo);
    // A checked-out submodule is an empty folder: nothing of it is listed, and nothing can hide there.
    const findings = await validateRegistry(head);
    for (const [path, message] of hostile) {
      if (message === SUBMODULE) continue;
      expect(findings.find((f) => f.path === path)?.message ?? `no finding for ${path}`).toMatch(new RegExp(`^${message.replace(/[\\()[\].*+?^$|{}]/g, '\\$&')}`));
    }
  });

  it('lets a change remove them', async () => {
    const cleanup = git(repo, ['commit-tree', git(repo, ['rev-parse', 'main^{tree}']), '-p', 'change', '-m', 'cleanup']);
    git(repo, ['branch', 'cleanup', cleanup]);
    const base = gitTree(repo, 'change');
    const head = gitTree(repo, 'cleanup');
    const changed = await gitChangedPaths(repo, 'change', 'cleanup');
    expect(changed.length).toBe(hostile.size);
    await withTrees([base, head], async () => {
      const findings = await validateChange({ base, head, changed, author: 'model-owner' });
      expect(findings.filter((f) => f.rule === 'layout')).toEqual([]);
    });
  });
});
