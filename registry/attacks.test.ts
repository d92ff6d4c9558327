// Tried as an attacker would: every payload of testing/attack-payloads.ts, as a pull request on a git
// copy of examples/registry, is refused both from git objects (as the Action's validate mode reads
// a PR) and from the working tree (as `medperf-git validate --base main` reads it).
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attackPayloads, type Payload } from '../testing/attack-payloads.ts';
import { EXAMPLE_REGISTRY } from '../testing/example-registry.ts';
import { formatFinding } from './findings.ts';
import { closeTree, directoryTree, gitChangedPaths, gitTree } from './trees.ts';
import { validateChange } from './validate.ts';

let repo: string;
const git = (args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, encoding: 'utf8' }).trim();
const payloads: Payload[] = attackPayloads(
  (p) => readFileSync(join(repo, p), 'utf8'),
  (p, c) => {
    mkdirSync(dirname(join(repo, p)), { recursive: true });
    writeFileSync(join(repo, p), c);
  },
  (p) => unlinkSync(join(repo, p)),
);

beforeAll(() => {
  repo = mkdtempSync(join(tmpdir(), 'medperf-git-attacks-'));
  cpSync(EXAMPLE_REGISTRY, repo, { recursive: true });
  git(['init', '-q', '-b', 'main']);
  git(['add', '-A']);
  git(['commit', '-q', '-m', 'registry']);
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

describe('attacks on a copy of the example registry', () => {
  it('has payloads of every class', () => {
    expect(payloads.length).toBeGreaterThan(50);
  });

  it('refuses every payload, from git objects and from the working tree', async () => {
    const passed: string[] = [];
    for (const [i, p] of payloads.entries()) {
      git(['checkout', '-q', '-f', 'main']);
      git(['clean', '-qfdx']);
      git(['checkout', '-q', '-b', `attack-${i}`]);
      p.apply();
      git(['add', '-A']);
      git(['commit', '-q', '--allow-empty', '-m', p.name]);
      const base = gitTree(repo, 'main');
      const head = gitTree(repo, 'HEAD');
      try {
        const fromGit = await validateChange({ base, head, changed: await gitChangedPaths(repo, 'main', 'HEAD'), author: p.author });
        const fromFolder = await validateChange({ base, head: directoryTree(repo), changed: await gitChangedPaths(repo, 'main'), author: p.author });
        if (!fromGit.length) passed.push(`${p.name} (git objects)`);
        if (!fromFolder.length) passed.push(`${p.name} (working tree)`);
        // Both readers say the same.
        expect(fromFolder.map(formatFinding), p.name).toEqual(fromGit.map(formatFinding));
      } finally {
        await Promise.all([closeTree(base), closeTree(head)]);
      }
    }
    expect(passed).toEqual([]);
  }, 300_000);
});
