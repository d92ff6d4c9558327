import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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
    // The ranking it built, as the tutorial prints it: withheld under per-model with one dataset.
    expect(r.stdout).toContain('Leaderboard of chestxray (Chest X-ray classification), ranked on AUC, higher is better:');
    expect(r.stdout).toMatch(/^rank\s+model\s+AUC\s+datasets$/m);
    expect(r.stdout).toMatch(/^-\s+bench-committee\/chestxray-cnn\s+published once the model has results on 2 datasets\s+1$/m);
    expect(r.stdout).toContain('wrote 10 files to site');
    const page = readFileSync(join(tmp, 'site/benchmarks/chestxray/index.html'), 'utf8');
    expect(page).toContain('<h1>Chest X-ray classification</h1>');
    expect(page).toContain('href="https://github.com/org/registry/blob/main/benchmarks/chestxray/benchmark.yaml"');
    const json = JSON.parse(readFileSync(join(tmp, 'site/benchmarks/chestxray/leaderboard.json'), 'utf8'));
    expect(json.publish).toBe('per-model');
    // One dataset so far: under per-model its numbers are that dataset's, so they stay unpublished.
    expect(page).not.toContain('0.726');
    expect(page).toContain("No model is ranked yet: under this benchmark's policy a model's numbers are published once it has results on 2 datasets.");
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

  it('under an aggregate policy, no file of the built site holds a per-dataset number', async () => {
    const copy = join(tmp, 'registry');
    cpSync(example, copy, { recursive: true });
    const bench = join(copy, 'benchmarks/chestxray/benchmark.yaml');
    writeFileSync(bench, readFileSync(bench, 'utf8').replace('publish: per-model', 'publish: aggregate'));
    // A second hospital, so each model has a mean over two datasets to publish.
    const uid = 'd2a7ca8a2030ab5e2ca2c0a4e515c864943a671212fea5c3edd166dc62a8dcc3';
    const toB = (p: string) => join(copy, p.replaceAll('hospital-a', 'hospital-b'));
    const perDataset: string[] = [];
    for (const p of [
      'datasets/data-owner/hospital-a.yaml',
      'benchmarks/chestxray/datasets/data-owner/hospital-a.yaml',
      'benchmarks/chestxray/results/data-owner/hospital-a/model-owner/chestxray-mobilenet.yaml',
      'benchmarks/chestxray/results/data-owner/hospital-a/bench-committee/chestxray-cnn.yaml',
    ]) {
      let text = readFileSync(join(copy, p), 'utf8').replaceAll('hospital-a', 'hospital-b').replaceAll(uid, 'b'.repeat(64));
      if (p.includes('/results/')) {
        // Distinct numbers on hospital B, and every per-dataset number of both hospitals noted.
        text = text.replace(/(AUC|F1|accuracy): (0\.\d+)/g, (_m, k: string, v: string) => `${k}: ${(Number(v) * 0.9137).toFixed(4)}`);
        for (const t of [readFileSync(join(copy, p), 'utf8'), text]) for (const m of t.matchAll(/(?:AUC|F1|accuracy): (0\.\d+)/g)) perDataset.push(m[1]!);
      }
      mkdirSync(dirname(toB(p)), { recursive: true });
      writeFileSync(toB(p), text);
    }
    const r = await run(['site', 'build', copy, '--out', 'site'], tmp);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('chestxray: 2 models (2 ranked), 2 datasets, publishes aggregate');
    // Under aggregate the ranking names no dataset count.
    expect(r.stdout).toMatch(/^rank\s+model\s+AUC$/m);
    expect(r.stdout).toMatch(/^1\s+\S+\/chestxray-\S+\s+0\.\d{3}$/m);
    const leaks: string[] = [];
    const walk = (d: string) => {
      for (const e of readdirSync(d, { withFileTypes: true })) {
        const p = join(d, e.name);
        if (e.isDirectory()) walk(p);
        else for (const n of perDataset) if (readFileSync(p, 'utf8').includes(n)) leaks.push(`${p}: ${n}`);
      }
    };
    walk(join(tmp, 'site'));
    expect(perDataset.length).toBe(12);
    expect(leaks).toEqual([]);
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
