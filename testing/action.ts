// Runs the bundled Action exactly as a runner does: `node action/dist/index.js` with INPUT_*
// variables, an event payload file, and files for outputs and the job summary.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Octokit } from 'octokit';
import { parse } from 'yaml';

const execFileAsync = promisify(execFile);
export const BUNDLE = fileURLToPath(new URL('../action/dist/index.js', import.meta.url));

export interface ActionRun {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, string>;
  summary: string;
}

/** Parses the GITHUB_OUTPUT file: `name<<delimiter` blocks. */
function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^([^<]+)<<(.+)$/.exec(lines[i]!);
    if (!m) continue;
    const value: string[] = [];
    for (i++; i < lines.length && lines[i] !== m[2]; i++) value.push(lines[i]!);
    out[m[1]!] = value.join('\n');
  }
  return out;
}

export async function runAction(opts: {
  inputs: Record<string, string>;
  event?: { name: string; payload: unknown };
  env?: Record<string, string>;
  workspace: string;
}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'medperf-git-action-run-'));
  try {
    const eventPath = join(dir, 'event.json');
    writeFileSync(eventPath, JSON.stringify(opts.event?.payload ?? {}));
    const outputPath = join(dir, 'output');
    const summaryPath = join(dir, 'summary');
    writeFileSync(outputPath, '');
    writeFileSync(summaryPath, '');
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      GITHUB_ACTIONS: 'true',
      GITHUB_WORKSPACE: opts.workspace,
      GITHUB_EVENT_PATH: eventPath,
      GITHUB_EVENT_NAME: opts.event?.name ?? 'push',
      GITHUB_OUTPUT: outputPath,
      GITHUB_STEP_SUMMARY: summaryPath,
      GITHUB_REPOSITORY: 'org/registry',
      GITHUB_SERVER_URL: 'https://github.com',
      GITHUB_API_URL: 'http://127.0.0.1:9',
      GITHUB_SHA: '0'.repeat(40),
      ...opts.env,
    };
    for (const [k, v] of Object.entries(opts.inputs)) env[`INPUT_${k.toUpperCase()}`] = v;
    let code = 0;
    let stdout = '';
    let stderr = '';
    try {
      ({ stdout, stderr } = await execFileAsync(process.execPath, [BUNDLE], { env, cwd: opts.workspace, maxBuffer: 64 * 1024 * 1024 }));
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      code = typeof e.code === 'number' ? e.code : 1;
      stdout = e.stdout ?? '';
      stderr = e.stderr ?? '';
    }
    return {
      code,
      stdout,
      stderr,
      outputs: parseOutputs(readFileSync(outputPath, 'utf8')),
      summary: readFileSync(summaryPath, 'utf8'),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The inputs a workflow gives the `action` step, as the runner passes them (every value a string). */
export function actionInputs(workflowYaml: string, action: string, secrets: Record<string, string> = {}): Record<string, string> {
  type Step = { uses?: string; with?: Record<string, unknown> };
  const workflow = parse(workflowYaml) as { jobs: Record<string, { steps: Step[] }> };
  const step = Object.values(workflow.jobs).flatMap((j) => j.steps).find((st) => st.uses === action);
  if (!step) throw new Error(`no step uses ${action}`);
  // `${{ secrets.NAME }}` is the secret, or empty when the repository has none, as on GitHub.
  const evaluate = (v: string) => v.replace(/\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (_, name: string) => secrets[name] ?? '');
  return Object.fromEntries(Object.entries(step.with ?? {}).map(([k, v]) => [k, evaluate(String(v))]));
}

/** A pull_request_target event for PR `number` of `repo` at `sha`, opened by `author`. */
export function pullRequestTarget(repo: string, number: number, author: string, sha: string) {
  const [owner, name] = repo.split('/');
  return {
    name: 'pull_request_target',
    payload: {
      action: 'opened',
      number,
      pull_request: { number, state: 'open', user: { login: author, type: 'User' }, head: { ref: 'x', sha }, base: { ref: 'main', sha: '0'.repeat(40) } },
      repository: { full_name: repo, name, owner: { login: owner } },
      sender: { login: author, type: 'User' },
    },
  };
}

/** The validate job's check run on `sha`, as the Actions app (whose token is given) reports a finished job. */
export async function validateCheckRun(apiUrl: string, token: string, repo: string, sha: string): Promise<void> {
  const [owner, name] = repo.split('/');
  const gh = new Octokit({ auth: token, baseUrl: apiUrl });
  await gh.rest.checks.create({ owner: owner!, repo: name!, name: 'validate', head_sha: sha, status: 'completed', conclusion: 'success' });
}
