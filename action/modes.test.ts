// gate and comment modes of the bundled Action against the GitHub stand-in: the PR is read through
// the REST API and as git objects, statuses and comments are written through the API.
import { exampleIdentity, resignedText, signedExample } from '../examples/keys.ts';
import { sealedResult, sealMetrics } from '../registry/envelope.ts';
import type { ResultRecord } from '../registry/records.ts';
import { recordYaml } from '../registry/record-yaml.ts';
import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Octokit } from 'octokit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { GITHUB_ACTIONS_APP_ID, GitHubStandIn } from '../testing/github-standin/server.ts';
import { scaffold } from '../registry/scaffold/index.ts';
import { actionInputs, pullRequestTarget as pullRequestTargetOf, runAction, validateCheckRun as validateCheckRunOf } from '../testing/action.ts';

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const example = join(root, 'examples/registry');
const REPO = 'org/registry';
const BOT = 'github-actions[bot]';

let standin: GitHubStandIn;

/** Every request the Action makes, and every answer, conforms to GitHub's API description. */
function violations(): string[] {
  return standin.takeViolations();
}
const tokens: Record<string, string> = {};
let work: string;

function filesOf(dir: string): Array<{ path: string; content: string }> {
  const out: Array<{ path: string; content: string }> = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: relative(dir, p), content: readFileSync(p, 'utf8') });
    }
  };
  walk(dir);
  return out;
}

const UID_A = 'd2a7ca8a2030ab5e2ca2c0a4e515c864943a671212fea5c3edd166dc62a8dcc3';
const UID_B = 'b'.repeat(64);
const toHospitalB = (text: string) => text.replaceAll('hospital-a', 'hospital-b').replaceAll(UID_A, UID_B).replaceAll('Hospital A', 'Hospital B');
const resultPath = (dataset: string, model: string) => `benchmarks/chestxray/results/data-owner/${dataset}/${model}.yaml`;

async function git(cwd: string, login: string, ...args: string[]): Promise<string> {
  const auth = Buffer.from(`${login}:${tokens[login]}`).toString('base64');
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: {
      ...process.env,
      GIT_TERMINAL_PROMPT: '0',
      GIT_AUTHOR_NAME: login,
      GIT_AUTHOR_EMAIL: `${login}@example.org`,
      GIT_COMMITTER_NAME: login,
      GIT_COMMITTER_EMAIL: `${login}@example.org`,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraheader',
      GIT_CONFIG_VALUE_0: `AUTHORIZATION: basic ${auth}`,
    },
  });
  return stdout.trim();
}

/** Pushes a branch with `files` changed and opens a PR from it as `login`. */
async function openPull(login: string, branch: string, files: Record<string, string>, repo = REPO): Promise<{ number: number; sha: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'medperf-git-pr-'));
  try {
    await git(tmpdir(), login, 'clone', '--quiet', `${standin.url}/${repo}.git`, dir);
    await git(dir, login, 'checkout', '-q', '-b', branch);
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    await git(dir, login, 'add', '-A');
    await git(dir, login, 'commit', '-q', '-m', branch);
    await git(dir, login, 'push', '-q', 'origin', branch);
    const sha = await git(dir, login, 'rev-parse', 'HEAD');
    const gh = new Octokit({ auth: tokens[login], baseUrl: standin.apiUrl });
    const { data } = await gh.request('POST /repos/{owner}/{repo}/pulls', { owner: 'org', repo: repo.split('/')[1]!, title: branch, head: branch, base: 'main' });
    return { number: data.number, sha };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The base branch as the workflow checks it out. */
async function checkoutMain(repo = REPO): Promise<string> {
  const dir = mkdtempSync(join(work, 'checkout-'));
  await git(work, BOT, 'clone', '--quiet', `${standin.url}/${repo}.git`, dir);
  return dir;
}

function env(repo = REPO) {
  return { GITHUB_API_URL: standin.apiUrl, GITHUB_SERVER_URL: standin.url, GITHUB_REPOSITORY: repo };
}

function pullRequestTarget(number: number, author: string, sha: string) {
  return pullRequestTargetOf(REPO, number, author, sha);
}

function workflowRun(name: string, number: number | undefined, sha: string, branch: string) {
  return {
    name: 'workflow_run',
    payload: {
      action: 'completed',
      workflow_run: {
        id: 4242,
        name,
        event: name === 'review' ? 'pull_request_review' : 'pull_request',
        status: 'completed',
        conclusion: 'success',
        head_sha: sha,
        head_branch: branch,
        head_repository: { full_name: REPO, owner: { login: 'org' } },
        pull_requests: number === undefined ? [] : [{ number, head: { sha, ref: branch }, base: { ref: 'main', sha: '0'.repeat(40) } }],
      },
      repository: { full_name: REPO, name: 'registry', owner: { login: 'org' } },
    },
  };
}

/** What the branch protection sees: merging fails while the required status is not success. */
async function mergeAs(login: string, number: number, repo = REPO): Promise<string> {
  const gh = new Octokit({ auth: tokens[login], baseUrl: standin.apiUrl, retry: { enabled: false } });
  try {
    await gh.request('PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge', { owner: 'org', repo: repo.split('/')[1]!, pull_number: number });
    return 'merged';
  } catch (error) {
    return (error as Error).message;
  }
}

async function commentsOn(number: number, repo = REPO): Promise<Array<{ user: string; body: string }>> {
  const gh = new Octokit({ auth: tokens['medperf-admin'], baseUrl: standin.apiUrl });
  const { data } = await gh.request('GET /repos/{owner}/{repo}/issues/{issue_number}/comments', { owner: 'org', repo: repo.split('/')[1]!, issue_number: number });
  return data.map((c) => ({ user: c.user?.login ?? '', body: c.body ?? '' }));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'medperf-git-modes-'));
  standin = await GitHubStandIn.start();
  for (const login of ['medperf-admin', 'bench-committee', 'model-owner', 'data-owner', 'newcomer', BOT]) tokens[login] = standin.addUser(login);
  const files = filesOf(example);
  // A second hospital, associated, with the reference model's result: the mobilenet result PR below
  // gives that model its second dataset, so the per-model leaderboard can rank it.
  const byPath = new Map(files.map((f) => [f.path, f.content]));
  files.push(
    { path: 'datasets/data-owner/hospital-b.yaml', content: toHospitalB(byPath.get('datasets/data-owner/hospital-a.yaml')!) },
    { path: 'benchmarks/chestxray/datasets/data-owner/hospital-b.yaml', content: toHospitalB(byPath.get('benchmarks/chestxray/datasets/data-owner/hospital-a.yaml')!) },
    // Records changed by hand are signed again by their data owner, as \`result submit\` would.
    { path: resultPath('hospital-b', 'bench-committee/chestxray-cnn'), content: await resignedText(resultPath('hospital-b', 'bench-committee/chestxray-cnn'), toHospitalB(byPath.get(resultPath('hospital-a', 'bench-committee/chestxray-cnn'))!)) },
  );
  await standin.createRepo(REPO, files, ['medperf-admin', 'bench-committee', 'model-owner', 'data-owner', 'newcomer', BOT]);
  standin.protect(REPO, { checks: [{ context: 'medperf-git/approval', appId: GITHUB_ACTIONS_APP_ID }], enforceAdmins: true });
});

