import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gitBlobId, leaderboardHistory } from './history.ts';
import { computeLeaderboard } from './leaderboard.ts';
import { benchmarkRecord, resultRecord } from '../testing/leaderboard.ts';
import type { BenchmarkRecord } from './records.ts';

const test = { metrics: { AUC: 0.5 }, dataset_generated_uid: 'a'.repeat(64), medperf_git_version: '0.1.0' };

let repo: string;
let clock = 0;
function git(args: string[], cwd = repo): string {
  const date = new Date(Date.UTC(2026, 10, 1 + clock, 12)).toISOString();
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, GIT_AUTHOR_NAME: 'a', GIT_AUTHOR_EMAIL: 'a@x', GIT_COMMITTER_NAME: 'a', GIT_COMMITTER_EMAIL: 'a@x', GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
  }).trim();
}
function write(files: Record<string, unknown>): void {
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(dirname(join(repo, path)), { recursive: true });
    writeFileSync(join(repo, path), JSON.stringify(data));
  }
}
/** A pull request merged into main: a topic branch with one commit, merged with a merge commit on the next day. */
function merge(name: string, files: Record<string, unknown>): string {
  git(['checkout', '-q', '-b', name]);
  write(files);
  git(['add', '.']);
  git(['commit', '-q', '-m', name]);
  git(['checkout', '-q', 'main']);
  clock++;
  git(['merge', '-q', '--no-ff', '-m', `Merge ${name}`, name]);
  return git(['rev-parse', 'HEAD']);
}
const result = (dataset: string, model: string, auc: number, version = 1) => ({ ...resultRecord('lung', dataset, model, { AUC: auc }), version });
const at = (day: number) => new Date(Date.UTC(2026, 10, 1 + day, 12)).toISOString();

beforeEach(() => {
  repo = mkdtempSync(join(tmpdir(), 'medperf-git-history-'));
  clock = 0;
  git(['init', '-q', '-b', 'main']);
  write({ 'registry.yaml': { title: 't' }, 'benchmarks/lung/benchmark.yaml': benchmarkRecord('lung') });
  git(['add', '.']);
  git(['commit', '-q', '-m', 'benchmark']);
  merge('associations', {
    'benchmarks/lung/models/a/m1.yaml': { initiated_by: 'a', compatibility_test: test, priority: 1 },
    'benchmarks/lung/models/a/m2.yaml': { initiated_by: 'a', compatibility_test: test, priority: 1 },
    'benchmarks/lung/datasets/h/x.yaml': { initiated_by: 'h', compatibility_test: test },
    'benchmarks/lung/datasets/h/y.yaml': { initiated_by: 'h', compatibility_test: test },
  });
});
afterEach(() => rmSync(repo, { recursive: true, force: true }));

async function historyUnder(publish: BenchmarkRecord['results_policy']['publish']) {
  const record = benchmarkRecord('lung', { publish });
  return (await leaderboardHistory(repo, 'main', [{ benchmark: 'lung', record, results: [] }])).get('lung')!;
}

