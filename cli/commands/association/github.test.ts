// The committee's and the model owner's flow on a GitHub registry (the loopback stand-in): PRs from
// forks, reviews, and association states read from GitHub's pull requests.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoTarball } from '../../demo/dataset.ts';
import { GitHubForge } from '../../../registry/forge/github.ts';
import { GitHubStandIn } from '../../../testing/github-standin/server.ts';
import { ADMIN, COMMITTEE, cubeDir, digest, MODEL_OWNER } from '../../../testing/registry-harness.ts';
import { runCliOnGitHub } from '../../../testing/cli.ts';

const REPO = 'mlcommons/registry';
let standin: GitHubStandIn;
let home: string;
let demoUrl: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  standin = await GitHubStandIn.start();
  for (const login of [ADMIN, COMMITTEE, MODEL_OWNER]) tokens[login] = standin.addUser(login);
  home = await mkdtemp(join(tmpdir(), 'medperf-git-committee-gh-'));
  await buildDemoTarball(join(home, 'demo_data.tar.gz'));
  demoUrl = pathToFileURL(join(home, 'demo_data.tar.gz')).href;
  await standin.createRepo(
    REPO,
    [{ path: 'registry.yaml', content: `title: Test registry\nadmins:\n  - ${ADMIN}\n` }],
    [ADMIN],
  );
});
afterAll(async () => {
  await standin.stop();
  await rm(home, { recursive: true, force: true });
});

function run(argv: string[], login: string) {
  return runCliOnGitHub(argv, { standin, home, stateDir: join(home, 'state', login), token: tokens[login]! });
}

async function asAdmin<T>(fn: (forge: GitHubForge) => Promise<T>): Promise<T> {
  const forge = await GitHubForge.open({
    owner: 'mlcommons',
    repo: 'registry',
    apiUrl: standin.apiUrl,
    serverUrl: standin.url,
    env: { GITHUB_TOKEN: tokens[ADMIN]! },
    clonesDir: join(home, 'admin-clones'),
    writeIntervalMs: 0,
  });
  try {
    return await fn(forge);
  } finally {
    await forge.dispose();
  }
}

async function submitCube(login: string, name: string, c: string): Promise<void> {
  const r = await run(['mlcube', 'submit', cubeDir(name), '--image-digest', digest(c), '--operational', '--yes', '--json'], login);
  expect(r.err).not.toContain('error');
  await asAdmin((f) => f.merge(JSON.parse(r.out).pull.number));
}

