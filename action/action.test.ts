import { execFile } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAction } from '../testing/action.ts';

const execFileAsync = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const example = join(root, 'examples/registry');

async function git(cwd: string, ...args: string[]): Promise<string> {
  const { stdout } = await execFileAsync('git', args, {
    cwd,
    env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' },
  });
  return stdout.trim();
}

/** A pull_request event as GitHub sends it (the fields a runner's payload always has). */
function pullRequestEvent(number: number, author: string, baseSha: string, headSha: string) {
  return {
    name: 'pull_request',
    payload: {
      action: 'synchronize',
      number,
      pull_request: {
        number,
        state: 'open',
        title: 'A change',
        user: { login: author, type: 'User' },
        head: { ref: 'change', sha: headSha, repo: { full_name: 'org/registry' } },
        base: { ref: 'main', sha: baseSha, repo: { full_name: 'org/registry' } },
      },
      repository: { full_name: 'org/registry', name: 'registry', owner: { login: 'org' } },
      sender: { login: author, type: 'User' },
    },
  };
}

let repo: string;
let baseSha: string;
beforeAll(async () => {
  repo = mkdtempSync(join(tmpdir(), 'medperf-git-action-'));
  cpSync(example, repo, { recursive: true });
  await git(repo, 'init', '-q', '-b', 'main');
  await git(repo, 'add', '.');
  await git(repo, 'commit', '-q', '-m', 'registry');
  baseSha = await git(repo, 'rev-parse', 'HEAD');
});
afterAll(() => rmSync(repo, { recursive: true, force: true }));

async function branchWith(name: string, path: string, edit: (text: string) => string): Promise<string> {
  await git(repo, 'checkout', '-q', '-b', name, baseSha);
  writeFileSync(join(repo, path), edit(readFileSync(join(repo, path), 'utf8')));
  await git(repo, 'commit', '-q', '-am', name);
  const sha = await git(repo, 'rev-parse', 'HEAD');
  await git(repo, 'checkout', '-q', 'main');
  return sha;
}

