// The confidential tutorial: a committee-only benchmark, a private second model and two hospitals.
// What anyone who clones the registry or opens the site could read is scanned for every number of
// the data owner's local results.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flattenMetrics } from '../../registry/metrics.ts';
import { cli, pushedBytes } from '../../testing/seeded-registry.ts';

let state: string;
let home: string;
let run: { code: number; out: string; err: string };

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-tutorial-confidential-'));
  home = join(state, 'tutorial');
  run = await cli(state, '', ['tutorial', '--confidential', '--runner', 'process']);
}, 300_000);

afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

/** Every file under a folder, as bytes. */
function filesUnder(dir: string): Buffer[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile())
    .map((p) => readFileSync(p));
}

/**
 * The data owner's per-dataset numbers, from the results kept on their machine: each metric as
 * written (six decimals), left out when too short to be told apart from any other text, or when
 * the public compatibility tests on the benchmark's demo dataset (in the benchmark and model
 * association records) give the same number by chance (an accuracy of 28 in 30 and of 56 in 60).
 */
function localNumbers(): string[] {
  const demo = execFileSync('git', ['grep', '-h', '-o', '-E', '0\\.[0-9]{4,}', 'main', '--', 'benchmarks/chestxray/benchmark.yaml', 'benchmarks/chestxray/models/'], {
    cwd: join(home, 'forge', 'registry.git'),
    encoding: 'utf8',
  }).split('\n').map((l) => l.replace(/^main:/, ''));
  const dir = join(home, 'results');
  const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((p) => p.endsWith('result.json'));
  const numbers = new Set<string>();
  for (const file of files) {
    const { metrics } = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { metrics: Record<string, unknown> };
    for (const value of flattenMetrics(metrics).values()) if (/^0\.\d{4,}$/.test(String(value)) && !demo.includes(String(value))) numbers.add(String(value));
  }
  return [...numbers];
}

describe('medperf-git tutorial --confidential', () => {
  it('plays a committee-only benchmark with a private model: the committee reads every result, the admin none', () => {
    expect(run.code, run.err).toBe(0);
    const steps = [...run.out.matchAll(/^=== Step \d+: (.*)$/gm)].map((m) => m[1]!);
    expect(steps[0]).toMatch(/^medperf-admin makes the site key, which alone opens every encrypted result/);
    expect(steps).toContain('model-owner registers the private model model-owner/chestxray-mobilenet: its weights are encrypted to a key kept on this machine');
    expect(steps).toContain("model-owner grants the private model to every data owner whose dataset joined chestxray (MedPerf's auto-grant): its key, wrapped to each one's published recipient");
    expect(steps.filter((s) => s.startsWith('data-owner runs every approved model on'))).toHaveLength(2);
    expect(readFileSync(join(home, 'registry', 'registry.yaml'), 'utf8')).toMatch(/^site_recipient: age1[0-9a-z]+$/m);
    expect((statSync(join(home, 'site-key.txt')).mode & 0o777).toString(8)).toBe('600');

    const asCommittee = run.out.indexOf('$ medperf-git result ls -b chestxray --as bench-committee');
    const asAdmin = run.out.indexOf('$ medperf-git result ls -b chestxray --as medperf-admin');
    expect(asCommittee).toBeGreaterThan(0);
    expect(asAdmin).toBeGreaterThan(asCommittee);
    const committee = run.out.slice(asCommittee, asAdmin);
    const admin = run.out.slice(asAdmin, run.out.indexOf('=== Step', asAdmin));
    // Each of the four results, opened for the committee, with the data owner's own numbers.
    const means = localNumbers();
    const rows = committee.split('\n').filter((l) => /^\S+\/chestxray-\S+\s+data-owner\/hospital-[ab]\s+1\s/.test(l));
    expect(rows).toHaveLength(4);
    for (const row of rows) expect(means).toContain(row.trim().split(/\s+/).at(-1));
    expect(admin.match(/encrypted for the committee$/gm)).toHaveLength(4);
    // The site: each model's mean over the two hospitals.
    const built = run.out.indexOf('builds the leaderboard site');
    const board = run.out.slice(built, run.out.indexOf('=== Step', built));
    expect(board).toContain("The site publishes each model's mean over the 2 datasets, and no hospital's own number.");
    expect(board).toMatch(/^1\s+\S+\/chestxray-\S+\s+0\.\d{3}$/m);
    expect(board).toMatch(/^2\s+\S+\/chestxray-\S+\s+0\.\d{3}$/m);
  });

  it('tells a user without keys that the results are encrypted for the committee, and shows none of them', async () => {
    const ls = await cli(home, 'newcomer', ['result', 'ls', '-b', 'chestxray']);
    expect(ls.code, ls.err).toBe(0);
    expect(ls.out.match(/encrypted for the committee$/gm)).toHaveLength(4);
    const path = 'benchmarks/chestxray/results/data-owner/hospital-a/model-owner/chestxray-mobilenet.yaml';
    const view = await cli(home, 'newcomer', ['result', 'view', path]);
    expect(view.code).toBe(1);
    expect(view.err).toContain(`error (encrypted-for-the-committee): ${path} is encrypted for the committee, and newcomer has no keys on this machine`);
    for (const n of localNumbers()) expect(ls.out + view.out + view.err).not.toContain(n);
  });

  it("leaves no per-dataset number of the data owner in any object of the registry's history, nor in the site; the committee's own view holds them", () => {
    const numbers = localNumbers();
    expect(numbers.length).toBeGreaterThanOrEqual(16);
    const published = [pushedBytes(home), ...filesUnder(join(home, 'site'))];
    const leaked = numbers.filter((n) => published.some((bytes) => bytes.includes(n)));
    expect(leaked).toEqual([]);
    // The scan finds them where they are: the committee's per-dataset view, built on their machine.
    const committee = filesUnder(join(home, 'committee-site'));
    expect(numbers.filter((n) => committee.some((bytes) => bytes.includes(n))).length).toBeGreaterThan(0);
    // Every result in the registry is an envelope: no clear metrics under a committee-only benchmark.
    const results = execFileSync('git', ['ls-tree', '-r', '--name-only', 'main', 'benchmarks/chestxray/results/'], { cwd: join(home, 'forge', 'registry.git'), encoding: 'utf8' }).trim().split('\n');
    expect(results).toHaveLength(4);
    for (const path of results) {
      const text = execFileSync('git', ['show', `main:${path}`], { cwd: join(home, 'forge', 'registry.git'), encoding: 'utf8' });
      expect(text).toContain('-----BEGIN AGE ENCRYPTED FILE-----');
      expect(text).not.toMatch(/^metrics:/m);
    }
  });
});
