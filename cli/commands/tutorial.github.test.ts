// MedPerf's tutorial played on GitHub (the loopback stand-in) as its users would: the admin pushes
// what `registry init` wrote and protects it with `registry protect`; every change is a pull request
// (from a fork when its author may not push), checked by the validate job and the gate mode of the
// bundled Action before it can merge; the leaderboard site is built by the pages mode from main.
import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoTarball, generateDataset } from '../demo/dataset.ts';
import { CUBES_DIR, DEMO_CUBES } from '../demo/images.ts';
import { ADMIN, BENCHMARK, COMMITTEE, DATA_OWNER, DATASET, MOBILENET, MODEL_OWNER, processRunnerDigest } from './tutorial.ts';
import { rankingText } from '../ui.ts';
import { GitHubStandIn } from '../../testing/github-standin/server.ts';
import { actionInputs, pullRequestTarget, runAction, validateCheckRun } from '../../testing/action.ts';
import { runCliOnGitHub } from '../../testing/cli.ts';

const REPO = 'mlcommons/registry';
const ACTION = 'mlcommons/medperf-git/action@0123456789abcdef0123456789abcdef01234567';

let standin: GitHubStandIn;
let work: string;
/** The workflows' token: the GitHub Actions app's, as pull_request_target and workflow_run runs get it. */
let bot: string;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  standin = await GitHubStandIn.start();
  for (const login of [ADMIN, COMMITTEE, MODEL_OWNER, DATA_OWNER]) tokens[login] = standin.addUser(login);
  bot = standin.workflowToken({ event: 'pull_request_target', fromFork: false });
  work = await mkdtemp(join(tmpdir(), 'medperf-git-tutorial-gh-'));
});

afterAll(async () => {
  await standin.stop();
  await rm(work, { recursive: true, force: true });
});

/** `medperf-git` as `login`, with their own home and state directory, on mlcommons/registry. */
async function medperf(login: string, argv: string[]): Promise<string> {
  const home = join(work, login);
  mkdirSync(home, { recursive: true });
  const result = await runCliOnGitHub(argv, { standin, home, token: tokens[login]! });
  expect(result.code, `${login}: medperf-git ${argv.join(' ')}\n${result.err}`).toBe(0);
  return result.out;
}

function opened(out: string): number {
  const m = /Opened pull request #(\d+): http/.exec(out);
  expect(m, out).not.toBeNull();
  return Number(m![1]);
}

const pull = (number: number) => standin.pullsOf(REPO).find((p) => p.number === number)!;