describe('the bundled Action', () => {
  it('is what action/build.js builds from the sources', async () => {
    const out = mkdtempSync(join(tmpdir(), 'medperf-git-dist-'));
    try {
      // From another folder: the bundle must not depend on where the build runs.
      await execFileAsync(process.execPath, [join(root, 'action/build.js')], { cwd: tmpdir(), env: { ...process.env, ACTION_DIST: `${out}/` } });
      expect(readFileSync(join(out, 'index.js')).equals(readFileSync(join(root, 'action/dist/index.js'))), 'run `npm run build:action` and commit action/dist').toBe(true);
      expect(readFileSync(join(out, 'package.json'), 'utf8')).toBe(readFileSync(join(root, 'action/dist/package.json'), 'utf8'));
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  });

  it('holds no module of cli/: the Action reaches the registry core only', () => {
    const modules = readFileSync(join(root, 'action/dist/index.js'), 'utf8').match(/^\/\/ [\w./-]+\.ts$/gm) ?? [];
    expect(modules).toContain('// registry/site/folder.ts');
    expect(modules.filter((m) => m.startsWith('// cli/'))).toEqual([]);
  });

  it('validate: passes a PR whose owner edits their own record', async () => {
    const head = await branchWith('good', 'datasets/data-owner/hospital-a.yaml', (t) => t.replace('prepared with', 'prepared on site with'));
    const run = await runAction({ inputs: { mode: 'validate' }, event: pullRequestEvent(7, 'data-owner', baseSha, head), workspace: repo });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs.findings).toBe('0');
    expect(run.summary).toContain('## medperf-git: every check passes');
    const report = JSON.parse(readFileSync(join(repo, 'medperf-git-report.json'), 'utf8'));
    expect(report).toMatchObject({ version: 1, pullRequest: 7, head, base: baseSha, author: 'data-owner', ok: true, findings: [] });
  });

  it('validate: annotates every finding on its file and line, and fails', async () => {
    const path = 'benchmarks/chestxray/results/data-owner/hospital-a/model-owner/chestxray-mobilenet.yaml';
    const head = await branchWith('bad', path, (t) => t.replace('AUC: 0.726', 'AUC: "0.9 trust me"'));
    const run = await runAction({
      inputs: { mode: 'validate', report: 'out/report.json' },
      event: pullRequestEvent(8, 'model-owner', baseSha, head),
      workspace: repo,
    });
    expect(run.code).toBe(1);
    const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error '));
    expect(errors.length).toBeGreaterThanOrEqual(2);
    expect(errors.some((l) => l.startsWith(`::error title=medperf-git schema,file=${path},line=6,col=3::field \`metrics.AUC\` must be a number`))).toBe(true);
    expect(errors.some((l) => l.includes('title=medperf-git ownership'))).toBe(true);
    expect(run.stdout).toMatch(/::error::medperf-git: \d+ problems in 1 file to fix before this can merge/);
    expect(run.summary).toContain(`${path}:6:3 schema`);
    const report = JSON.parse(readFileSync(join(repo, 'out/report.json'), 'utf8'));
    expect(report.ok).toBe(false);
    expect(run.outputs.report).toBe(join(repo, 'out/report.json'));
  });

  it('validate: reads a registry kept in a folder of a larger repository', async () => {
    const mono = mkdtempSync(join(tmpdir(), 'medperf-git-action-mono-'));
    try {
      cpSync(example, join(mono, 'registry'), { recursive: true });
      writeFileSync(join(mono, 'README.md'), 'A repository with a registry in it.\n');
      await git(mono, 'init', '-q', '-b', 'main');
      await git(mono, 'add', '.');
      await git(mono, 'commit', '-q', '-m', 'registry');
      const base = await git(mono, 'rev-parse', 'HEAD');
      const path = 'benchmarks/chestxray/results/data-owner/hospital-a/model-owner/chestxray-mobilenet.yaml';
      writeFileSync(join(mono, 'registry', path), readFileSync(join(mono, 'registry', path), 'utf8').replace('AUC: 0.726', 'AUC: "high"'));
      writeFileSync(join(mono, 'README.md'), 'Changed outside the registry: not a record.\n');
      await git(mono, 'commit', '-q', '-am', 'change');
      const head = await git(mono, 'rev-parse', 'HEAD');
      const run = await runAction({ inputs: { mode: 'validate', path: 'registry' }, event: pullRequestEvent(9, 'data-owner', base, head), workspace: mono });
      expect(run.code).toBe(1);
      const errors = run.stdout.split('\n').filter((l) => l.startsWith('::error title='));
      expect(errors.length).toBeGreaterThan(1);
      // Every finding is annotated on the repository's path: the record's inside the folder, and the
      // file around the folder, which the workflows of the repository could run, is the admins' alone.
      const [around, ...inside] = errors.sort();
      expect(around).toBe('::error title=medperf-git ownership,file=README.md,line=1,col=1::data-owner may not change ../README.md: only the registry admins (medperf-admin) may change it');
      for (const e of inside) expect(e).toContain(`file=registry/${path},`);
    } finally {
      rmSync(mono, { recursive: true, force: true });
    }
  });

  it('site: builds the site into the folder given, linking records at the pushed commit', async () => {
    const run = await runAction({ inputs: { mode: 'site', out: 'public' }, workspace: repo, env: { GITHUB_SHA: baseSha } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.outputs['site-path']).toBe(join(repo, 'public'));
    expect(run.stdout).toContain('chestxray: 2 models, 1 dataset (per-model)');
    const page = readFileSync(join(repo, 'public/benchmarks/chestxray/index.html'), 'utf8');
    expect(page).toContain(`href="https://github.com/org/registry/blob/${baseSha}/benchmarks/chestxray/benchmark.yaml"`);
    expect(existsSync(join(repo, 'public/index.json'))).toBe(true);
  });

  it('fails with a plain message on a mode it does not know or an event it cannot use', async () => {
    const bogus = await runAction({ inputs: { mode: 'deploy' }, workspace: repo });
    expect(bogus.code).toBe(1);
    expect(bogus.stdout).toContain('::error::input mode must be one of validate, gate, comment, site, not "deploy"');
    const push = await runAction({ inputs: { mode: 'validate' }, event: { name: 'push', payload: {} }, workspace: repo });
    expect(push.stdout).toContain('::error::validate mode runs on pull_request events, not push');
  });
});