describe('leaderboardHistory', () => {
  it('replays main merge by merge: ranks, numbers and result versions under per-dataset', async () => {
    const first = merge('results-x', { 'benchmarks/lung/results/h/x/a/m1.yaml': result('h/x', 'a/m1', 0.8), 'benchmarks/lung/results/h/x/a/m2.yaml': result('h/x', 'a/m2', 0.7) });
    const second = merge('results-y', { 'benchmarks/lung/results/h/y/a/m2.yaml': result('h/y', 'a/m2', 0.95) });
    const rerun = merge('rerun', { 'benchmarks/lung/results/h/x/a/m1.yaml': result('h/x', 'a/m1', 0.9, 2) });
    // A branch never merged is not history.
    git(['checkout', '-q', '-b', 'open-pr']);
    write({ 'benchmarks/lung/results/h/y/a/m1.yaml': result('h/y', 'a/m1', 0.1) });
    git(['add', '.']);
    git(['commit', '-q', '-m', 'unmerged']);
    git(['checkout', '-q', 'main']);

    const points = await historyUnder('per-dataset');
    // From the benchmark's approval on: it starts with no association.
    expect(points.map((p) => [p.at, p.commit, p.counts, p.ranked])).toEqual([
      [at(0), expect.any(String), { models: 0, datasets: 0, results: 0 }, 0],
      [at(1), expect.any(String), { models: 2, datasets: 2, results: 0 }, 0],
      [at(2), first, { models: 2, datasets: 2, results: 2 }, 2],
      [at(3), second, { models: 2, datasets: 2, results: 3 }, 2],
      [at(4), rerun, { models: 2, datasets: 2, results: 3 }, 2],
    ]);
    expect(points[2]!.rows).toEqual([
      { model: 'a/m1', rank: 1, primary: 0.8 },
      { model: 'a/m2', rank: 2, primary: 0.7 },
    ]);
    expect(points[3]!.rows!.map((r) => [r.model, r.rank])).toEqual([
      ['a/m2', 1],
      ['a/m1', 2],
    ]);
    expect(points[4]!.rows!.map((r) => [r.model, r.rank, r.primary])).toEqual([
      ['a/m1', 1, 0.9],
      ['a/m2', 2, 0.825],
    ]);
    expect(points[4]!.results).toEqual([{ model: 'a/m1', dataset: 'h/x', version: 2 }]);
  });

  it('under per-model and aggregate keeps only counts: a moving mean would give one dataset away', async () => {
    merge('results-x', { 'benchmarks/lung/results/h/x/a/m1.yaml': result('h/x', 'a/m1', 0.8137), 'benchmarks/lung/results/h/x/a/m2.yaml': result('h/x', 'a/m2', 0.7261) });
    merge('results-y', { 'benchmarks/lung/results/h/y/a/m1.yaml': result('h/y', 'a/m1', 0.9021), 'benchmarks/lung/results/h/y/a/m2.yaml': result('h/y', 'a/m2', 0.6843) });
    // A rerun that changes one dataset's number changes no count: no point to publish.
    merge('rerun', { 'benchmarks/lung/results/h/y/a/m1.yaml': result('h/y', 'a/m1', 0.9512, 2) });
    for (const publish of ['per-model', 'aggregate'] as const) {
      const points = await historyUnder(publish);
      expect(points.map((p) => [p.counts.results, p.ranked])).toEqual([
        [0, 0],
        [0, 0],
        [2, 0],
        [4, 2],
      ]);
      expect(points.every((p) => p.rows === undefined && p.results === undefined)).toBe(true);
      expect(JSON.stringify(points)).not.toMatch(/0\.8137|0\.7261|0\.9021|0\.6843|0\.9512|0\.85|0\.70|0\.88/);
    }
  });

  it('replays the results it is given by blob and path as it replays them from Git, and reads the others', async () => {
    merge('results-x', { 'benchmarks/lung/results/h/x/a/m1.yaml': result('h/x', 'a/m1', 0.8), 'benchmarks/lung/results/h/x/a/m2.yaml': result('h/x', 'a/m2', 0.7) });
    merge('rerun', { 'benchmarks/lung/results/h/x/a/m1.yaml': result('h/x', 'a/m1', 0.9, 2) });
    const record = benchmarkRecord('lung', { publish: 'per-dataset' });
    const fromGit = (await leaderboardHistory(repo, 'main', [{ benchmark: 'lung', record, results: [] }])).get('lung')!;
    // Today's m1 (version 2) and m2, as the site read them; an earlier m1 would be another blob.
    const known = new Map<string, ReturnType<typeof result>>();
    for (const path of ['benchmarks/lung/results/h/x/a/m1.yaml', 'benchmarks/lung/results/h/x/a/m2.yaml']) {
      const bytes = readFileSync(join(repo, path));
      known.set(`${gitBlobId(bytes, 'sha1')} ${path}`, JSON.parse(bytes.toString('utf8')));
    }
    expect(git(['hash-object', 'benchmarks/lung/results/h/x/a/m2.yaml'])).toBe([...known.keys()][1]!.split(' ')[0]);
    const reused = (await leaderboardHistory(repo, 'main', [{ benchmark: 'lung', record, results: [] }], '', known as never)).get('lung')!;
    expect(reused).toEqual(fromGit);
    // Today's leaderboard, given, stands for the last point; one computed from other results would not.
    const input = { benchmark: 'lung', record, results: [...known].map(([k, r]) => ({ model: k.includes('m1') ? 'a/m1' : 'a/m2', dataset: 'h/x', record: r as never })), models: ['a/m1', 'a/m2'], datasets: ['h/x', 'h/y'] };
    const today = computeLeaderboard(input);
    const withToday = (await leaderboardHistory(repo, 'main', [{ ...input, results: [] }], '', known as never, new Map([['lung', { board: today, results: 2 }]]))).get('lung')!;
    expect(withToday).toEqual(fromGit);
    const stale = { ...today, rows: [] };
    const notToday = (await leaderboardHistory(repo, 'main', [{ ...input, models: ['a/m1'], results: [] }], '', known as never, new Map([['lung', { board: stale, results: 2 }]]))).get('lung')!;
    expect(notToday.at(-1)!.rows!.length).toBeGreaterThan(0);
    expect(reused.at(-1)!.rows!.map((r) => [r.model, r.primary])).toEqual([
      ['a/m1', 0.9],
      ['a/m2', 0.7],
    ]);
    // Bytes known under another path are not that path's record: the blob is read from Git.
    const moved = new Map([...known].map(([k, v]) => (k.endsWith('a/m2.yaml') ? [k.replace('a/m2.yaml', 'a/m3.yaml'), { ...v, metrics: { AUC: 0.01 } }] : [k, v])));
    expect((await leaderboardHistory(repo, 'main', [{ benchmark: 'lung', record, results: [] }], '', moved as never)).get('lung')!.at(-1)!.rows!.map((r) => r.primary)).toEqual([0.9, 0.7]);
  });

  it('reads a registry kept in a folder of a larger repository', async () => {
    const outer = mkdtempSync(join(tmpdir(), 'medperf-git-history-outer-'));
    try {
      execFileSync('git', ['init', '-q', '-b', 'main'], { cwd: outer });
      merge('results-x', { 'benchmarks/lung/results/h/x/a/m1.yaml': result('h/x', 'a/m1', 0.8) });
      execFileSync('cp', ['-r', repo, join(outer, 'registry')]);
      rmSync(join(outer, 'registry/.git'), { recursive: true, force: true });
      execFileSync('git', ['add', '.'], { cwd: outer });
      execFileSync('git', ['-c', 'user.name=a', '-c', 'user.email=a@x', 'commit', '-q', '-m', 'registry'], { cwd: outer });
      const record = benchmarkRecord('lung');
      const points = (await leaderboardHistory(join(outer, 'registry'), 'HEAD', [{ benchmark: 'lung', record, results: [] }], 'registry/')).get('lung')!;
      expect(points).toHaveLength(1);
      expect(points[0]!.rows).toEqual([{ model: 'a/m1', rank: 1, primary: 0.8 }]);
    } finally {
      rmSync(outer, { recursive: true, force: true });
    }
  });
});
