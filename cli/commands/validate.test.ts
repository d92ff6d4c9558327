import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resignedText } from '../../examples/keys.ts';
import { EXAMPLE_PATHS as P, EXAMPLE_REGISTRY } from '../../testing/example-registry.ts';
import { runCli } from '../../testing/cli.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function run(argv: string[], cwd: string): Promise<{ code: number; stdout: string[]; stderr: string }> {
  const { code, out, err } = await runCli(argv, { env: { HOME: cwd, MEDPERF_GIT_HOME: join(cwd, '.state') }, cwd });
  return { code, stdout: out.split('\n').filter(Boolean), stderr: err };
}

/** A copy of the example registry in a temporary folder. */
function copy(): string {
  const dir = mkdtempSync(join(tmpdir(), 'medperf-git-validate-cli-'));
  dirs.push(dir);
  cpSync(EXAMPLE_REGISTRY, dir, { recursive: true });
  return dir;
}

function git(dir: string, ...args: string[]): void {
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd: dir, stdio: 'ignore' });
}

/** A copy of the example registry committed on main, with `branch` checked out for a change. */
function committedCopy(branch: string): string {
  const dir = copy();
  git(dir, 'init', '-q', '-b', 'main');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'registry');
  git(dir, 'checkout', '-q', '-b', branch);
  return dir;
}

function edit(dir: string, path: string, from: string, to: string): void {
  const file = join(dir, path);
  const text = execFileSync('cat', [file], { encoding: 'utf8' });
  writeFileSync(file, text.replace(from, to));
}