afterAll(async () => {
  await standin?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('gate and comment modes against the GitHub stand-in', () => {
  it('a result PR needs no approval: the gate passes and the comment previews the leaderboard, edited in place', async () => {
    const mobilenetA = readFileSync(join(example, resultPath('hospital-a', 'model-owner/chestxray-mobilenet')), 'utf8');
    const pr = await openPull('data-owner', 'result-hospital-b', {
      [resultPath('hospital-b', 'model-owner/chestxray-mobilenet')]: await resignedText(resultPath('hospital-b', 'model-owner/chestxray-mobilenet'), toHospitalB(mobilenetA).replace('AUC: 0.726', 'AUC: 0.912')),
    });
    expect(await mergeAs('data-owner', pr.number)).toContain('Required status check "medperf-git/approval" is expected');

    const checkout = await checkoutMain();
    const gate = await runAction({ inputs: { mode: 'gate', token: tokens[BOT]! }, event: pullRequestTarget(pr.number, 'data-owner', pr.sha), env: env(), workspace: checkout });
    expect(gate.stdout).not.toContain('::error');
    expect(gate.code).toBe(0);
    expect(gate.outputs.satisfied).toBe('true');

    const run = workflowRun('validate', pr.number, pr.sha, 'result-hospital-b');
    const first = await runAction({ inputs: { mode: 'comment', token: tokens[BOT]! }, event: run, env: env(), workspace: checkout });
    expect(first.stdout).not.toContain('::error');
    const again = await runAction({ inputs: { mode: 'comment', token: tokens[BOT]! }, event: run, env: env(), workspace: checkout });
    expect(again.stdout).toContain(`updated comment ${first.outputs['comment-id']} on #${pr.number}`);
    const comments = await commentsOn(pr.number);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.user).toBe(BOT);
    expect(comments[0]!.body).toContain('### medperf-git: every check passes');
    expect(comments[0]!.body).toContain('chestxray: model-owner/chestxray-mobilenet would rank 1st of 2 on AUC (0.819)');

    expect(await mergeAs('data-owner', pr.number)).toBe('merged');
    expect(violations()).toEqual([]);
  });

  it('an association PR waits for a committee member, and passes once one approves', async () => {
    const cube = readFileSync(join(example, 'mlcubes/model-owner/chestxray-mobilenet.yaml'), 'utf8');
    const association = readFileSync(join(example, 'benchmarks/chestxray/models/model-owner/chestxray-mobilenet.yaml'), 'utf8');
    const pr = await openPull('newcomer', 'associate-newnet', {
      'mlcubes/newcomer/newnet.yaml': cube.replace('name: chestxray-mobilenet', 'name: newnet'),
      'benchmarks/chestxray/models/newcomer/newnet.yaml': association.replaceAll('model-owner/chestxray-mobilenet', 'newcomer/newnet').replace(/initiated_by: \S+/, 'initiated_by: newcomer'),
    });
    const checkout = await checkoutMain();
    const gate = await runAction({ inputs: { mode: 'gate', token: tokens[BOT]! }, event: pullRequestTarget(pr.number, 'newcomer', pr.sha), env: env(), workspace: checkout });
    expect(gate.code).toBe(0);
    expect(gate.outputs.satisfied).toBe('false');
    expect(gate.outputs.summary).toContain('bench-committee');
    expect(await mergeAs('medperf-admin', pr.number)).toContain('Required status check "medperf-git/approval" is pending');
    // Only the gate's status counts: the PR's author posting it with their own token unlocks nothing.
    await new Octokit({ auth: tokens.newcomer, baseUrl: standin.apiUrl }).rest.repos.createCommitStatus({ owner: 'org', repo: 'registry', sha: pr.sha, state: 'success', context: 'medperf-git/approval' });
    expect(await mergeAs('medperf-admin', pr.number)).toContain('Required status check "medperf-git/approval" is pending');

    const committee = new Octokit({ auth: tokens['bench-committee'], baseUrl: standin.apiUrl });
    await committee.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { owner: 'org', repo: 'registry', pull_number: pr.number, event: 'APPROVE' });
    // The review workflow completes; the gate runs from workflow_run. A fork PR's run names no PR: found by branch.
    const after = await runAction({ inputs: { mode: 'gate', token: tokens[BOT]! }, event: workflowRun('review', undefined, pr.sha, 'associate-newnet'), env: env(), workspace: checkout });
    expect(after.stdout).not.toContain('::error');
    expect(after.outputs.satisfied).toBe('true');
    expect(await mergeAs('medperf-admin', pr.number)).toBe('merged');
    expect(violations()).toEqual([]);
  });

  it('counts an approval for the commit it was given on: a later push needs a new one', async () => {
    const cube = readFileSync(join(example, 'mlcubes/model-owner/chestxray-mobilenet.yaml'), 'utf8');
    const association = readFileSync(join(example, 'benchmarks/chestxray/models/model-owner/chestxray-mobilenet.yaml'), 'utf8');
    const files = {
      'mlcubes/newcomer/latenet.yaml': cube.replace('name: chestxray-mobilenet', 'name: latenet'),
      'benchmarks/chestxray/models/newcomer/latenet.yaml': association.replaceAll('model-owner/chestxray-mobilenet', 'newcomer/latenet').replace(/initiated_by: \S+/, 'initiated_by: newcomer'),
    };
    const pr = await openPull('newcomer', 'associate-latenet', files);
    const committee = new Octokit({ auth: tokens['bench-committee'], baseUrl: standin.apiUrl });
    await committee.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { owner: 'org', repo: 'registry', pull_number: pr.number, event: 'APPROVE' });
    // The repository does not dismiss stale approvals; the gate does not count one anyway.
    const later = await standin.pushTo(REPO, 'associate-latenet', [{ path: 'benchmarks/chestxray/models/newcomer/latenet.yaml', content: files['benchmarks/chestxray/models/newcomer/latenet.yaml'].replace(/priority: \d+/, 'priority: 3') }], 'newcomer');
    const { data: reviews } = await committee.rest.pulls.listReviews({ owner: 'org', repo: 'registry', pull_number: pr.number });
    expect(reviews.map((r) => [r.state, r.commit_id])).toEqual([['APPROVED', pr.sha]]);
    const checkout = await checkoutMain();
    const gate = await runAction({ inputs: { mode: 'gate', token: tokens[BOT]! }, event: pullRequestTarget(pr.number, 'newcomer', later), env: env(), workspace: checkout });
    expect(gate.stdout).not.toContain('::error');
    expect(gate.outputs.satisfied).toBe('false');
    expect(gate.outputs.summary).toMatch(/bench-committee/);
    expect(await mergeAs('medperf-admin', pr.number)).toContain('Required status check "medperf-git/approval" is pending');
    expect(violations()).toEqual([]);
  });

  it('a fork PR: a committee member who is no collaborator approves, and the gate, run after the review, counts it', async () => {
    tokens.outsider ??= standin.addUser('outsider');
    const gh = new Octokit({ auth: tokens.outsider, baseUrl: standin.apiUrl });
    await gh.rest.repos.createFork({ owner: 'org', repo: 'registry' });
    const dir = mkdtempSync(join(work, 'fork-'));
    await git(work, 'outsider', 'clone', '--quiet', `${standin.url}/outsider/registry.git`, dir);
    await git(dir, 'outsider', 'checkout', '-q', '-b', 'associate-forknet');
    const cube = readFileSync(join(example, 'mlcubes/model-owner/chestxray-mobilenet.yaml'), 'utf8');
    const association = readFileSync(join(example, 'benchmarks/chestxray/models/model-owner/chestxray-mobilenet.yaml'), 'utf8');
    mkdirSync(join(dir, 'mlcubes/outsider'), { recursive: true });
    mkdirSync(join(dir, 'benchmarks/chestxray/models/outsider'), { recursive: true });
    writeFileSync(join(dir, 'mlcubes/outsider/forknet.yaml'), cube.replace('name: chestxray-mobilenet', 'name: forknet'));
    writeFileSync(join(dir, 'benchmarks/chestxray/models/outsider/forknet.yaml'), association.replaceAll('model-owner/chestxray-mobilenet', 'outsider/forknet').replace(/initiated_by: \S+/, 'initiated_by: outsider'));
    await git(dir, 'outsider', 'add', '-A');
    await git(dir, 'outsider', 'commit', '-q', '-m', 'forknet');
    await git(dir, 'outsider', 'push', '-q', 'origin', 'associate-forknet');
    const sha = await git(dir, 'outsider', 'rev-parse', 'HEAD');
    const { data: pr } = await gh.rest.pulls.create({ owner: 'org', repo: 'registry', title: 'forknet', head: 'outsider:associate-forknet', base: 'main' });

    standin.setRole(REPO, 'bench-committee', null);
    try {
      const committee = new Octokit({ auth: tokens['bench-committee'], baseUrl: standin.apiUrl });
      await committee.rest.pulls.createReview({ owner: 'org', repo: 'registry', pull_number: pr.number, event: 'APPROVE' });
      const [review] = (await committee.rest.pulls.listReviews({ owner: 'org', repo: 'registry', pull_number: pr.number })).data;
      expect(review).toMatchObject({ author_association: 'NONE', commit_id: sha });
      // The review workflow's run for a fork PR holds a read-only token; the gate runs after it
      // (workflow_run, in the base repository), whose run names no PR for a fork: found by branch.
      const run = workflowRun('review', undefined, sha, 'associate-forknet');
      (run.payload.workflow_run as { head_repository: unknown }).head_repository = { full_name: 'outsider/registry', owner: { login: 'outsider' } };
      const gate = await runAction({ inputs: { mode: 'gate', token: standin.workflowToken({ event: 'workflow_run', fromFork: true }) }, event: run, env: env(), workspace: await checkoutMain() });
      expect(gate.stdout).not.toContain('::error');
      expect(gate.outputs.satisfied).toBe('true');
    } finally {
      standin.setRole(REPO, 'bench-committee', 'write');
    }
    expect(await mergeAs('medperf-admin', pr.number)).toBe('merged');
    expect(violations()).toEqual([]);
  });

  it('a PR that breaks the rules gets the problems in plain words', async () => {
    const path = resultPath('hospital-a', 'model-owner/chestxray-mobilenet');
    const pr = await openPull('model-owner', 'edit-result', {
      [path]: readFileSync(join(example, path), 'utf8').replace('AUC: 0.726', 'AUC: 0.999'),
    });
    const checkout = await checkoutMain();
    const run = await runAction({ inputs: { mode: 'comment', token: tokens[BOT]! }, event: workflowRun('validate', pr.number, pr.sha, 'edit-result'), env: env(), workspace: checkout });
    expect(run.stdout).not.toContain('::error');
    const [comment] = await commentsOn(pr.number);
    expect(comment!.body).toMatch(/### medperf-git: \d+ problems? in 1 file to fix before this can merge/);
    expect(comment!.body).toContain(`${path} line 1, column 1: model-owner may not change ${path}`);
    expect(comment!.body).not.toContain('Leaderboard preview');
    expect(violations()).toEqual([]);
  });

  it('does nothing when the PR has moved on since the run', async () => {
    const checkout = await checkoutMain();
    const run = await runAction({ inputs: { mode: 'comment', token: tokens[BOT]! }, event: workflowRun('validate', 1, 'f'.repeat(40), 'result-hospital-b'), env: env(), workspace: checkout });
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/pull request #1 has moved on|not about a pull request/);
  });
});

