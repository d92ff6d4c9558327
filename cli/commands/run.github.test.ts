// The data owner's flow against a GitHub registry (the loopback stand-in): the data owner cannot
// push to the registry, so every change goes through their fork; the committee approves and the
// admin merges through GitHub's API. Then everything pushed is scanned for the data.
import { execFileSync } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitHubForge } from '../../registry/forge/github.ts';
import { GitHubStandIn } from '../../testing/github-standin/server.ts';
import { as, BENCHMARK, COMMITTEE, DATA_OWNER, rawData, seedRegistry, ADMIN, releaseForges } from '../../testing/seeded-registry.ts';
import { runCliOnGitHub } from '../../testing/cli.ts';

let standin: GitHubStandIn;
let home: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  standin = await GitHubStandIn.start();
  for (const login of [ADMIN, COMMITTEE, DATA_OWNER]) tokens[login] = standin.addUser(login);
  home = await mkdtemp(join(tmpdir(), 'medperf-git-gh-data-owner-'));
});

afterAll(async () => {
  await releaseForges();
  await standin.stop();
  await rm(home, { recursive: true, force: true });
});

async function forgeAs(login: string): Promise<GitHubForge> {
  return GitHubForge.open({
    owner: 'mlcommons',
    repo: 'registry',
    apiUrl: standin.apiUrl,
    serverUrl: standin.url,
    env: { GITHUB_TOKEN: tokens[login]! },
    clonesDir: join(home, `clones-${login}`),
    writeIntervalMs: 0,
  });
}

async function run(argv: string[]) {
  const result = await runCliOnGitHub(argv, { standin, home, token: tokens[DATA_OWNER]! });
  expect(result.code, result.err).toBe(0);
  return result;
}

/** Merges the data owner's open PR touching `prefix`, after `reviewer` approves it when given. */
async function mergeOpen(prefix: string, reviewer?: string): Promise<void> {
  const admin = await forgeAs(ADMIN);
  try {
    const [pull] = await admin.listPulls({ state: 'open', paths: [prefix] });
    expect(pull, `an open pull request under ${prefix}`).toBeDefined();
    expect(pull!.author).toBe(DATA_OWNER);
    if (reviewer) {
      const r = await forgeAs(reviewer);
      await r.review(pull!.number, 'APPROVE');
      await r.dispose();
    }
    await admin.merge(pull!.number);
  } finally {
    await admin.dispose();
  }
}

describe('the data owner on a GitHub registry', () => {
  it('registers, prepares, associates and runs through their fork; nothing pushed holds the data', async () => {
    // The benchmark as the committee registered it (done on a local forge, then published as the registry).
    const seed = join(home, 'seed');
    await seedRegistry(seed, { dataOwnerKeys: false });
    const main = await (await as(seed, ADMIN)).main();
    const files = await Promise.all((await main.list('')).map(async (path) => ({ path, content: (await main.read(path))! })));
    await standin.createRepo('mlcommons/registry', files, [ADMIN, COMMITTEE]);
    const raw = rawData(join(home, 'hospital'));
    // The data owner's keys, published through their fork like every other change.
    await run(['keys', 'init']);
    expect((await run(['keys', 'publish', '--yes'])).out).toMatch(/Opened pull request #\d+: http/);
    await mergeOpen('people/');

    const submit = await run(['dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--location', 'Hospital A', '--data-path', raw.data, '--labels-path', raw.labels, '--yes']);
    expect(submit.out).toMatch(/Opened pull request #\d+: http/);
    await mergeOpen('datasets/');
    await run(['dataset', 'prepare', '-d', 'hospital-a', '--runner', 'process']);
    await run(['dataset', 'set-operational', '-d', 'hospital-a', '--yes']);
    await mergeOpen('datasets/');
    const associate = await run(['dataset', 'associate', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(associate.out).toContain(`A committee member of ${BENCHMARK} (${COMMITTEE}) approves it`);
    await mergeOpen(`benchmarks/${BENCHMARK}/datasets/`, COMMITTEE);
    const result = await run(['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(result.out).toContain('Total: 2 models, 1 ran, 1 from cache, 0 partial, 0 failed');
    expect(result.out).toMatch(/Opened pull request #\d+: http/);
    const pulls = standin.pullsOf('mlcommons/registry');
    const results = pulls.find((p) => p.state === 'open')!;
    expect(results.user).toBe(DATA_OWNER);
    expect(results.headRepo).toBe(`${DATA_OWNER}/registry`);
    await mergeOpen(`benchmarks/${BENCHMARK}/results/`);

    const state = join(home, 'state');
    const repos = [standin.repoDir('mlcommons/registry'), standin.repoDir(`${DATA_OWNER}/registry`)];
    const pushed = Buffer.concat([
      ...repos.map((cwd) => execFileSync('git', ['cat-file', '--batch-all-objects', '--batch'], { cwd, maxBuffer: 1 << 28 })),
      Buffer.from(JSON.stringify(standin.pullsOf('mlcommons/registry'))),
    ]);
    expect(pushed.includes(Buffer.from('location: Hospital A'))).toBe(true);
    // Results are signed with the published key; no private key left this machine.
    expect(pushed.includes(Buffer.from('  signed_by: data-owner\n  key_version: 1\n'))).toBe(true);
    const age = readFileSync(join(state, 'keys', DATA_OWNER, 'age-identity.txt'), 'utf8').trim();
    const signingSeed = createPrivateKey(readFileSync(join(state, 'keys', DATA_OWNER, 'signing-key.pem'), 'utf8')).export({ format: 'der', type: 'pkcs8' }).subarray(-32);
    for (const text of [age, age.slice(15).toLowerCase(), 'PRIVATE KEY', signingSeed.toString('base64'), signingSeed.toString('hex')]) expect(pushed.includes(Buffer.from(text)), 'a private key').toBe(false);
    for (const text of [raw.data, raw.labels, join(state, 'datasets'), join(state, 'predictions'), join(state, 'results'), 'patient-0']) {
      expect(pushed.includes(Buffer.from(text)), text).toBe(false);
    }
    for (const file of readdirSync(raw.data).map((f) => join(raw.data, f))) {
      const bytes = readFileSync(file);
      for (let at = 16; at + 24 <= bytes.length; at += 97) expect(pushed.includes(bytes.subarray(at, at + 24)), file).toBe(false);
    }
    expect(standin.takeViolations()).toEqual([]);
  }, 180_000);
});