describe('on a GitHub registry, mlcube submit', () => {
  it('warns that file:// URLs are private to this machine', async () => {
    const r = await run(['mlcube', 'submit', cubeDir('chestxray-cnn'), '--name', 'local-only', '--image-digest', digest('f'), '--yes'], MODEL_OWNER);
    expect(r.code).toBe(0);
    expect(r.out).toContain('Note: the record names files on this machine (file:// URLs): nobody else can fetch them, and their paths are published.');
    await asAdmin(async (f) => f.close(Number(/pull request #(\d+)/.exec(r.out)![1])));
  });
});

describe('on a GitHub registry', () => {
  it('cubes, the benchmark and a model association go through pull requests from forks; association ls reads their states', async () => {
    await submitCube(COMMITTEE, 'chestxray-prep', 'a');
    await submitCube(COMMITTEE, 'chestxray-cnn', 'b');
    await submitCube(COMMITTEE, 'chestxray-metrics', 'c');
    await submitCube(MODEL_OWNER, 'chestxray-mobilenet', 'd');

    const early = await run(['mlcube', 'associate', '-b', 'chestxray', '-m', `${MODEL_OWNER}/chestxray-mobilenet`, '--runner', 'process', '--yes'], MODEL_OWNER);
    expect(early.err).toBe('error (not-found): no benchmark chestxray in the registry; see `medperf-git benchmark ls`\n');

    const bench = await run(
      ['benchmark', 'submit', '--name', 'chestxray', '-p', `${COMMITTEE}/chestxray-prep`, '-m', `${COMMITTEE}/chestxray-cnn`, '-e', `${COMMITTEE}/chestxray-metrics`,
        '--demo-dataset-url', demoUrl, '--primary-metric', 'AUC.mean', '--runner', 'process', '--yes', '--json'],
      COMMITTEE,
    );
    expect(bench.code).toBe(0);
    const benchPull = JSON.parse(bench.out).pull;
    expect(benchPull.url).toBe(`${standin.url}/${REPO}/pull/${benchPull.number}`);
    const pending = await run(['mlcube', 'associate', '-b', 'chestxray', '-m', `${MODEL_OWNER}/chestxray-mobilenet`, '--runner', 'process', '--yes'], MODEL_OWNER);
    expect(pending.err).toBe(
      `error (benchmark-not-approved): the benchmark chestxray is not approved yet: its pull request #${benchPull.number} is pending an admin's review; nothing was submitted\n`,
    );
    expect((await run(['benchmark', 'ls'], MODEL_OWNER)).out).toMatch(new RegExp(`\\nchestxray  chestxray  pending \\(#${benchPull.number}\\) +bench-committee\\n$`));
    await asAdmin(async (f) => {
      await f.review(benchPull.number, 'APPROVE');
      await f.merge(benchPull.number);
    });

    const assoc = await run(['mlcube', 'associate', '-b', 'chestxray', '-m', `${MODEL_OWNER}/chestxray-mobilenet`, '--runner', 'process', '--yes', '--json'], MODEL_OWNER);
    expect(assoc.code).toBe(0);
    const assocPull = JSON.parse(assoc.out).pull;
    expect(assocPull.author).toBe(MODEL_OWNER);
    const ls = await run(['association', 'ls', '-b', 'chestxray'], COMMITTEE);
    expect(ls.out).toContain(`chestxray  model  model-owner/chestxray-mobilenet  pending (#${assocPull.number})`);
    expect(ls.out).toContain('chestxray  model  bench-committee/chestxray-cnn    approved');

    // The committee reviews; without write access to the registry, the merge is left to a maintainer.
    const approve = await run(['association', 'approve', '-b', 'chestxray', '-m', `${MODEL_OWNER}/chestxray-mobilenet`], COMMITTEE);
    expect(approve.code).toBe(0);
    expect(approve.out).toMatch(new RegExp(`^Approved pull request #${assocPull.number} \\(model model-owner/chestxray-mobilenet with chestxray\\) as bench-committee\\.\\nNot merged yet: `));
    expect(await asAdmin((f) => f.reviews(assocPull.number))).toEqual([expect.objectContaining({ login: COMMITTEE, state: 'APPROVED' })]);
    await asAdmin((f) => f.merge(assocPull.number));
    const after = await run(['association', 'ls', '-m', `${MODEL_OWNER}/chestxray-mobilenet`, '--json'], COMMITTEE);
    expect(JSON.parse(after.out)).toMatchObject({ benchmark: 'chestxray', entity: `${MODEL_OWNER}/chestxray-mobilenet`, status: 'approved', priority: 0, initiatedBy: MODEL_OWNER });
    expect(standin.takeViolations()).toEqual([]);
  }, 180_000);
});

describe('on a GitHub registry, association reject', () => {
  it('by a committee member without triage posts the review and says plainly that the PR is left open; with triage it closes it', async () => {
    const cube = await run(['mlcube', 'submit', cubeDir('chestxray-mobilenet'), '--name', 'second-model', '--image-digest', digest('e'), '--operational', '--yes', '--json'], MODEL_OWNER);
    await asAdmin((f) => f.merge(JSON.parse(cube.out).pull.number));
    const assoc = await run(['mlcube', 'associate', '-b', 'chestxray', '-m', `${MODEL_OWNER}/second-model`, '--runner', 'process', '--yes', '--json'], MODEL_OWNER);
    expect(assoc.code).toBe(0);
    const number = JSON.parse(assoc.out).pull.number as number;

    standin.setRole(REPO, COMMITTEE, 'read');
    const first = await run(['association', 'reject', '-b', 'chestxray', '-m', `${MODEL_OWNER}/second-model`, '--reason', 'fails on the demo data'], COMMITTEE);
    expect(first.code).toBe(1);
    expect(first.err).toBe('');
    expect(first.out).toBe(
      `Requested changes on pull request #${number} (model ${MODEL_OWNER}/second-model with chestxray), but it is still open: ${COMMITTEE} may not close other people's pull requests on ${REPO} (that needs the triage role). Left to do: a maintainer closes #${number}, or an admin gives the committee triage and you run this again.\n`,
    );
    expect(await asAdmin((f) => f.reviews(number))).toEqual([expect.objectContaining({ login: COMMITTEE, state: 'CHANGES_REQUESTED' })]);
    expect((await asAdmin((f) => f.getPull(number))).state).toBe('open');

    standin.setRole(REPO, COMMITTEE, 'triage');
    const again = await run(['association', 'reject', '-b', 'chestxray', '-m', `${MODEL_OWNER}/second-model`, '--reason', 'fails on the demo data'], COMMITTEE);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`and closed it.`);
    expect((await asAdmin((f) => f.getPull(number))).state).toBe('closed');
    expect(standin.takeViolations()).toEqual([]);
  }, 180_000);
});

describe('on a GitHub registry that requires branches up to date, association approve', () => {
  it('updates a PR behind main before approving, so the approval is of the commit that merges; without push access it approves nothing and says who can update it', async () => {
    // The model owner may push to the registry: their branches live there, as a maintainer's would.
    standin.setRole(REPO, MODEL_OWNER, 'write');
    const behindPull = async (name: string): Promise<{ number: number; sha: string }> => {
      const cube = await run(['mlcube', 'submit', cubeDir('chestxray-mobilenet'), '--name', name, '--image-digest', digest('f'), '--operational', '--yes', '--json'], MODEL_OWNER);
      await asAdmin((f) => f.merge(JSON.parse(cube.out).pull.number));
      const assoc = await run(['mlcube', 'associate', '-b', 'chestxray', '-m', `${MODEL_OWNER}/${name}`, '--runner', 'process', '--yes', '--json'], MODEL_OWNER);
      expect(assoc.code).toBe(0);
      const number = JSON.parse(assoc.out).pull.number as number;
      // main moves on: the association PR is behind it.
      const other = await run(['mlcube', 'submit', cubeDir('chestxray-cnn'), '--name', `${name}-later`, '--image-digest', digest('e'), '--operational', '--yes', '--json'], MODEL_OWNER);
      await asAdmin((f) => f.merge(JSON.parse(other.out).pull.number));
      return { number, sha: (await asAdmin((f) => f.getPull(number))).headSha };
    };
    const first = await behindPull('behind-one');
    const second = await behindPull('behind-two');
    standin.protect(REPO, { strict: true, checks: [{ context: 'medperf-git/validate', appId: null }] });
    try {
      standin.setRole(REPO, COMMITTEE, 'triage');
      const refused = await run(['association', 'approve', '-b', 'chestxray', '-m', `${MODEL_OWNER}/behind-one`], COMMITTEE);
      expect(refused.code).toBe(1);
      expect(refused.err).toBe(
        `error (branch-behind): pull request #${first.number} is behind main and the registry requires it up to date, but you may not push to its branch ${REPO}:medperf/association/chestxray/model/${MODEL_OWNER}/behind-one; ask its author to update it (merge main into it, or "Update branch" on GitHub), then run the command again\n`,
      );
      expect(await asAdmin((f) => f.reviews(first.number))).toEqual([]);

      standin.setRole(REPO, COMMITTEE, 'write');
      const approve = await run(['association', 'approve', '-b', 'chestxray', '-m', `${MODEL_OWNER}/behind-two`], COMMITTEE);
      expect(approve.code).toBe(0);
      expect(approve.out).toMatch(new RegExp(`^Approved pull request #${second.number} \\(model ${MODEL_OWNER}/behind-two with chestxray\\) as ${COMMITTEE}\\.\\nNot merged yet: `));
      const updated = await asAdmin((f) => f.getPull(second.number));
      expect(updated.headSha).not.toBe(second.sha);
      expect(await asAdmin((f) => f.reviews(second.number))).toEqual([expect.objectContaining({ login: COMMITTEE, state: 'APPROVED', commitId: updated.headSha })]);
      expect(standin.takeViolations()).toEqual([]);
    } finally {
      standin.unprotect(REPO);
      standin.setRole(REPO, COMMITTEE, 'write');
      standin.setRole(REPO, MODEL_OWNER, null);
    }
  }, 180_000);
});