describe('gate mode on a registry kept in a folder of a larger repository', () => {
  const MONO = 'org/mono';
  const gateWorkflow = 'on: pull_request_target\njobs:\n  gate:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: ./action\n        with: {mode: gate, path: registry, auto-merge: true}\n';
  beforeAll(async () => {
    const files = [
      ...filesOf(example).map((f) => ({ ...f, path: `registry/${f.path}` })),
      { path: '.github/workflows/gate.yml', content: gateWorkflow },
      { path: 'action/action.yml', content: 'runs: {using: node24, main: index.js}\n' },
    ];
    await standin.createRepo(MONO, files, ['medperf-admin', 'data-owner', 'newcomer', BOT], { allowAutoMerge: true });
    standin.protect(MONO, { checks: [{ context: 'medperf-git/approval', appId: GITHUB_ACTIONS_APP_ID }], enforceAdmins: true });
  });
  const gate = async (number: number, author: string, sha: string) =>
    runAction({
      inputs: { mode: 'gate', path: 'registry', token: tokens[BOT]!, 'auto-merge': 'true' },
      event: pullRequestTargetOf(MONO, number, author, sha),
      env: env(MONO),
      workspace: await checkoutMain(MONO),
    });

  it('holds every change around the folder for an admin, whoever makes it and whatever else it holds: it merges once an admin approves', async () => {
    const changes: Array<[string, Record<string, string>]> = [
      ['newcomer', { '.github/workflows/gate.yml': 'on: pull_request_target\njobs: {gate: {runs-on: ubuntu-latest, steps: [{run: "true"}]}}\n', CODEOWNERS: '* @newcomer\n' }],
      ['newcomer', { 'action/index.js': 'process.exit(0)\n' }],
      ['data-owner', { '.github/CODEOWNERS': '* @data-owner\n', 'registry/.gitignore': '*.log\n' }],
    ];
    for (const [i, [author, files]] of changes.entries()) {
      const pr = await openPull(author, `around-${i}`, files, MONO);
      const held = await gate(pr.number, author, pr.sha);
      expect(held.stdout).not.toContain('::error');
      expect(held.outputs).toMatchObject({ satisfied: 'false' });
      expect(held.outputs.merged).not.toBe('true');
      expect(held.outputs.summary).toContain('medperf-admin');
      expect(standin.pullsOf(MONO).find((p) => p.number === pr.number)).toMatchObject({ state: 'open' });
      if (i > 0) continue;
      const admin = new Octokit({ auth: tokens['medperf-admin'], baseUrl: standin.apiUrl });
      await admin.request('POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews', { owner: 'org', repo: 'mono', pull_number: pr.number, event: 'APPROVE' });
      const approved = await gate(pr.number, author, pr.sha);
      // Approved by a person, it is a person's to merge: the gate lands only what needs no one.
      expect(approved.outputs).toMatchObject({ satisfied: 'true' });
      expect(await mergeAs('medperf-admin', pr.number, MONO)).toBe('merged');
    }
    expect(violations()).toEqual([]);
  });
});