describe('medperf-git validate', () => {
  it('says the example registry is valid and exits 0', async () => {
    const r = await run(['validate', EXAMPLE_REGISTRY], tmpdir());
    expect(r).toEqual({ code: 0, stdout: ['valid: 16 files checked, no problems'], stderr: '' });
  });

  it('prints every finding as path:line:col rule-id message, then a summary, and exits 1', async () => {
    const dir = copy();
    edit(dir, P.cube, 'kind: model', 'kind: modle');
    writeFileSync(join(dir, 'notes.txt'), 'hello\n');
    const r = await run(['validate'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout[0]).toBe(`${P.cube}:4:1 schema field \`kind\` must be one of data-preparator, model, metrics (got "modle")`);
    expect(r.stdout[1]).toMatch(/^notes\.txt:1:1 layout file is outside the registry layout: records live at registry\.yaml/);
    expect(r.stdout.at(-1)).toBe('2 problems in 2 files (17 files checked)');
  });

  it('prints JSON lines with --json', async () => {
    const dir = copy();
    edit(dir, P.cube, 'kind: model', 'kind: modle');
    const r = await run(['validate', '--json', dir], tmpdir());
    expect(r.code).toBe(1);
    expect(r.stdout.map((l) => JSON.parse(l))).toEqual([
      { path: P.cube, line: 4, column: 1, rule: 'schema', message: 'field `kind` must be one of data-preparator, model, metrics (got "modle")' },
    ]);
  });

  it('with --base checks only the change since the merge base, as its author', async () => {
    const dir = committedCopy('topic');
    // A broken record already on main is not this change's business.
    git(dir, 'checkout', '-q', 'main');
    edit(dir, P.cube, 'kind: model', 'kind: modle');
    git(dir, 'commit', '-q', '-am', 'main breaks a cube');
    git(dir, 'checkout', '-q', 'topic');
    edit(dir, P.dataset, 'num_samples: 400', 'num_samples: "about four hundred"');

    const mine = await run(['validate', '--base', 'main', '--author', 'data-owner'], dir);
    expect(mine.code).toBe(1);
    expect(mine.stdout.filter((l) => !l.startsWith('info:'))).toEqual([
      `${P.dataset}:9:3 privacy statistics.num_samples is text, not a number: statistics carry numbers only, so nothing else leaves the hospital`,
      `${P.dataset}:9:3 schema field \`statistics.num_samples\` must be a number or a mapping (statistics are numbers only)`,
      '2 problems in 1 file (1 changed file checked)',
    ]);

    const someoneElse = await run(['validate', '--base', 'main', '--author', 'model-owner', '--json'], dir);
    const rules = someoneElse.stdout.map((l) => JSON.parse(l) as { rule?: string }).map((f) => f.rule);
    expect(rules).toContain('ownership');
  });
});

describe('medperf-git validate --base, a registry in a folder of a larger repository', () => {
  it('counts every file of the repository around the folder as the admins\' alone: workflows, CODEOWNERS, scripts, a deletion, a move out of the folder', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'medperf-git-validate-mono-'));
    dirs.push(repo);
    const dir = join(repo, 'registry');
    cpSync(EXAMPLE_REGISTRY, dir, { recursive: true });
    mkdirSync(join(repo, '.github/workflows'), { recursive: true });
    writeFileSync(join(repo, '.github/workflows/gate.yml'), 'on: pull_request_target\n');
    mkdirSync(join(repo, 'tools'));
    writeFileSync(join(repo, 'tools/build.sh'), 'echo build\n');
    writeFileSync(join(dir, 'README.md'), 'The registry.\n');
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'commit', '-q', '-m', 'a repository with a registry in it');
    git(repo, 'checkout', '-q', '-b', 'topic');
    writeFileSync(join(repo, '.github/workflows/gate.yml'), 'on: pull_request_target\njobs: {pass: {runs-on: ubuntu-latest, steps: [{run: "true"}]}}\n');
    writeFileSync(join(repo, 'CODEOWNERS'), '* @newcomer\n');
    git(repo, 'rm', '-q', 'tools/build.sh');
    git(repo, 'mv', 'registry/README.md', 'README.md');
    git(repo, 'commit', '-q', '-am', 'around the registry');
    writeFileSync(join(repo, 'untracked.sh'), 'echo\n');

    for (const from of ['.', '..']) {
      const newcomer = await run(['validate', '--base', 'main', '--author', 'newcomer', ...(from === '..' ? ['registry'] : [])], from === '.' ? dir : join(dir, '..'));
      expect(newcomer.code).toBe(1);
      expect(newcomer.stdout).toEqual([
        '../.github/workflows/gate.yml:1:1 ownership newcomer may not change ../.github/workflows/gate.yml: only the registry admins (medperf-admin) may change it',
        '../CODEOWNERS:1:1 ownership newcomer may not change ../CODEOWNERS: only the registry admins (medperf-admin) may change it',
        '../README.md:1:1 ownership newcomer may not change ../README.md: only the registry admins (medperf-admin) may change it',
        '../tools/build.sh:1:1 ownership newcomer may not change ../tools/build.sh: only the registry admins (medperf-admin) may change it',
        '../untracked.sh:1:1 ownership newcomer may not change ../untracked.sh: only the registry admins (medperf-admin) may change it',
        'README.md:1:1 ownership newcomer may not delete README.md: only the registry admins (medperf-admin) may change it',
        "info: the repository around the registry's folder changes: needs an approving review from one of medperf-admin (../.github/workflows/gate.yml, ../CODEOWNERS, ../README.md, ../tools/build.sh, ../untracked.sh)",
        "info: the registry's own files change: needs an approving review from one of medperf-admin (README.md)",
        '6 problems in 6 files (6 changed files checked)',
      ]);
    }
    // An admin's change has no finding, and still waits for another admin's review.
    const admin = await run(['validate', '--base', 'main', '--author', 'medperf-admin'], dir);
    expect(admin.code).toBe(0);
    expect(admin.stdout.at(-1)).toBe('valid: 6 changed files checked, no problems');
  });
});

