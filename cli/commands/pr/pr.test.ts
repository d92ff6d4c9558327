import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalForge } from '../../../registry/forge/local.ts';
import { REGISTRY_YAML, benchmarkYaml, simpleChecks } from '../../../testing/forge.ts';
import { runCli } from '../../../testing/cli.ts';

let home: string;
let forgeRoot: string;

const run = (argv: string[], env: Record<string, string> = {}) =>
  runCli(argv, { env: { MEDPERF_GIT_HOME: home, ...env }, cwd: home, extras: { forgeChecks: simpleChecks } });

beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'medperf-git-pr-cli-'));
  forgeRoot = join(home, 'forge');
  const admin = await LocalForge.open({ root: forgeRoot, login: 'admin' });
  await admin.commitToMain([{ path: 'registry.yaml', content: REGISTRY_YAML }], 'Create the registry');
  const alice = await LocalForge.open({ root: forgeRoot, login: 'alice' });
  await alice.propose({
    key: 'benchmark/brain',
    title: 'Add benchmark brain',
    body: 'Compatibility test passed on the demo data.',
    files: [{ path: 'benchmarks/brain/benchmark.yaml', content: benchmarkYaml('brain') }],
  });
  await alice.propose({
    key: 'cube/alice/seg',
    title: 'Add cube alice/seg',
    body: '',
    files: [{ path: 'mlcubes/alice/seg.yaml', content: 'name: seg\n' }],
  });
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('pr commands on the local registry (the default)', () => {
  it('pr ls lists pending changes, filtered by path and state', async () => {
    const all = await run(['pr', 'ls']);
    expect(all).toEqual({
      code: 0,
      err: '',
      out: [
        'PR  STATE           AUTHOR  TITLE',
        '#1  open (pending)  alice   Add benchmark brain',
        '#2  open (pending)  alice   Add cube alice/seg',
        '',
      ].join('\n'),
    });
    const cubes = await run(['pr', 'ls', '--path', 'mlcubes/']);
    expect(cubes.out).toBe('PR  STATE           AUTHOR  TITLE\n#2  open (pending)  alice   Add cube alice/seg\n');
    expect((await run(['pr', 'ls', '--state', 'merged'])).out).toBe('No merged pull requests.\n');
    const bad = await run(['pr', 'ls', '--state', 'pending']);
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('--state must be one of open, merged, closed, all, not pending');
    const json = await run(['pr', 'ls', '--json']);
    expect(json.out.trim().split('\n').map((l) => JSON.parse(l).number)).toEqual([1, 2]);
  });

  it('the approval flow: request changes, approve, merge; the author cannot approve', async () => {
    const own = await run(['pr', 'approve', '1', '--as', 'alice']);
    expect(own.code).toBe(1);
    expect(own.err).toBe('error (review-refused): alice opened pull request #1; the author cannot approve their own pull request\n');

    const early = await run(['pr', 'merge', '1', '--as', 'admin']);
    expect(early.code).toBe(1);
    expect(early.err).toBe(
      [
        'error (merge-refused): pull request #1 is not approved: needs approval from an admin (admin)',
        '  ✗ benchmark changes need an admin: waiting for one of admin',
        '      benchmarks/brain/benchmark.yaml',
        '',
      ].join('\n'),
    );

    expect((await run(['pr', 'request-changes', '#1', '-m', 'add docs_url', '--as', 'admin'])).out).toBe(
      'Requested changes on pull request #1 as admin.\n',
    );
    expect((await run(['pr', 'approve', '1'], { MEDPERF_GIT_LOGIN: 'admin' })).out).toBe('Approved pull request #1 as admin.\n');

    const view = await run(['pr', 'view', '1']);
    expect(view.out).toMatch(
      new RegExp(
        [
          '^#1 Add benchmark brain',
          'State:   open \\(pending\\)',
          'Author:  alice',
          'Branch:  medperf/benchmark/brain',
          `URL:     local:${forgeRoot.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}#1`,
          'Files:',
          '  benchmarks/brain/benchmark.yaml',
          '',
          'Compatibility test passed on the demo data.',
          '',
          'Reviews:',
          '  admin changes requested \\S+: add docs_url',
          '  admin approved \\S+',
          '',
          'Validation: passed',
          'Approval gate: satisfied — approved by admin',
          '  ✓ benchmark changes need an admin: approved by admin',
          '      benchmarks/brain/benchmark.yaml',
          '$',
        ].join('\n'),
      ),
    );

    const merged = await run(['pr', 'merge', '1', '--as', 'admin']);
    expect(merged.err).toBe('');
    expect(merged.out).toMatch(/^Merged pull request #1 \(Add benchmark brain\) into main at [0-9a-f]{12}\.\n$/);
    expect((await run(['pr', 'ls', '--state', 'merged'])).out).toContain('#1  merged (approved)  alice   Add benchmark brain');
  });

  it('pr close rejects the change; writing without a login says how to choose one', async () => {
    const anonymous = await run(['pr', 'close', '2']);
    expect(anonymous.code).toBe(1);
    expect(anonymous.err).toContain('who are you acting as on the local registry? Pass --as LOGIN');
    expect((await run(['pr', 'close', '2', '--as', 'admin', '-m', 'not a model'])).out).toBe(
      'Closed pull request #2: the change is rejected.\n',
    );
    expect((await run(['pr', 'ls', '--state', 'closed'])).out).toContain('#2  closed (rejected)  alice   Add cube alice/seg');
    const missing = await run(['pr', 'view', '9']);
    expect(missing.err).toBe(`error (not-found): no pull request #9 in the local registry ${forgeRoot}\n`);
  });
});
