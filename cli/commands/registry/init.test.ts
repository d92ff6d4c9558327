import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeTree, directoryTree } from '../../../registry/trees.ts';
import { validateRegistry } from '../../../registry/validate.ts';
import { main } from '../../main.ts';

const ACTION = ['--action', 'mlcommons/medperf-git/action@0123456789abcdef0123456789abcdef01234567'];

async function run(argv: string[], cwd: string) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    cwd,
    env: {},
    stdout: { write: (s: string) => ((stdout += s), true) } as never,
    stderr: { write: (s: string) => ((stderr += s), true) } as never,
  });
  return { code, stdout, stderr };
}

let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'medperf-git-init-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('medperf-git registry init', () => {
  it('scaffolds a registry that validates', async () => {
    const r = await run(['registry', 'init', 'reg', '--title', 'Brain tumours', '--admin', 'alice', '--admin', 'bob', ...ACTION], tmp);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('wrote '))).toEqual([
      'wrote .github/CODEOWNERS',
      'wrote .github/workflows/comment.yml',
      'wrote .github/workflows/gate.yml',
      'wrote .github/workflows/pages.yml',
      'wrote .github/workflows/review.yml',
      'wrote .github/workflows/validate.yml',
      'wrote README.md',
      'wrote registry.yaml',
    ]);
    const tree = directoryTree(join(tmp, 'reg'));
    try {
      expect(await validateRegistry(tree)).toEqual([]);
    } finally {
      await closeTree(tree);
    }
    expect(await readFile(join(tmp, 'reg/registry.yaml'), 'utf8')).toContain('title: Brain tumours\nadmins:\n  - alice\n  - bob\n');
  });

  it('will not overwrite without --force, and regenerates CODEOWNERS from the committees', async () => {
    expect((await run(['registry', 'init', '--admin', 'alice', ...ACTION], tmp)).code).toBe(0);
    const again = await run(['registry', 'init', '--admin', 'alice', ...ACTION], tmp);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('error (exists): .github/CODEOWNERS, .github/workflows/comment.yml');
    const benchmark = join(tmp, 'benchmarks/lung/benchmark.yaml');
    await mkdir(join(tmp, 'benchmarks/lung'), { recursive: true });
    const h = 'a'.repeat(64);
    await writeFile(
      benchmark,
      JSON.stringify({
        name: 'lung',
        committee: ['carol'],
        data_preparation_mlcube: 'carol/prep',
        reference_model: 'carol/ref',
        data_evaluator_mlcube: 'carol/metrics',
        demo_dataset: { url: 'https://example.org/demo.tar.gz', sha256: h, generated_uid: h },
        results_policy: { publish: 'aggregate', primary_metric: 'AUC', direction: 'higher' },
        state: 'operational',
      }),
    );
    const config = (await readFile(join(tmp, 'registry.yaml'), 'utf8')) + 'description: kept as it is\n';
    await writeFile(join(tmp, 'registry.yaml'), config);
    const forced = await run(['registry', 'init', '--force', ...ACTION], tmp);
    expect(forced.code).toBe(0);
    const owners = await readFile(join(tmp, '.github/CODEOWNERS'), 'utf8');
    expect(owners).toContain('/benchmarks/lung/models/ @carol\n');
    expect(await readFile(join(tmp, 'registry.yaml'), 'utf8')).toBe(config);
    expect(forced.stdout).not.toContain('wrote registry.yaml');
  });

  it('asks for an admin', async () => {
    const r = await run(['registry', 'init'], tmp);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain('name at least one admin: --admin LOGIN');
  });

  it('needs the Action pinned to a commit, and writes nothing otherwise', async () => {
    for (const [argv, said] of [
      [[], 'error (action-not-pinned): name the medperf-git Action the workflows run, pinned to a commit; pin it to a full commit SHA: `git ls-remote https://github.com/mlcommons/medperf-git'],
      [['--action', 'mlcommons/medperf-git/action@v1'], "error (action-not-pinned): --action mlcommons/medperf-git/action@v1 names a tag or branch, which can be moved to other code, and the gate, comment and pages workflows run the Action with write tokens; pin it to a full commit SHA: `git ls-remote https://github.com/mlcommons/medperf-git 'v1^{}' 'v1'`"],
      [['--action', 'hospital/fork/action@main'], "`git ls-remote https://github.com/hospital/fork 'main^{}' 'main'` prints the commit (for a tag, the line ending in ^{}), then pass --action hospital/fork/action@<that 40-character SHA>"],
    ] as const) {
      const r = await run(['registry', 'init', 'reg', '--admin', 'alice', ...argv], tmp);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(said);
      expect(existsSync(join(tmp, 'reg'))).toBe(false);
    }
  });
});

describe('medperf-git registry init --local', () => {
  it('creates a working local registry: the forge, and registry.yaml merged as its first pull request', async () => {
    const r = await run(['registry', 'init', '--local', 'hospital', '--admin', 'alice', '--admin', 'bob', '--title', 'Hospital registry'], tmp);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Created the local registry ${join(tmp, 'hospital')}: registry.yaml (admins alice, bob) merged as pull request #1.`);
    const { gitTree } = await import('../../../registry/trees.ts');
    const tree = gitTree(join(tmp, 'hospital', 'registry.git'), 'main');
    expect(await tree.list()).toEqual(['registry.yaml']);
    expect(await validateRegistry(tree)).toEqual([]);
    expect((await tree.read('registry.yaml'))!.toString()).toContain('title: Hospital registry');
    await tree.close();
    const ls = await run(['pr', 'ls', '--state', 'all', '--registry', join(tmp, 'hospital')], tmp);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/#1 .*merged/);

    const again = await run(['registry', 'init', '--local', 'hospital', '--admin', 'alice'], tmp);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds a local registry');
  });

  it('needs an admin, and a login for each', async () => {
    expect((await run(['registry', 'init', '--local', 'x'], tmp)).stderr).toContain('name at least one admin');
    expect((await run(['registry', 'init', '--local', 'x', '--admin', 'not a login'], tmp)).stderr).toContain('--admin not a login is not a GitHub login');
  });
});