async function validateCheckRun(sha: string, repo: string): Promise<void> {
  await validateCheckRunOf(standin.apiUrl, tokens[BOT]!, repo, sha);
}

describe('a registry made by `registry init`, run through its own workflows', () => {
  const FRESH = 'org/fresh';
  const action = 'mlcommons/medperf-git/action@0123456789abcdef0123456789abcdef01234567';
  type Step = { id?: string; uses?: string; with?: Record<string, unknown> };
  type Workflow = { on: Record<string, unknown>; jobs: Record<string, { steps: Step[] }> };
  const scaffolded = scaffold({ title: 'Fresh registry', admins: ['medperf-admin'], action, branch: 'main' });
  const workflow = (name: string) => parse(scaffolded[`.github/workflows/${name}.yml`]!) as Workflow;
  /** The inputs a workflow gives the medperf-git step, as the runner passes them. */
  const inputsOf = (name: string): Record<string, string> => actionInputs(scaffolded[`.github/workflows/${name}.yml`]!, action);

  beforeAll(async () => {
    const records = filesOf(example).filter((f) => f.path !== 'registry.yaml');
    await standin.createRepo(FRESH, [...Object.entries(scaffolded).map(([path, content]) => ({ path, content })), ...records], ['data-owner', BOT], {
      allowSquashMerge: false,
      allowRebaseMerge: false,
      allowAutoMerge: true,
    });
    // As `registry protect` sets it: the validate job's check run and the gate's status, both from the Actions app.
    standin.protect(FRESH, protection);
  });
  const protection = {
    checks: [
      { context: 'validate', appId: GITHUB_ACTIONS_APP_ID },
      { context: 'medperf-git/approval', appId: GITHUB_ACTIONS_APP_ID },
    ],
    enforceAdmins: true,
    reviews: { dismissStale: true, requiredApprovals: 0 },
  };

  it('names only inputs and outputs action.yml declares', () => {
    const declared = parse(readFileSync(join(root, 'action/action.yml'), 'utf8')) as { inputs: Record<string, unknown>; outputs: Record<string, unknown> };
    for (const name of ['validate', 'gate', 'comment', 'pages']) {
      for (const input of Object.keys(inputsOf(name))) expect(Object.keys(declared.inputs), name).toContain(input);
      for (const m of scaffolded[`.github/workflows/${name}.yml`]!.matchAll(/steps\.medperf\.outputs\.([\w-]+)/g)) expect(Object.keys(declared.outputs)).toContain(m[1]);
    }
  });

  it('validates, gates, comments on and publishes a result PR', async () => {
    const path = resultPath('hospital-a', 'model-owner/chestxray-mobilenet');
    const rerun = await resignedText(path, readFileSync(join(example, path), 'utf8').replace('AUC: 0.726', 'AUC: 0.731').replace('version: 1', 'version: 2').replace('2026-11-05T08:00:00Z', '2026-11-20T08:00:00Z'));
    const pr = await openPull('data-owner', 'rerun', { [path]: rerun }, FRESH);

    // validate (pull_request): the PR's commits, checked out with full history, read as git objects.
    const validateCheckout = await checkoutMain(FRESH);
    await git(validateCheckout, BOT, 'fetch', '-q', 'origin', `+refs/pull/${pr.number}/head:refs/remotes/pull/${pr.number}`);
    const base = await git(validateCheckout, BOT, 'rev-parse', 'origin/main');
    expect(Object.keys(workflow('validate').on)).toEqual(['pull_request']);
    const validate = await runAction({
      inputs: inputsOf('validate'),
      event: { name: 'pull_request', payload: { number: pr.number, pull_request: { number: pr.number, user: { login: 'data-owner' }, head: { sha: pr.sha }, base: { sha: base, ref: 'main' } } } },
      env: env(FRESH),
      workspace: validateCheckout,
    });
    expect(validate.stdout).not.toContain('::error');
    expect(validate.outputs.findings).toBe('0');
    await validateCheckRun(pr.sha, FRESH);

    // gate (pull_request_target), from a checkout of main.
    const checkout = await checkoutMain(FRESH);
    const gate = await runAction({ inputs: { ...inputsOf('gate'), token: tokens[BOT]! }, event: pullRequestTarget(pr.number, 'data-owner', pr.sha), env: env(FRESH), workspace: checkout });
    expect(gate.outputs.satisfied).toBe('true');

    // comment (workflow_run after validate).
    const comment = await runAction({ inputs: { ...inputsOf('comment'), token: tokens[BOT]! }, event: workflowRun('validate', pr.number, pr.sha, 'rerun'), env: env(FRESH), workspace: checkout });
    expect(comment.stdout).not.toContain('::error');
    const [body] = await commentsOn(pr.number, FRESH);
    expect(body!.body).toContain('### medperf-git: every check passes');

    expect(await mergeAs('data-owner', pr.number, FRESH)).toBe('merged');

    // pages (push to main): the site lands where upload-pages-artifact picks it up.
    const pages = workflow('pages');
    const upload = pages.jobs.build!.steps.find((st) => st.uses?.startsWith('actions/upload-pages-artifact@'))!;
    const published = await checkoutMain(FRESH);
    const site = await runAction({ inputs: inputsOf('pages'), event: { name: 'push', payload: { ref: 'refs/heads/main' } }, env: env(FRESH), workspace: published });
    expect(site.outputs['site-path']).toBe(join(published, String(upload.with!.path)));
    expect(readFileSync(join(published, '_site/benchmarks/chestxray/index.html'), 'utf8')).toContain('Chest X-ray classification');
    expect(violations()).toEqual([]);
  });

  /** A result PR of the data owner: the next version of a result already on main. */
  /** Its version follows main's, whatever earlier tests merged, so each test stands on its own. */
  async function resultPull(branch: string, auc: string, model = 'model-owner/chestxray-mobilenet'): Promise<{ number: number; sha: string }> {
    const path = resultPath('hospital-a', model);
    const current = (await git(await checkoutMain(FRESH), BOT, 'show', `HEAD:${path}`)).concat('\n');
    const version = Number(/version: (\d+)/.exec(current)![1]) + 1;
    const next = current
      .replace(/AUC: [\d.]+/, `AUC: ${auc}`)
      .replace(/version: \d+/, `version: ${version}`)
      .replace(/2026-11-\d\dT08:00:00Z/, `2026-11-${10 + version}T08:00:00Z`);
    // Signed again by its data owner, as `run` would sign the rerun.
    return openPull('data-owner', branch, { [path]: await resignedText(path, next) }, FRESH);
  }
  const gateInputs = () => ({ ...inputsOf('gate'), token: tokens[BOT]!, 'auto-merge': 'true' });

  it('with auto-merge on, the gate merges a PR that can merge now and dispatches pages, since its merge starts no workflow', async () => {
    const pr = await resultPull('land-now', '0.733');
    await validateCheckRun(pr.sha, FRESH);
    const runs = (await standin.workflowRuns(FRESH)).length;
    const gate = await runAction({ inputs: gateInputs(), event: pullRequestTarget(pr.number, 'data-owner', pr.sha), env: env(FRESH), workspace: await checkoutMain(FRESH) });
    expect(gate.stdout).not.toContain('::error');
    expect(gate.stdout).not.toContain('::warning');
    expect(gate.outputs).toMatchObject({ satisfied: 'true', merged: 'true' });
    expect(standin.pullsOf(FRESH).find((p) => p.number === pr.number)).toMatchObject({ state: 'closed', mergedBy: BOT });
    // The merge's push, made with the workflow's token, starts nothing; the dispatch starts pages.
    expect((await standin.workflowRuns(FRESH)).slice(runs)).toEqual([{ workflow: 'pages.yml', event: 'workflow_dispatch', actor: BOT }]);
    expect(violations()).toEqual([]);
  });

  it('with auto-merge on, the gate enables auto-merge while validate runs; GitHub merges once it passes and the next gate run dispatches pages', async () => {
    const pr = await resultPull('land-later', '0.735');
    const runs = (await standin.workflowRuns(FRESH)).length;
    const first = await runAction({ inputs: gateInputs(), event: pullRequestTarget(pr.number, 'data-owner', pr.sha), env: env(FRESH), workspace: await checkoutMain(FRESH) });
    expect(first.stdout).not.toContain('::error');
    expect(first.outputs).toMatchObject({ satisfied: 'true', 'auto-merge': 'true' });
    expect(first.outputs.merged).toBeUndefined();
    // The validate job finishes: GitHub merges, for the token that enabled auto-merge; no workflow starts.
    await validateCheckRun(pr.sha, FRESH);
    expect(standin.pullsOf(FRESH).find((p) => p.number === pr.number)).toMatchObject({ state: 'closed', mergedBy: BOT });
    expect((await standin.workflowRuns(FRESH)).slice(runs)).toEqual([]);
    // validate's completion runs the gate again (workflow_run), which finds the PR merged and publishes.
    expect((workflow('gate').on.workflow_run as { workflows: string[] }).workflows).toContain('validate');
    const again = await runAction({ inputs: gateInputs(), event: workflowRun('validate', pr.number, pr.sha, 'land-later'), env: env(FRESH), workspace: await checkoutMain(FRESH) });
    expect(again.stdout).not.toContain('::error');
    expect(again.outputs.merged).toBe('true');
    expect((await standin.workflowRuns(FRESH)).slice(runs)).toEqual([{ workflow: 'pages.yml', event: 'workflow_dispatch', actor: BOT }]);
    expect(violations()).toEqual([]);
  });

  it('with auto-merge on and branches required up to date, the gate says a PR behind main waits for its author to update it', async () => {
    const pr = await resultPull('behind', '0.736');
    // main moves on: the data owner's other result lands first.
    const other = await resultPull('moves-main', '0.702', 'bench-committee/chestxray-cnn');
    await validateCheckRun(other.sha, FRESH);
    const landed = await runAction({ inputs: gateInputs(), event: pullRequestTarget(other.number, 'data-owner', other.sha), env: env(FRESH), workspace: await checkoutMain(FRESH) });
    expect(landed.outputs.merged).toBe('true');
    standin.protect(FRESH, { ...protection, strict: true });
    try {
      const gate = await runAction({ inputs: gateInputs(), event: pullRequestTarget(pr.number, 'data-owner', pr.sha), env: env(FRESH), workspace: await checkoutMain(FRESH) });
      expect(gate.stdout).not.toContain('::error');
      expect(gate.outputs).toMatchObject({ satisfied: 'true', 'auto-merge': 'true', behind: 'true' });
      expect(gate.stdout).toContain(`::notice::#${pr.number} needs no approval, but it is behind main, which the registry requires up to date: auto-merge is enabled (merge) and GitHub merges it once its author updates the branch`);
      expect(standin.pullsOf(FRESH).find((p) => p.number === pr.number)!.state).toBe('open');
      expect(violations()).toEqual([]);
    } finally {
      standin.protect(FRESH, protection);
      const gh = new Octokit({ auth: tokens['data-owner'], baseUrl: standin.apiUrl });
      await gh.rest.pulls.update({ owner: 'org', repo: 'fresh', pull_number: pr.number, state: 'closed' });
    }
  });

  it('a repository that does not allow auto-merge: the gate says so and the PR waits for a person', async () => {
    standin.configureRepo(FRESH, { allowAutoMerge: false });
    try {
      const pr = await resultPull('no-auto', '0.737');
      const gate = await runAction({ inputs: gateInputs(), event: pullRequestTarget(pr.number, 'data-owner', pr.sha), env: env(FRESH), workspace: await checkoutMain(FRESH) });
      expect(gate.outputs.satisfied).toBe('true');
      expect(gate.stdout).toContain('Auto merge is not allowed for this repository');
      expect(gate.outputs['auto-merge']).toBe('false');
      expect(standin.pullsOf(FRESH).find((p) => p.number === pr.number)!.state).toBe('open');
      expect(violations()).toEqual([]);
    } finally {
      standin.configureRepo(FRESH, { allowAutoMerge: true });
    }
  });

  it('refuses, reading git objects, a result whose metric names its benchmark does not declare', async () => {
    const path = resultPath('hospital-a', 'bench-committee/chestxray-cnn');
    // The next version of the result on main, whatever earlier tests merged.
    const current = (await git(await checkoutMain(FRESH), BOT, 'show', `HEAD:${path}`)).concat('\n');
    const version = Number(/version: (\d+)/.exec(current)![1]) + 1;
    const rerun = current
      .replace(/( {2}F1: [\d.]+\n)/, '$1  Jane_Roe_DOB_1961_04_02_MRN_88123: 1\n')
      .replace(/version: \d+/, `version: ${version}`)
      .replace(/executed_at: "[^"]+"/, `executed_at: "2026-11-${10 + version}T09:00:00Z"`);
    expect(rerun).toContain('Jane_Roe');
    // Signed by its data owner: the one finding is the undeclared name.
    const pr = await openPull('data-owner', 'named-metric', { [path]: await resignedText(path, rerun) }, FRESH);
    const checkout = await checkoutMain(FRESH);
    await git(checkout, BOT, 'fetch', '-q', 'origin', `+refs/pull/${pr.number}/head:refs/remotes/pull/${pr.number}`);
    const base = await git(checkout, BOT, 'rev-parse', 'origin/main');
    const validate = await runAction({
      inputs: inputsOf('validate'),
      event: { name: 'pull_request', payload: { number: pr.number, pull_request: { number: pr.number, user: { login: 'data-owner' }, head: { sha: pr.sha }, base: { sha: base, ref: 'main' } } } },
      env: env(FRESH),
      workspace: checkout,
    });
    expect(validate.outputs.findings).toBe('1');
    const line = rerun.split('\n').findIndex((l) => l.includes('Jane_Roe')) + 1;
    expect(validate.stdout).toContain(`::error title=medperf-git declared-names,file=${path},line=${line},col=3::a name under metrics is not one that the benchmark chestxray declares`);
    expect(validate.stdout).not.toContain('Jane_Roe_DOB_1961_04_02_MRN_88123 ');
  });

  it('a fork PR that GitHub auto-merges: the gate run after validate finds the merged PR by its branch and dispatches pages', async () => {
    // The data owner cannot push to the registry: the result comes from their fork.
    standin.setRole(FRESH, 'data-owner', null);
    try {
      const gh = new Octokit({ auth: tokens['data-owner'], baseUrl: standin.apiUrl });
      await gh.rest.repos.createFork({ owner: 'org', repo: 'fresh' });
      const path = resultPath('hospital-a', 'model-owner/chestxray-mobilenet');
      const dir = mkdtempSync(join(work, 'fork-'));
      await git(work, 'data-owner', 'clone', '--quiet', `${standin.url}/data-owner/fresh.git`, dir);
      await git(dir, 'data-owner', 'fetch', '-q', `${standin.url}/${FRESH}.git`, 'main');
      await git(dir, 'data-owner', 'checkout', '-q', '-b', 'result-from-fork', 'FETCH_HEAD');
      const current = readFileSync(join(dir, path), 'utf8');
      const rerun = current.replace(/AUC: [\d.]+/, 'AUC: 0.739').replace(/version: (\d+)/, (_, v) => `version: ${Number(v) + 1}`).replace(/2026-11-\d\dT08:00:00Z/, '2026-11-26T08:00:00Z');
      writeFileSync(join(dir, path), await resignedText(path, rerun));
      await git(dir, 'data-owner', 'commit', '-q', '-am', 'result');
      await git(dir, 'data-owner', 'push', '-q', 'origin', 'result-from-fork');
      const sha = await git(dir, 'data-owner', 'rev-parse', 'HEAD');
      const { data: pr } = await gh.rest.pulls.create({ owner: 'org', repo: 'fresh', title: 'result', head: 'data-owner:result-from-fork', base: 'main' });
      const runs = (await standin.workflowRuns(FRESH)).length;
      const first = await runAction({ inputs: gateInputs(), event: pullRequestTarget(pr.number, 'data-owner', sha), env: env(FRESH), workspace: await checkoutMain(FRESH) });
      expect(first.outputs).toMatchObject({ satisfied: 'true', 'auto-merge': 'true' });
      await validateCheckRun(sha, FRESH);
      expect(standin.pullsOf(FRESH).find((p) => p.number === pr.number)).toMatchObject({ state: 'closed', mergedBy: BOT });
      // validate's run for a fork PR names no PR, and the PR is no longer open.
      const run = workflowRun('validate', undefined, sha, 'result-from-fork');
      (run.payload.workflow_run as { head_repository: unknown }).head_repository = { full_name: 'data-owner/fresh', owner: { login: 'data-owner' } };
      const again = await runAction({ inputs: gateInputs(), event: run, env: env(FRESH), workspace: await checkoutMain(FRESH) });
      expect(again.stdout).not.toContain('::error');
      expect(again.outputs.merged).toBe('true');
      expect((await standin.workflowRuns(FRESH)).slice(runs)).toEqual([{ workflow: 'pages.yml', event: 'workflow_dispatch', actor: BOT }]);
      expect(violations()).toEqual([]);
    } finally {
      standin.setRole(FRESH, 'data-owner', 'write');
    }
  });
});

