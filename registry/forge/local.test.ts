import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LocalForge } from './local.ts';
import { REGISTRY_YAML, benchmarkYaml, simpleChecks } from '../../testing/forge.ts';

let root: string;
const as = (login: string) => LocalForge.open({ root, login, checks: simpleChecks });

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'medperf-git-local-forge-'));
  const admin = await as('admin');
  await admin.commitToMain([{ path: 'registry.yaml', content: REGISTRY_YAML }], 'Create the registry');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

const text = async (tree: { read(p: string): Promise<Buffer | undefined> }, path: string) =>
  (await tree.read(path))?.toString('utf8');

describe('local forge', () => {
  it('proposes a change as a PR without touching main, and the same change again updates that PR', async () => {
    const alice = await as('alice');
    const first = await alice.propose({
      key: 'cube/alice/model-a',
      title: 'Add cube alice/model-a',
      body: 'hashes computed by medperf-git',
      files: [{ path: 'mlcubes/alice/model-a.yaml', content: 'name: model-a\n' }],
    });
    expect(first.created).toBe(true);
    expect(first.pull).toMatchObject({
      number: 1,
      state: 'open',
      author: 'alice',
      branch: 'medperf/cube/alice/model-a',
      paths: ['mlcubes/alice/model-a.yaml'],
    });
    expect(await (await alice.main()).list()).toEqual(['registry.yaml']);
    expect(await text(await alice.pullTree(1), 'mlcubes/alice/model-a.yaml')).toBe('name: model-a\n');

    const again = await alice.propose({
      key: 'cube/alice/model-a',
      title: 'Add cube alice/model-a',
      body: 'hashes computed by medperf-git',
      files: [{ path: 'mlcubes/alice/model-a.yaml', content: 'name: model-a\n' }],
    });
    expect(again).toMatchObject({ created: false, pushed: false, pull: { number: 1 } });

    const updated = await alice.propose({
      key: 'cube/alice/model-a',
      title: 'Add cube alice/model-a (v2)',
      body: '',
      files: [{ path: 'mlcubes/alice/model-b.yaml', content: 'name: model-b\n' }],
    });
    expect(updated).toMatchObject({ created: false, pushed: true, pull: { number: 1, title: 'Add cube alice/model-a (v2)' } });
    // The new set of files replaces the previous one.
    expect(updated.pull.paths).toEqual(['mlcubes/alice/model-b.yaml']);
    expect(await alice.listPulls({ state: 'all' })).toHaveLength(1);

    // The commit is authored by the acting login with a noreply address.
    const { execFileSync } = await import('node:child_process');
    const who = execFileSync('git', ['log', '-1', '--format=%an <%ae>', updated.pull.headSha], { cwd: alice.repo }).toString().trim();
    expect(who).toBe('alice <alice@users.noreply.github.com>');
  });

  it('lists PRs by the paths they touch and their state', async () => {
    const alice = await as('alice');
    await alice.propose({ key: 'a', title: 'a', body: '', files: [{ path: 'benchmarks/b1/models/alice/m.yaml', content: 'x: 1\n' }] });
    await alice.propose({ key: 'b', title: 'b', body: '', files: [{ path: 'benchmarks/b2/models/alice/m.yaml', content: 'x: 1\n' }] });
    await alice.close(2);
    expect((await alice.listPulls({ paths: ['benchmarks/b1/'] })).map((p) => p.number)).toEqual([1]);
    expect((await alice.listPulls({ paths: ['benchmarks/b2/'] })).map((p) => p.number)).toEqual([]);
    expect((await alice.listPulls({ paths: ['benchmarks/b2/'], state: 'closed' })).map((p) => p.number)).toEqual([2]);
    expect((await alice.listPulls({ state: 'all', author: 'bob' })).map((p) => p.number)).toEqual([]);
    await expect(alice.close(2)).rejects.toThrow('pull request #2 is already closed');
  });

  it('reviews: the author cannot approve their own PR; reviews read in the gate shape', async () => {
    const alice = await as('alice');
    await alice.propose({ key: 'bench', title: 'Add benchmark b1', body: '', files: [{ path: 'benchmarks/b1/benchmark.yaml', content: benchmarkYaml('b1') }] });
    await expect(alice.review(1, 'APPROVE')).rejects.toThrow('alice opened pull request #1; the author cannot approve their own pull request');
    const admin = await as('admin');
    await admin.review(1, 'REQUEST_CHANGES', 'describe it better');
    await admin.review(1, 'APPROVE');
    const reviews = await admin.reviews(1);
    expect(reviews.map((r) => [r.login, r.state])).toEqual([
      ['admin', 'CHANGES_REQUESTED'],
      ['admin', 'APPROVED'],
    ]);
    expect(reviews[0]!.submittedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
  });

  it('keeps one comment per PR, edited in place', async () => {
    const alice = await as('alice');
    await alice.propose({ key: 'a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'x: 1\n' }] });
    await alice.upsertComment(1, 'checks: 2 findings');
    await alice.upsertComment(1, 'checks: all passed');
    const comments = await alice.comments(1);
    expect(comments).toHaveLength(1);
    expect(comments[0]!.body).toBe('<!-- medperf-git -->\nchecks: all passed');
  });

  it('merge runs validation and the gate and refuses, saying why, what the Action would refuse', async () => {
    const alice = await as('alice');
    const admin = await as('admin');
    await alice.propose({ key: 'bad', title: 'bad', body: '', files: [{ path: 'mlcubes/alice/bad.yaml', content: 'invalid: true\n' }] });
    await expect(admin.merge(1)).rejects.toThrow(
      'pull request #1 fails validation, as the Action would report it:\nmlcubes/alice/bad.yaml:1:1 schema must NOT have property invalid',
    );
    await alice.propose({ key: 'bench', title: 'Add benchmark b1', body: '', files: [{ path: 'benchmarks/b1/benchmark.yaml', content: benchmarkYaml('b1') }] });
    await expect(alice.merge(2)).rejects.toThrow('pull request #2 is not approved: needs approval from an admin (admin)');
    await admin.review(2, 'APPROVE');
    const merged = await admin.merge(2);
    expect(merged.pull).toMatchObject({ number: 2, state: 'merged' });
    expect(await text(await admin.main(), 'benchmarks/b1/benchmark.yaml')).toBe(benchmarkYaml('b1'));
    expect((await admin.listPulls({ state: 'merged' })).map((p) => p.number)).toEqual([2]);
    await expect(admin.merge(2)).rejects.toThrow('pull request #2 is merged; only an open pull request can be merged');
  });

  it.each([
    [1, 2],
    [2, 1],
  ])('two PRs on different records merge cleanly in either order (%i then %i)', async (first, second) => {
    const alice = await as('alice');
    const bob = await as('bob');
    await alice.propose({ key: 'cube/alice/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
    await bob.propose({ key: 'cube/bob/b', title: 'b', body: '', files: [{ path: 'mlcubes/bob/b.yaml', content: 'name: b\n' }] });
    const byAuthor = (n: number) => (n === 1 ? alice : bob);
    await byAuthor(first).merge(first);
    await byAuthor(second).merge(second);
    expect(await (await alice.main()).list()).toEqual(['mlcubes/alice/a.yaml', 'mlcubes/bob/b.yaml', 'registry.yaml']);
  });

  it('refuses a merge that conflicts with main, naming the file', async () => {
    const alice = await as('alice');
    const bob = await as('bob');
    await alice.propose({ key: 'x1', title: 'x1', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
    await bob.propose({ key: 'x2', title: 'x2', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: b\n' }] });
    await alice.merge(1);
    await expect(alice.merge(2)).rejects.toThrow('pull request #2 conflicts with main in mlcubes/alice/a.yaml');
  });

  it('concurrent writers in separate processes do not corrupt the PR store', async () => {
    const script = join(root, 'writer.mts');
    await writeFile(
      script,
      `import { LocalForge } from ${JSON.stringify(join(import.meta.dirname, 'local.ts'))};
const [root, who] = process.argv.slice(2);
const forge = await LocalForge.open({ root, login: who });
for (let i = 0; i < 3; i++) {
  await forge.propose({ key: 'cube/' + who + '/m' + i, title: who + ' ' + i, body: '', files: [{ path: 'mlcubes/' + who + '/m' + i + '.yaml', content: 'i: ' + i + '\\n' }] });
  await forge.upsertComment(1, who + ' was here ' + i, 'note-' + who);
}
`,
    );
    const writers = ['w1', 'w2', 'w3', 'w4'];
    await Promise.all(
      writers.map(
        (who) =>
          new Promise<void>((resolve, reject) => {
            const child = spawn(process.execPath, ['--import', 'tsx', script, root, who], { stdio: ['ignore', 'ignore', 'pipe'] });
            let err = '';
            child.stderr.on('data', (b) => (err += b));
            child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${who} exited ${code}: ${err}`))));
          }),
      ),
    );
    const store = JSON.parse(await readFile(join(root, 'pulls.json'), 'utf8'));
    expect(store.pulls.map((p: { number: number }) => p.number)).toEqual([...Array(12).keys()].map((i) => i + 1));
    const forge = await as('admin');
    expect(new Set((await forge.listPulls()).map((p) => p.branch)).size).toBe(12);
    expect((await forge.comments(1)).map((c) => c.body).sort()).toEqual(writers.map((w) => `<!-- note-${w} -->\n${w} was here 2`));
  });
});

describe('local forge: main is protected as GitHub branch protection would protect it', () => {
  const work = () => join(root, 'work');
  const sh = (args: string[], cwd = work()) =>
    new Promise<{ code: number; err: string }>((resolve) => {
      const env = { ...process.env, GIT_AUTHOR_NAME: 'm', GIT_AUTHOR_EMAIL: 'm@x', GIT_COMMITTER_NAME: 'm', GIT_COMMITTER_EMAIL: 'm@x' };
      const child = spawn('git', args, { cwd, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (b) => (err += b));
      child.on('close', (code) => resolve({ code: code ?? -1, err }));
    });
  const mainOf = async () => (await sh(['--git-dir', join(root, 'registry.git'), 'rev-parse', 'main'], root)).code;

  beforeEach(async () => {
    const alice = await as('alice');
    await alice.propose({ key: 'cube/alice/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
    await alice.merge(1);
    expect((await sh(['clone', '--quiet', join(root, 'registry.git'), work()], root)).code).toBe(0);
  });

  it('refuses every push to main: a force-push deleting a record, a fast-forward, a deletion, a new commit on top', async () => {
    const before = (await (await as('admin')).main()).list();
    const attempts: Array<[string, string[][]]> = [
      ['force-push deleting a record', [['rm', '-q', 'mlcubes/alice/a.yaml'], ['commit', '-q', '--amend', '-m', 'gone'], ['push', '--force', 'origin', 'HEAD:main']]],
      ['fast-forward', [['commit', '-q', '--allow-empty', '-m', 'direct'], ['push', 'origin', 'HEAD:main']]],
      ['push with --no-verify', [['commit', '-q', '--allow-empty', '-m', 'direct'], ['push', '--no-verify', 'origin', 'HEAD:refs/heads/main']]],
      ['deletion', [['push', 'origin', ':main']]],
      ['with a hooks path of the pusher', [['commit', '-q', '--allow-empty', '-m', 'x'], ['-c', 'core.hooksPath=/dev/null', 'push', 'origin', 'HEAD:main']]],
    ];
    for (const [what, steps] of attempts) {
      let last = { code: 0, err: '' };
      for (const step of steps) last = await sh(step);
      expect(last.code, what).not.toBe(0);
      expect(last.err, what).toMatch(/refused|denied|declined/);
      await sh(['reset', '-q', '--hard', 'origin/main']);
    }
    expect(await (await (await as('admin')).main()).list()).toEqual(await before);
    expect(await mainOf()).toBe(0);
  });

  it('a main moved behind the forge is refused by every operation, saying how to put it back', async () => {
    const admin = await as('admin');
    const good = (await sh(['--git-dir', join(root, 'registry.git'), 'rev-parse', 'main'], root)).code === 0;
    expect(good).toBe(true);
    // Moving the ref by hand goes around the hook; the forge notices.
    const { execFileSync } = await import('node:child_process');
    const repo = join(root, 'registry.git');
    const first = execFileSync('git', ['rev-list', '--max-parents=0', 'main'], { cwd: repo }).toString().trim();
    const at = execFileSync('git', ['rev-parse', 'main'], { cwd: repo }).toString().trim();
    execFileSync('git', ['update-ref', 'refs/heads/main', first], { cwd: repo });
    const message = `main of the local registry ${root} is at ${first}, but the forge last left it at ${at}: main changes only through merged pull requests. Put it back with \`git -C ${repo} update-ref refs/heads/main ${at}\``;
    await expect(admin.main()).rejects.toThrow(message);
    await expect(admin.propose({ key: 'x', title: 'x', body: '', files: [{ path: 'mlcubes/admin/x.yaml', content: 'x: 1\n' }] })).rejects.toThrow(message);
    await expect(admin.commitToMain([{ path: 'README.md', content: 'x\n' }], 'x')).rejects.toThrow(message);
    execFileSync('git', ['update-ref', 'refs/heads/main', at], { cwd: repo });
    expect(await (await admin.main()).list()).toEqual(['mlcubes/alice/a.yaml', 'registry.yaml']);
  });
});

describe('local forge: who may close and merge', () => {
  it('the author or an approver closes; anyone else is refused, saying who may', async () => {
    const alice = await as('alice');
    await alice.propose({ key: 'bench', title: 'b1', body: '', files: [{ path: 'benchmarks/b1/benchmark.yaml', content: benchmarkYaml('b1') }] });
    await alice.propose({ key: 'cube', title: 'c', body: '', files: [{ path: 'mlcubes/alice/c.yaml', content: 'name: c\n' }] });
    for (const login of ['mallory', 'Bob', 'alice-2']) {
      await expect((await as(login)).close(1)).rejects.toThrow(
        `${login} may not close pull request #1: only its author (alice), one who may approve it (admin) or a registry admin (admin) may`,
      );
    }
    await expect((await as('mallory')).close(2)).rejects.toThrow(
      'mallory may not close pull request #2: only its author (alice) or a registry admin (admin) may',
    );
    expect((await (await as('Admin')).close(1)).state).toBe('closed');
    expect((await (await as('ALICE')).close(2)).state).toBe('closed');
  });

  it('a merge needs the gate and is made by the author, an approver or an admin', async () => {
    const alice = await as('alice');
    await alice.propose({ key: 'cube', title: 'c', body: '', files: [{ path: 'mlcubes/alice/c.yaml', content: 'name: c\n' }] });
    await expect((await as('mallory')).merge(1)).rejects.toThrow(
      'mallory may not merge pull request #1: only its author (alice) or a registry admin (admin) may',
    );
    expect((await (await as('admin')).merge(1)).pull.state).toBe('merged');
    await alice.propose({ key: 'cube2', title: 'c2', body: '', files: [{ path: 'mlcubes/alice/d.yaml', content: 'name: d\n' }] });
    expect((await alice.merge(2)).pull.state).toBe('merged');
  });

  it('an approval counts for the commit it was given on: a push after it needs a new approval', async () => {
    const alice = await as('alice');
    const admin = await as('admin');
    const bench = (text: string) => ({ key: 'bench', title: 'b1', body: '', files: [{ path: 'benchmarks/b1/benchmark.yaml', content: text }] });
    await alice.propose(bench(benchmarkYaml('b1')));
    await admin.review(1, 'APPROVE');
    expect((await admin.reviews(1))[0]!.commitId).toBe((await alice.getPull(1)).headSha);
    await alice.propose(bench(benchmarkYaml('b1') + 'extra: pushed after the approval\n'));
    await expect(alice.merge(1)).rejects.toThrow('pull request #1 is not approved: needs approval from an admin (admin)');
    // A review of the commit the reviewer read is refused once the PR moved on; the head's is taken.
    const read = (await admin.reviews(1))[0]!.commitId!;
    const head = (await alice.getPull(1)).headSha;
    await expect(admin.review(1, 'APPROVE', '', read)).rejects.toThrow(
      `pull request #1 moved on to ${head.slice(0, 12)} since you read it at ${read.slice(0, 12)}; nothing was reviewed: look at it again (medperf-git pr view 1) and review it then`,
    );
    expect(await admin.reviews(1)).toHaveLength(1);
    await admin.review(1, 'APPROVE', '', head);
    expect((await alice.merge(1)).pull.state).toBe('merged');
  });
});

describe('local forge: the empty registry', () => {
  it('PRs opened before the first merge all stay mergeable', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'medperf-git-empty-forge-'));
    try {
      const open = (login: string) => LocalForge.open({ root: empty, login, checks: simpleChecks });
      const admin = await open('admin');
      await admin.propose({ key: 'registry', title: 'registry', body: '', files: [{ path: 'registry.yaml', content: REGISTRY_YAML }] });
      const alice = await open('alice');
      await alice.propose({ key: 'cube/a', title: 'a', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: a\n' }] });
      await alice.propose({ key: 'cube/b', title: 'b', body: '', files: [{ path: 'mlcubes/alice/b.yaml', content: 'name: b\n' }] });
      await admin.merge(1);
      await alice.merge(3);
      await alice.merge(2);
      expect(await (await admin.main()).list()).toEqual(['mlcubes/alice/a.yaml', 'mlcubes/alice/b.yaml', 'registry.yaml']);
      // Two first PRs adding the same file differently conflict, as any two PRs would.
      await alice.propose({ key: 'cube/c', title: 'c', body: '', files: [{ path: 'mlcubes/alice/a.yaml', content: 'name: changed\n' }] });
      expect((await alice.merge(4)).pull.state).toBe('merged');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('two PRs opened on the empty registry that add one file differently conflict, naming it', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'medperf-git-empty-forge-'));
    try {
      const open = (login: string) => LocalForge.open({ root: empty, login, checks: simpleChecks });
      const alice = await open('alice');
      await alice.propose({ key: 'one', title: 'one', body: '', files: [{ path: 'registry.yaml', content: REGISTRY_YAML }] });
      await alice.propose({ key: 'two', title: 'two', body: '', files: [{ path: 'registry.yaml', content: 'title: other\nadmins: [x]\n' }] });
      await alice.merge(1);
      await expect(alice.merge(2)).rejects.toThrow('pull request #2 conflicts with main in registry.yaml');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });
});
