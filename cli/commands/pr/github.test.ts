// The pr and auth commands against a GitHub registry (the loopback stand-in), as a user runs them.
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { GitHubForge } from '../../../registry/forge/github.ts';
import { GitHubStandIn } from '../../../testing/github-standin/server.ts';
import { REGISTRY_YAML, benchmarkYaml } from '../../../testing/forge.ts';
import { runCliOnGitHub } from '../../../testing/cli.ts';

let standin: GitHubStandIn;
let home: string;
const tokens: Record<string, string> = {};
const printed: string[] = [];

beforeAll(async () => {
  standin = await GitHubStandIn.start();
  for (const login of ['admin', 'alice']) tokens[login] = standin.addUser(login);
});
afterAll(async () => {
  await standin.stop();
});
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'medperf-git-gh-cli-'));
  await standin.deleteRepo('mlcommons/registry');
  await standin.deleteRepo('alice/registry');
  await standin.createRepo('mlcommons/registry', [{ path: 'registry.yaml', content: REGISTRY_YAML }], ['admin']);
  const alice = await GitHubForge.open({
    owner: 'mlcommons',
    repo: 'registry',
    apiUrl: standin.apiUrl,
    serverUrl: standin.url,
    env: { GITHUB_TOKEN: tokens.alice! },
    clonesDir: join(home, 'clones'),
    writeIntervalMs: 0,
  });
  await alice.propose({
    key: 'benchmark/brain',
    title: 'Add benchmark brain',
    body: 'Compatibility test passed.',
    files: [{ path: 'benchmarks/brain/benchmark.yaml', content: benchmarkYaml('brain') }],
  });
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
  expect(standin.takeViolations()).toEqual([]);
});

async function run(argv: string[], login: string | undefined, extraEnv: Record<string, string> = {}) {
  const result = await runCliOnGitHub(argv, { standin, home, token: login ? tokens[login]! : undefined, env: extraEnv });
  printed.push(result.out, result.err);
  return result;
}

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else if (entry.isFile()) out.push(p);
  }
  return out;
}

describe('pr and auth commands on a GitHub registry', () => {
  it('auth status says who you are, your permission and the token scopes, never the token', async () => {
    const status = await run(['auth', 'status'], 'alice');
    expect(status).toEqual({
      code: 0,
      err: '',
      out: ['Registry:   mlcommons/registry on GitHub', 'Logged in:  alice (GITHUB_TOKEN)', 'Permission: read', 'Scopes:     repo, read:org', ''].join('\n'),
    });
    expect((await run(['auth', 'status'], 'admin')).out).toContain('Permission: write');

    const none = await run(['auth', 'status'], undefined);
    expect(none.code).toBe(1);
    expect(none.err).toBe(`error (auth): no GitHub token for ${new URL(standin.url).host}: set GITHUB_TOKEN or GH_TOKEN, or log in with \`gh auth login\`\n`);

    // The GitHub CLI's stored login is used when no variable is set.
    await mkdir(join(home, '.config', 'gh'), { recursive: true });
    await writeFile(join(home, '.config', 'gh', 'hosts.yml'), `${new URL(standin.url).host}:\n  user: alice\n  oauth_token: ${tokens.alice}\n`);
    const gh = await run(['auth', 'status'], undefined);
    expect(gh.out).toContain(`Logged in:  alice (gh CLI (${join(home, '.config', 'gh', 'hosts.yml')}))`);
  });

  it('pr ls, view, approve and merge as the admin; the author cannot approve', async () => {
    expect((await run(['pr', 'ls'], 'alice')).out).toBe('PR  STATE           AUTHOR  TITLE\n#1  open (pending)  alice   Add benchmark brain\n');
    const own = await run(['pr', 'approve', '1'], 'alice');
    expect(own.err).toBe('error (review-refused): GitHub refused the review of #1: Unprocessable Entity; Can not approve your own pull request\n');
    expect((await run(['pr', 'approve', '1', '-m', 'welcome'], 'admin')).out).toBe('Approved pull request #1 as admin.\n');
    const view = await run(['pr', 'view', '1'], 'alice');
    expect(view.err).toBe('');
    // What the Action would say now: the record is incomplete, the admin's approval is in.
    expect(view.out).toContain('Validation: 7 findings\n  benchmarks/brain/benchmark.yaml:1:1 schema missing required field `committee`\n');
    expect(view.out).toContain('Approval gate: satisfied — approved: the benchmark brain is new, approved by admin\n');
    expect(view.out).toMatch(/^#1 Add benchmark brain\nState:   open \(pending\)\nAuthor:  alice\nBranch:  medperf\/benchmark\/brain\n/);
    expect(view.out).toContain('Files:\n  benchmarks/brain/benchmark.yaml\n');
    expect(view.out).toMatch(/Reviews:\n  admin approved \S+: welcome\n/);
    const refused = await run(['pr', 'merge', '1'], 'alice');
    expect(refused.err).toBe('error (forge-api): merge PR #1 failed with 403: Must have write access to merge.\n');
    const merged = await run(['pr', 'merge', '1'], 'admin');
    expect(merged.out).toMatch(/^Merged pull request #1 \(Add benchmark brain\) into main at [0-9a-f]{12}\.\n$/);
    expect((await run(['pr', 'ls', '--state', 'merged', '--path', 'benchmarks/'], 'alice')).out).toContain('#1  merged (approved)  alice   Add benchmark brain');
    const closed = await run(['pr', 'close', '1'], 'admin');
    expect(closed.err).toBe('error (pull-not-open): pull request #1 is already merged\n');
  });

  it('a failing API is retried, then reported clearly', async () => {
    standin.inject({ path: /^\/repos\/mlcommons\/registry\/pulls$/, method: 'GET', kind: 'server-error', times: 2 });
    expect((await run(['pr', 'ls'], 'alice')).out).toContain('#1  open (pending)');
    standin.inject({ path: /^\/repos\/mlcommons\/registry\/pulls$/, method: 'GET', kind: 'server-error', times: 4 });
    const failed = await run(['pr', 'ls'], 'alice');
    expect(failed).toEqual({
      code: 1,
      out: '',
      err: 'error (forge-api): GitHub failed on list PRs of mlcommons/registry with 502 after retrying: Server Error; try again later\n',
    });
  });

  it('the token is in nothing the CLI printed or wrote', async () => {
    await run(['pr', 'view', '1'], 'alice');
    await run(['auth', 'status'], 'alice');
    for (const text of printed) {
      for (const token of Object.values(tokens)) expect(text).not.toContain(token);
    }
    const encoded = Object.values(tokens).map((t) => Buffer.from(`x-access-token:${t}`).toString('base64'));
    for (const file of await filesUnder(home)) {
      const bytes = await readFile(file);
      for (const secret of [...Object.values(tokens), ...encoded]) expect(bytes.includes(secret), file).toBe(false);
    }
  });
});