describe('medperf-git validate --base, a submodule the repository says to ignore', () => {
  it('still counts its change, outside the folder and in it', async () => {
    const repo = mkdtempSync(join(tmpdir(), 'medperf-git-validate-submodule-'));
    dirs.push(repo);
    cpSync(EXAMPLE_REGISTRY, join(repo, 'registry'), { recursive: true });
    writeFileSync(join(repo, '.gitmodules'), '[submodule "lib"]\n\tpath = vendor/lib\n\turl = https://example.org/lib.git\n\tignore = all\n');
    git(repo, 'init', '-q', '-b', 'main');
    git(repo, 'add', '-A');
    git(repo, 'update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendor/lib`);
    git(repo, 'commit', '-q', '-m', 'a vendored library, ignored by git status and diff');
    git(repo, 'checkout', '-q', '-b', 'topic');
    git(repo, 'update-index', '--cacheinfo', `160000,${'2'.repeat(40)},vendor/lib`);
    git(repo, 'commit', '-q', '--allow-empty', '-m', 'bump it');
    const r = await run(['validate', '--base', 'main', '--author', 'data-owner'], join(repo, 'registry'));
    expect(r.code).toBe(1);
    expect(r.stdout[0]).toBe('../vendor/lib:1:1 ownership data-owner may not change ../vendor/lib: only the registry admins (medperf-admin) may change it');
  });
});

describe('medperf-git validate, declared names', () => {
  it('with --base refuses statistics and metric names the benchmark does not declare, each at its line', async () => {
    const dir = committedCopy('topic');
    edit(dir, P.dataset, '    effusion: 58\n', '    effusion: 58\n    st_mary_ward_3: 1\n');
    edit(dir, P.result, '  accuracy: 0.826\n', '  accuracy: 0.826\n  Jane_Roe_DOB_1961_04_02_MRN_88123: 1\n');
    edit(dir, P.result, 'version: 1', 'version: 2');
    edit(dir, P.result, '2026-11-05T08:00:00Z', '2026-11-21T08:00:00Z');
    // Signed again by the data owner, as `run` signs a rerun: the findings are the names alone.
    const file = join(dir, P.result);
    const signed = await resignedText(P.result, readFileSync(file, 'utf8'));
    writeFileSync(file, signed);
    const line = signed.split('\n').findIndex((l) => l.includes('Jane_Roe')) + 1;
    const r = await run(['validate', '--base', 'main', '--author', 'data-owner'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout.filter((l) => !l.startsWith('info:'))).toEqual([
      `${P.result}:${line}:3 declared-names a name under metrics is not one that the benchmark chestxray declares (AUC, F1, accuracy): metrics hold only the names their benchmark declares, so no text of the data leaves the hospital; remove it (\`medperf-git run\` writes only declared names), or ask the committee of chestxray to declare it`,
      `${P.dataset}:14:5 declared-names a name under statistics.labels is not one that the benchmark chestxray declares (num_samples, labels.atelectasis, labels.cardiomegaly, labels.effusion): statistics hold only the names their benchmark declares, so no text of the data leaves the hospital; remove it (\`medperf-git dataset set-operational\` writes only declared names), or ask the committee to declare it`,
      '2 problems in 2 files (2 changed files checked)',
    ]);
  });

  it('gives a benchmark from before the declaration a finding that says how its committee adds it', async () => {
    const dir = copy();
    edit(dir, P.benchmark, 'metric_names:\n  - AUC\n  - F1\n  - accuracy\n', '');
    const r = await run(['validate', '.'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(
      `${P.benchmark}:2:1 declared-names the benchmark chestxray declares no metric_names: results, compatibility tests and dataset statistics may hold only the names their benchmark declares, so until it does none is accepted; its committee runs \`medperf-git benchmark declare-names -b chestxray\`, which takes them from the metrics cube and the data preparator on the demo dataset (and from the records already merged) and opens the pull request that adds them`,
    );
    expect(r.stdout.filter((l) => l.includes('declares no metric_names yet'))).toHaveLength(5);
  });
});

describe('medperf-git validate --base, outside git', () => {
  it('says clearly that --base needs a git repository', async () => {
    const dir = copy();
    const r = await run(['validate', '--base', 'main'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toEqual([]);
    expect(r.stderr).toContain(`--base main: no merge base with HEAD in ${dir}`);
  });
});

describe('medperf-git validate --base, approvals', () => {
  it('tells which approval an association would need, as information', async () => {
    const dir = committedCopy('associate');
    const assoc = join(dir, P.datasetAssociation);
    const text = execFileSync('cat', [assoc], { encoding: 'utf8' });
    rmSync(assoc);
    git(dir, 'commit', '-q', '-am', 'dataset association removed from the base');
    git(dir, 'branch', '-f', 'main');
    writeFileSync(assoc, text);
    const r = await run(['validate', '--base', 'main', '--author', 'data-owner'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toEqual([
      expect.stringMatching(/^info: .*: needs an approving review from one of bench-committee \(benchmarks\/chestxray\/datasets\/data-owner\/hospital-a\.yaml\)$/),
      'valid: 1 changed file checked, no problems',
    ]);
  });
});

describe('medperf-git validate, on what is not a registry', () => {
  it('refuses a folder that does not exist, and a folder without registry.yaml', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medperf-git-validate-empty-'));
    dirs.push(dir);
    const missing = await run(['validate', 'no-such-registry'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no-such-registry: no such folder; name a registry folder (one holding registry.yaml)');
    const empty = await run(['validate', '.'], dir);
    expect(empty.code).toBe(1);
    expect(empty.stdout[0]).toBe(
      'registry.yaml:1:1 layout missing: every registry has a registry.yaml naming its title and admins (`medperf-git registry init` writes one)',
    );
  });
});
