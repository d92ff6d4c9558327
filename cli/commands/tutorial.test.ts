import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { axeViolations, launchChromium, layoutProblems, serveFolder } from '../../testing/browser.ts';
import { cli } from '../../testing/seeded-registry.ts';

let state: string;
let first: { code: number; out: string; err: string };

beforeAll(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-tutorial-'));
  first = await cli(state, '', ['tutorial', '--runner', 'process']);
}, 300_000);

afterAll(async () => {
  await rm(state, { recursive: true, force: true });
});

describe('medperf-git tutorial', () => {
  it('plays every role, offline, from an empty registry to the leaderboard', () => {
    expect(first.code, first.err).toBe(0);
    const { out } = first;
    expect(out).toContain('Cubes run with the PROCESS RUNNER: directly on this machine, with NO isolation.');
    const steps = [...out.matchAll(/^=== Step \d+: (.*)$/gm)].map((m) => m[1]);
    expect(steps).toEqual([
      'medperf-admin creates the registry: registry.yaml names the admins',
      ...['medperf-admin', 'bench-committee', 'model-owner', 'data-owner'].map(
        (login) => `${login} makes their keys (kept in the state directory) and publishes the public halves as people/${login}.yaml`,
      ),
      'bench-committee registers the data-preparator cube bench-committee/chestxray-prep',
      'bench-committee registers the model cube bench-committee/chestxray-cnn',
      'bench-committee registers the metrics cube bench-committee/chestxray-metrics',
      'bench-committee submits the benchmark: the compatibility test of the three cubes on the demo dataset, which also gives the metric and statistics names it declares, then a PR for the admins',
      "medperf-admin approves the benchmark and merges it (MedPerf's admin approval)",
      'model-owner registers the model cube model-owner/chestxray-mobilenet',
      'model-owner asks to join the benchmark: the compatibility test on the demo data, then an association PR',
      "bench-committee approves the model's association",
      'data-owner registers the dataset data-owner/hospital-a: only its hashes and the typed text are published',
      "data-owner prepares the dataset with the benchmark's data preparator, locally",
      'data-owner publishes the statistics (the names the benchmark declares, nothing else) and marks the dataset operational',
      'data-owner asks to join the benchmark: the reference model on the prepared data',
      "bench-committee approves the dataset's association",
      'data-owner runs every approved model on data-owner/hospital-a and submits the results in one PR',
      'data-owner merges the results: they need no reviewer, the gate checks the associations are approved',
      'medperf-admin builds the leaderboard site from main (the Action does this on every push to main)',
    ]);
    expect(out).toContain('$ medperf-git association approve -b chestxray -d data-owner/hospital-a --message "Welcome to the benchmark." --as bench-committee --yes');
    expect(out.match(/^Merged: the association is approved\.$/gm)).toHaveLength(2);
    expect(out).toMatch(/^\$ medperf-git run -b chestxray -d data-owner\/hospital-a --runner process --as data-owner --yes$/m);
    expect(out).toContain('Total: 2 models, 1 ran, 1 from cache, 0 partial, 0 failed');
    // The leaderboard: both models ranked on the primary metric.
    const board = out.slice(out.indexOf('Leaderboard of chestxray'));
    expect(board).toMatch(/^rank\s+model\s+AUC\.mean\s+datasets$/m);
    expect(board).toMatch(/^1\s+\S+\/chestxray-\S+\s+0\.\d{3}\s+1$/m);
    expect(board).toMatch(/^2\s+\S+\/chestxray-\S+\s+0\.\d{3}\s+1$/m);
    const home = join(state, 'tutorial');
    expect(existsSync(join(home, 'site', 'index.html'))).toBe(true);
    expect(readFileSync(join(home, 'site', 'index.html'), 'utf8')).toContain('chestxray');
    // Every change landed on main, through merged pull requests.
    const log = execFileSync('git', ['log', '--oneline', 'main'], { cwd: join(home, 'forge', 'registry.git'), encoding: 'utf8' });
    expect(log.match(/Merge pull request/g)).toHaveLength(15);
    const resultFile = join(home, 'registry', 'benchmarks', 'chestxray', 'results', 'data-owner', 'hospital-a', 'model-owner', 'chestxray-mobilenet.yaml');
    // The run's two results are signed together: one signature, each with the proof of its place.
    const signatureOf = (file: string) => /^signature:\n  signed_by: data-owner\n  key_version: 1\n  proof:\n    - [a-f0-9]{64}\n  ed25519: ([A-Za-z0-9+/]{86}==)\n$/m.exec(readFileSync(file, 'utf8'))?.[1];
    expect(signatureOf(resultFile)).toBeDefined();
    expect(signatureOf(resultFile.replace('model-owner/chestxray-mobilenet', 'bench-committee/chestxray-cnn'))).toBe(signatureOf(resultFile));
    // Every role's keys are published; no private half is in the registry, its history or the output.
    for (const login of ['medperf-admin', 'bench-committee', 'model-owner', 'data-owner']) {
      expect(readFileSync(join(home, 'registry', 'people', `${login}.yaml`), 'utf8')).toMatch(/^signing_key: /m);
    }
    const everything = execFileSync('git', ['log', '-p', '--all'], { cwd: join(home, 'forge', 'registry.git'), encoding: 'utf8', maxBuffer: 1 << 28 });
    for (const text of [everything, out, first.err]) expect(text).not.toMatch(/AGE-SECRET-KEY|PRIVATE KEY/i);
    for (const login of ['medperf-admin', 'data-owner']) {
      const keys = join(home, 'keys', login);
      const age = readFileSync(join(keys, 'age-identity.txt'), 'utf8').trim();
      const seed = createPrivateKey(readFileSync(join(keys, 'signing-key.pem'), 'utf8')).export({ format: 'der', type: 'pkcs8' }).subarray(-32);
      expect((statSync(join(keys, 'signing-key.pem')).mode & 0o777).toString(8)).toBe('600');
      expect((statSync(join(keys, 'age-identity.txt')).mode & 0o777).toString(8)).toBe('600');
      for (const text of [everything, out, first.err]) {
        expect(text).not.toContain(age.slice(15));
        for (const encoding of ['base64', 'base64url', 'hex'] as const) expect(text).not.toContain(seed.toString(encoding));
      }
    }
  });

  it('builds a site that fits 375 px and 1280 px, with no serious or critical axe-core finding on any page', async () => {
    const site = join(state, 'tutorial', 'site');
    const pages = ['index.html', 'benchmarks/chestxray/index.html'];
    expect(pages.every((p) => existsSync(join(site, p)))).toBe(true);
    // The registry's history: the benchmark's approval, the associations, the results.
    const json = JSON.parse(readFileSync(join(site, 'benchmarks/chestxray/leaderboard.json'), 'utf8'));
    expect(json.history.length).toBeGreaterThanOrEqual(3);
    expect(json.history.at(-1).rows.map((r: { rank: number }) => r.rank)).toEqual([1, 2]);
    expect(json.coverage).toMatchObject({ pairs: 2, withResults: 2, waiting: 0 });
    const server = await serveFolder(site);
    const browser = await launchChromium();
    const found: string[] = [];
    try {
      for (const width of [375, 1280]) {
        const context = await browser.newContext({ viewport: { width, height: 900 } });
        const page = await context.newPage();
        for (const path of pages) {
          await page.goto(server.url + path, { waitUntil: 'load' });
          for (const p of [...(await layoutProblems(page)), ...(await axeViolations(page))]) found.push(`${path} at ${width} px: ${p}`);
        }
        await context.close();
      }
    } finally {
      await browser.close();
      await server.close();
    }
    expect(found).toEqual([]);
  }, 120_000);

  it('refuses to run over an earlier tutorial, and starts clean with --reset', async () => {
    const again = await cli(state, '', ['tutorial', '--runner', 'process']);
    expect(again.code).toBe(1);
    expect(again.err).toContain(`error (tutorial-exists): the tutorial ran here before (${join(state, 'tutorial')}); run \`medperf-git tutorial --reset\` to start it again from a clean state`);
    const reset = await cli(state, '', ['tutorial', '--runner', 'process', '--reset']);
    expect(reset.code, reset.err).toBe(0);
    expect(reset.out).toContain(`Removed the earlier tutorial in ${join(state, 'tutorial')}.`);
    expect(reset.out).toContain('Total: 2 models, 1 ran, 1 from cache, 0 partial, 0 failed');
  }, 300_000);
});
