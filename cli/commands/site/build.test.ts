import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { main } from '../../main.ts';

const example = fileURLToPath(new URL('../../../examples/registry/', import.meta.url));

async function run(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    cwd,
    env: { MEDPERF_GIT_HOME: join(tmp, 'state') },
    stdout: { write: (s: string) => ((stdout += s), true) } as never,
    stderr: { write: (s: string) => ((stderr += s), true) } as never,
  });
  return { code, stdout, stderr };
}

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'medperf-git-site-build-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('medperf-git site build', () => {
  it('builds the example registry with links to the repository', async () => {
    const r = await run(['site', 'build', example, '--out', 'site', '--repo-url', 'https://github.com/org/registry'], tmp);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('chestxray: 2 models');
    expect(r.stdout).toContain('wrote 6 files to site');
    const page = readFileSync(join(tmp, 'site/benchmarks/chestxray/index.html'), 'utf8');
    expect(page).toContain('<h1>Chest X-ray classification</h1>');
    expect(page).toContain('href="https://github.com/org/registry/blob/main/benchmarks/chestxray/benchmark.yaml"');
    const json = JSON.parse(readFileSync(join(tmp, 'site/benchmarks/chestxray/leaderboard.json'), 'utf8'));
    expect(json.publish).toBe('per-model');
    // One dataset so far: under per-model its numbers are that dataset's, so they stay unpublished.
    expect(page).not.toContain('0.726');
    expect(json.rows.map((r: { withheld: string }) => r.withheld)).toEqual([
      'published once the model has results on 2 datasets',
      'published once the model has results on 2 datasets',
    ]);
  });

  it('defaults to the current folder and _site, links records relatively, and rebuilds in place', async () => {
    const copy = join(tmp, 'registry');
    cpSync(example, copy, { recursive: true });
    expect((await run(['site', 'build'], copy)).code).toBe(0);
    expect(existsSync(join(copy, '_site/index.html'))).toBe(true);

    const out = join(tmp, 'out');
    expect((await run(['site', 'build', example, '--out', out], tmp)).code).toBe(0);
    writeFileSync(join(out, 'stale.html'), 'old');
    expect((await run(['site', 'build', example, '--out', out], tmp)).code).toBe(0);
    expect(existsSync(join(out, 'stale.html'))).toBe(false);
    const page = readFileSync(join(out, 'benchmarks/chestxray/index.html'), 'utf8');
    expect(page).toMatch(/href="(\.\.\/)+[^"]*examples\/registry\/mlcubes\/model-owner\/chestxray-mobilenet\.yaml"/);
  });

  it('refuses to replace a folder it did not build, and says where the registry is missing', async () => {
    mkdirSync(join(tmp, 'docs'));
    writeFileSync(join(tmp, 'docs/notes.md'), 'mine');
    const r = await run(['site', 'build', example, '--out', 'docs'], tmp);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error (not-a-site): ');
    expect(readFileSync(join(tmp, 'docs/notes.md'), 'utf8')).toBe('mine');

    const missing = await run(['site', 'build', join(tmp, 'docs'), '--out', 'x'], tmp);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain(`error (not-found): ${join(tmp, 'docs')} holds no registry.yaml`);
  });

  it('outside a registry folder, builds the main branch of the registry in use (the local forge)', async () => {
    const bare = join(tmp, 'state/forge/registry.git');
    const work = join(tmp, 'work');
    cpSync(example, work, { recursive: true });
    const git = (cwd: string, ...args: string[]) =>
      execFileSync('git', args, { cwd, env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x' } });
    mkdirSync(bare, { recursive: true });
    git(bare, 'init', '-q', '--bare', '-b', 'main');
    git(work, 'init', '-q', '-b', 'main');
    git(work, 'add', '.');
    git(work, 'commit', '-q', '-m', 'registry');
    git(work, 'push', '-q', bare, 'main');
    const empty = join(tmp, 'elsewhere');
    mkdirSync(empty);
    const r = await run(['site', 'build', '--out', 'preview'], empty);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`no registry.yaml in ${empty}: building the site of the registry ${join(tmp, 'state/forge')}`);
    expect(readFileSync(join(empty, 'preview/benchmarks/chestxray/index.html'), 'utf8')).toContain('<h1>Chest X-ray classification</h1>');
  });
});