describe('gate mode with the site key: committee-only results are opened and checked as clear ones', () => {
  const SEALED = 'org/sealed';
  const site = exampleIdentity('medperf-git-site');
  const readers = [
    { login: 'data-owner', age_recipient: exampleIdentity('data-owner').keys.age_recipient },
    { login: 'bench-committee', age_recipient: exampleIdentity('bench-committee').keys.age_recipient },
    { site: true as const, age_recipient: site.keys.age_recipient },
  ];
  const path = resultPath('hospital-b', 'model-owner/chestxray-mobilenet');

  /** The mobilenet result on hospital B as `run` sends it under the committee-only policy, holding `metrics`. */
  async function sealedText(metrics: Record<string, unknown>): Promise<string> {
    const mobilenetA = readFileSync(join(example, resultPath('hospital-a', 'model-owner/chestxray-mobilenet')), 'utf8');
    const clear = parse(toHospitalB(mobilenetA)) as ResultRecord;
    const inner = signedExample({ ...clear, metrics: metrics as never });
    const envelope = await sealMetrics({ metrics: metrics as never, signature: inner.signature! }, readers);
    return recordYaml('result', path, signedExample(sealedResult(clear, envelope)));
  }

  beforeAll(async () => {
    const files = filesOf(example).map((f) =>
      f.path === 'registry.yaml'
        ? { ...f, content: `${f.content}site_recipient: ${site.keys.age_recipient}\n` }
        : f.path === 'benchmarks/chestxray/benchmark.yaml'
          ? { ...f, content: f.content.replace('  direction: higher\n', '  direction: higher\n  read: committee\n') }
          : f,
    );
    const byPath = new Map(files.map((f) => [f.path, f.content]));
    files.push(
      { path: 'datasets/data-owner/hospital-b.yaml', content: toHospitalB(byPath.get('datasets/data-owner/hospital-a.yaml')!) },
      { path: 'benchmarks/chestxray/datasets/data-owner/hospital-b.yaml', content: toHospitalB(byPath.get('benchmarks/chestxray/datasets/data-owner/hospital-a.yaml')!) },
    );
    await standin.createRepo(SEALED, files, ['medperf-admin', 'bench-committee', 'model-owner', 'data-owner', BOT]);
    standin.protect(SEALED, { checks: [{ context: 'medperf-git/approval', appId: GITHUB_ACTIONS_APP_ID }], enforceAdmins: true });
  });

  it('passes what the data owner sealed, holds what breaks a rule inside without printing a number, and holds everything without the key', async () => {
    const good = await openPull('data-owner', 'sealed-good', { [path]: await sealedText({ AUC: 0.9137, F1: 0.6521 }) }, SEALED);
    const checkout = await checkoutMain(SEALED);
    const gate = (number: number, sha: string, siteKey?: string) =>
      runAction({ inputs: { mode: 'gate', token: tokens[BOT]!, ...(siteKey ? { 'site-key': siteKey } : {}) }, event: pullRequestTargetOf(SEALED, number, 'data-owner', sha), env: env(SEALED), workspace: checkout });
    const passed = await gate(good.number, good.sha, site.ageIdentity);
    expect(passed.stdout).not.toContain('::error');
    expect(passed.outputs.satisfied).toBe('true');
    // The runner masks the key (::add-mask:: is its command, not a log line); nothing else shows it.
    const logged = (r: { stdout: string; stderr: string }) => (r.stdout + r.stderr).replace(/^::add-mask::.*$/gm, '');
    expect(passed.stdout).toContain(`::add-mask::${site.ageIdentity}`);
    expect(logged(passed)).not.toContain(site.ageIdentity);

    const bad = await openPull('data-owner', 'sealed-bad', { [path]: await sealedText({ AUC: 0.9137, 'Jane Doe': 0.6521 }) }, SEALED);
    const held = await gate(bad.number, bad.sha, site.ageIdentity);
    expect(held.outputs.satisfied).toBe('false');
    expect(held.outputs.summary).toBe("encrypted results: 1 finding (see the gate's log)");
    expect(held.stdout).toContain(`::error title=confidential,file=${path},line=`);
    expect(held.stdout).toContain('in the encrypted metrics (privacy): a name under metrics is not a metric name');
    for (const secret of ['0.9137', '0.6521', 'Jane Doe', site.ageIdentity]) expect(logged(held), secret).not.toContain(secret);

    const keyless = await gate(good.number, good.sha);
    expect(keyless.outputs.satisfied).toBe('false');
    expect(keyless.stdout).toContain('the encrypted metrics cannot be checked: this check holds no site key');
    expect(await mergeAs('data-owner', good.number, SEALED)).not.toBe('merged');
    expect(violations()).toEqual([]);
  });
});