/** git as the workflows' token (the stand-in answers in this process: never block it). */
async function git(cwd: string, ...args: string[]): Promise<string> {
  const auth = Buffer.from(`x-access-token:${bot}`).toString('base64');
  const { stdout } = await promisify(execFile)('git', ['-c', `http.extraheader=AUTHORIZATION: basic ${auth}`, ...args], { cwd, env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
  return stdout.trim();
}

/** The registry's default branch as a workflow checks it out. */
async function checkoutMain(): Promise<string> {
  const dir = join(work, `checkout-${Date.now()}-${Math.random().toString(36).slice(2)}`);
  await git(work, 'clone', '--quiet', `${standin.url}/${REPO}.git`, dir);
  return dir;
}

/** The validate workflow on PR `number` (pull_request, with the PR's commits fetched), then its check run. */
async function validate(number: number): Promise<void> {
  const pr = pull(number);
  const checkout = await checkoutMain();
  await git(checkout, 'fetch', '-q', 'origin', `+refs/pull/${number}/head:refs/remotes/pull/${number}`);
  const base = await git(checkout, 'rev-parse', 'origin/main');
  const run = await runAction({
    inputs: actionInputs(workflowFile('validate'), ACTION),
    event: { name: 'pull_request', payload: { number, pull_request: { number, user: { login: pr.user }, head: { sha: pr.headSha }, base: { sha: base, ref: 'main' } } } },
    env: actionEnv(),
    workspace: checkout,
  });
  expect(run.stdout).not.toContain('::error');
  expect(run.outputs.findings, run.stdout).toBe('0');
  await validateCheckRun(standin.apiUrl, bot, REPO, pr.headSha);
}

const workflowFile = (name: string) => readFileSync(join(work, 'scaffold', '.github', 'workflows', `${name}.yml`), 'utf8');
const actionEnv = () => ({ GITHUB_API_URL: standin.apiUrl, GITHUB_SERVER_URL: standin.url, GITHUB_REPOSITORY: REPO });

/**
 * The gate workflow on PR `number` (pull_request_target, from a checkout of main), with `auto-merge`
 * turned on as the scaffolded workflow's comment says to for result PRs and owners' own records.
 */
async function gate(number: number): Promise<Record<string, string>> {
  const pr = pull(number);
  const run = await runAction({
    inputs: { ...actionInputs(workflowFile('gate'), ACTION), token: bot, 'auto-merge': 'true' },
    event: pullRequestTarget(REPO, number, pr.user, pr.headSha),
    env: actionEnv(),
    workspace: await checkoutMain(),
  });
  expect(run.stdout, JSON.stringify(standin.requests.filter((r) => r.status >= 400))).not.toContain('::error');
  expect(run.code, run.stdout + run.stderr).toBe(0);
  return run.outputs;
}

/** A PR that needs no reviewer: the validate workflow passes, then the gate merges it. */
async function landByGate(number: number): Promise<void> {
  await validate(number);
  expect(await gate(number)).toMatchObject({ satisfied: 'true', merged: 'true' });
  expect(pull(number)).toMatchObject({ state: 'closed', mergedBy: 'github-actions[bot]' });
}

/**
 * A PR that needs `approver`'s approval, given already: the gate's status turns green (the gate
 * merges only what needs no approval) and `approver` merges.
 */
async function landApproved(number: number, approver: string): Promise<void> {
  await validate(number);
  const outputs = await gate(number);
  expect(outputs.satisfied).toBe('true');
  expect(outputs.merged).toBeUndefined();
  await medperf(approver, ['pr', 'merge', String(number), '--yes']);
  expect(pull(number)).toMatchObject({ state: 'closed', mergedBy: approver });
}

function filesOf(dir: string): Array<{ path: string; content: string }> {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile())
    .map((p) => ({ path: relative(dir, p), content: readFileSync(p, 'utf8') }));
}

describe('the tutorial on a GitHub registry', () => {
  it('every role, from `registry init` and `registry protect` to the leaderboard built by the pages mode', async () => {
    // --- The admin creates the registry and protects it --------------------------------------
    const scaffold = join(work, 'scaffold');
    await medperf(ADMIN, ['registry', 'init', scaffold, '--title', 'MedPerf tutorial registry', '--admin', ADMIN, '--action', ACTION, '--repository', REPO]);
    // The workflows' token writes what the gate workflow grants it (with auto-merge: contents, pull requests, actions).
    await standin.createRepo(REPO, filesOf(scaffold), { [ADMIN]: 'admin', [COMMITTEE]: 'write', 'github-actions[bot]': 'write' });
    expect(await medperf(ADMIN, ['registry', 'protect', REPO])).toContain(`Changed on ${REPO}:`);
    expect(standin.repoState(REPO).protection.get('main')!.checks.map((c) => c.context)).toEqual(['validate', 'medperf-git/approval']);

    // --- Every role makes its keys and publishes their public halves ---------------------------
    for (const login of [ADMIN, COMMITTEE, MODEL_OWNER, DATA_OWNER]) {
      await medperf(login, ['keys', 'init']);
      await landByGate(opened(await medperf(login, ['keys', 'publish', '--yes'])));
    }
    // The model and data owners may not push to the registry: their PRs come from their forks.
    expect(standin.pullsOf(REPO).filter((p) => p.headRepo !== REPO).map((p) => p.user)).toEqual([MODEL_OWNER, DATA_OWNER]);

    // --- The committee registers the three cubes and the benchmark; the admin approves -----------
    const cube = async (id: keyof typeof DEMO_CUBES, kind: string) => {
      const out = await medperf(id.split('/')[0]!, ['mlcube', 'submit', join(CUBES_DIR, DEMO_CUBES[id].dir), '--name', id.split('/')[1]!, '--kind', kind, '--operational', '--image-digest', processRunnerDigest(id), '--yes']);
      await landByGate(opened(out));
    };
    await cube(`${COMMITTEE}/chestxray-prep`, 'data-preparator');
    await cube(`${COMMITTEE}/chestxray-cnn`, 'model');
    await cube(`${COMMITTEE}/chestxray-metrics`, 'metrics');
    const demo = join(work, 'demo_data.tar.gz');
    await buildDemoTarball(demo);
    const benchmark = opened(await medperf(COMMITTEE, [
      'benchmark', 'submit', '--name', BENCHMARK, '--title', 'Chest X-ray classification',
      '--description', 'MedPerf tutorial benchmark: chest X-ray pathologies, ranked by mean AUC.',
      '-p', `${COMMITTEE}/chestxray-prep`, '-m', `${COMMITTEE}/chestxray-cnn`, '-e', `${COMMITTEE}/chestxray-metrics`,
      '--demo-dataset-url', pathToFileURL(demo).href, '--primary-metric', 'AUC.mean', '--publish', 'per-dataset',
      '--runner', 'process', '--yes',
    ]));
    // Without the admin's approval the gate holds it.
    await validate(benchmark);
    expect((await gate(benchmark)).satisfied).toBe('false');
    await medperf(ADMIN, ['pr', 'approve', String(benchmark), '-m', 'Approved for the tutorial.', '--yes']);
    await landApproved(benchmark, ADMIN);

    // --- A model owner joins, through their fork; the committee approves -------------------------
    await cube(MOBILENET, 'model');
    const modelAssociation = opened(await medperf(MODEL_OWNER, ['mlcube', 'associate', '-b', BENCHMARK, '-m', MOBILENET, '--runner', 'process', '--priority', '1', '--yes']));
    expect(pull(modelAssociation).headRepo).toBe(`${MODEL_OWNER}/registry`);
    await medperf(COMMITTEE, ['association', 'approve', '-b', BENCHMARK, '-m', MOBILENET, '--message', 'Welcome to the benchmark.', '--yes']);
    await landApproved(modelAssociation, COMMITTEE);

    // --- The data owner, through their fork --------------------------------------------------------
    const { dataPath, labelsPath } = generateDataset(join(work, 'hospital-a'), { count: 60, seed: 1, prefix: 'cxr' });
    await landByGate(opened(await medperf(DATA_OWNER, [
      'dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--description', 'Chest X-rays of hospital A (synthetic)',
      '--location', 'Hospital A', '--data-path', dataPath, '--labels-path', labelsPath, '--yes',
    ])));
    await medperf(DATA_OWNER, ['dataset', 'prepare', '-d', DATASET, '--runner', 'process', '--yes']);
    await landByGate(opened(await medperf(DATA_OWNER, ['dataset', 'set-operational', '-d', DATASET, '--yes'])));
    const datasetAssociation = opened(await medperf(DATA_OWNER, ['dataset', 'associate', '-b', BENCHMARK, '-d', DATASET, '--runner', 'process', '--yes']));
    await medperf(COMMITTEE, ['association', 'approve', '-b', BENCHMARK, '-d', DATASET, '--message', 'Welcome to the benchmark.', '--yes']);
    await landApproved(datasetAssociation, COMMITTEE);

    // The data owner runs every model and opens the results PR; the gate, run before the validate
    // job finishes, enables auto-merge, and GitHub merges once validate passes.
    const ran = await medperf(DATA_OWNER, ['run', '-b', BENCHMARK, '-d', DATASET, '--runner', 'process', '--yes']);
    expect(ran).toContain('Total: 2 models, 1 ran, 1 from cache, 0 partial, 0 failed');
    const results = opened(ran);
    expect(pull(results)).toMatchObject({ user: DATA_OWNER, headRepo: `${DATA_OWNER}/registry` });
    expect(await gate(results)).toMatchObject({ satisfied: 'true', 'auto-merge': 'true' });
    expect(pull(results).state).toBe('open');
    await validate(results);
    expect(pull(results)).toMatchObject({ state: 'closed', mergedBy: 'github-actions[bot]' });

    // Every change after the admin's first push landed through a merged pull request: the local
    // tutorial's 15 less its registry.yaml PR (here registry.yaml came with `registry init`'s files).
    expect(standin.pullsOf(REPO).map((p) => p.mergedAt !== null)).toEqual(Array(14).fill(true));

    // --- The leaderboard, built by the pages mode from main --------------------------------------
    const published = await checkoutMain();
    const pages = await runAction({ inputs: actionInputs(workflowFile('pages'), ACTION), event: { name: 'push', payload: { ref: 'refs/heads/main' } }, env: actionEnv(), workspace: published });
    expect(pages.stdout).not.toContain('::error');
    expect(pages.code).toBe(0);
    const site = pages.outputs['site-path']!;
    expect(readFileSync(join(site, 'benchmarks', BENCHMARK, 'index.html'), 'utf8')).toContain('Chest X-ray classification');
    const board = JSON.parse(readFileSync(join(site, 'benchmarks', BENCHMARK, 'leaderboard.json'), 'utf8'));
    expect(board.coverage).toMatchObject({ pairs: 2, withResults: 2, waiting: 0 });
    const rows = board.history.at(-1).rows as Array<{ rank: number; model: string }>;
    expect(rows.map((r) => r.rank)).toEqual([1, 2]);
    expect(rows.map((r) => r.model).sort()).toEqual([`${COMMITTEE}/chestxray-cnn`, MOBILENET]);
    // The ranking as the local tutorial prints it.
    const ranking = rankingText(board);
    expect(ranking).toMatch(/^Leaderboard of chestxray/);
    expect(ranking).toMatch(/^rank\s+model\s+AUC\.mean\s+datasets$/m);
    expect(ranking).toMatch(/^1\s+\S+\/chestxray-\S+\s+0\.\d{3}\s+1$/m);
    expect(ranking).toMatch(/^2\s+\S+\/chestxray-\S+\s+0\.\d{3}\s+1$/m);
    expect(standin.takeViolations()).toEqual([]);
  }, 300_000);
});
