// Every input and environment variable the Action reads, typed, in one place.
import * as core from '@actions/core';
import { readFileSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { gitSync } from '../registry/forge/git.ts';
import { siteKeysOf } from '../registry/identity.ts';

export const MODES = ['validate', 'gate', 'comment', 'site'] as const;
export type Mode = (typeof MODES)[number];

/** The parts of GitHub's event payloads the Action reads. */
export interface EventPayload {
  pull_request?: {
    number: number;
    user: { login: string };
    head: { sha: string };
    base: { sha: string; ref: string };
  };
  workflow_run?: {
    id: number;
    head_sha: string;
    head_branch?: string | null;
    head_repository?: { owner?: { login?: string } } | null;
    pull_requests?: Array<{ number: number }>;
    conclusion?: string | null;
  };
}

export interface Settings {
  mode: Mode;
  token: string;
  /** The registry folder: the PR's repository (validate) or the base branch's checkout (gate, comment, site). */
  path: string;
  /** Where site mode writes the site. */
  out: string;
  /** Where validate mode writes its JSON report. */
  report: string;
  autoMerge: boolean;
  /** The workflow file the gate dispatches after a merge it made (its push starts no workflow). */
  pagesWorkflow: string;
  /** The site's age identity (a repository secret), for gate and site modes only; '' when not given. */
  /** The site's age identities: one, or the new and the old while a rotation is under way. */
  siteKeys: string[];
  repo: { owner: string; repo: string };
  apiUrl: string;
  serverUrl: string;
  sha: string;
  eventName: string;
  event: EventPayload;
  /** Where the registry sits in its repository: '' at the top, else a folder ending in '/'. */
  prefix: string;
  /** A registry path as the repository's path, for annotations. */
  pathInRepo(path: string): string;
}

/** The registry folder's place in its git repository (`git rev-parse --show-prefix`); '' outside git. */
function registryPrefix(path: string): string {
  try {
    return gitSync(['rev-parse', '--show-prefix'], { cwd: path, userConfig: true }).stdout.toString('utf8').trim();
  } catch {
    return '';
  }
}

export function readSettings(env: NodeJS.ProcessEnv = process.env): Settings {
  const mode = core.getInput('mode', { required: true }) as Mode;
  if (!MODES.includes(mode)) throw new Error(`input mode must be one of ${MODES.join(', ')}, not "${mode}"`);
  const workspace = env.GITHUB_WORKSPACE ?? process.cwd();
  const at = (p: string) => (isAbsolute(p) ? p : resolve(workspace, p));
  const path = at(core.getInput('path') || '.');
  const [owner, repo] = (env.GITHUB_REPOSITORY ?? '/').split('/');
  const eventPath = env.GITHUB_EVENT_PATH;
  const token = core.getInput('token');
  if (token) core.setSecret(token);
  // The site key is a secret: masked before anything else happens, and read by the modes that
  // open committee-only results (gate checks them, site publishes what the policy allows) only.
  // While a rotated site key replaces the old one, the secret holds both, one per line (as an age
  // identity file does): results still sealed to the old key open until they are re-encrypted.
  const siteKeyInput = core.getInput('site-key').trim();
  if (siteKeyInput) core.setSecret(siteKeyInput);
  for (const line of siteKeyInput.split(/\r?\n/)) if (line.trim()) core.setSecret(line.trim());
  const siteKeys = siteKeysOf(siteKeyInput);
  if (siteKeyInput && mode !== 'gate' && mode !== 'site') throw new Error(`${mode} mode takes no site-key: give the site key to the gate and site modes only`);
  if (!siteKeys) {
    throw new Error('input site-key is not an age identity (AGE-SECRET-KEY-1..., one per line): set the repository secret to the site key `medperf-git site key` made');
  }
  if (mode !== 'validate' && mode !== 'site' && !token) throw new Error(`${mode} mode needs the token input`);
  return {
    mode,
    token,
    path,
    out: at(core.getInput('out') || '_site'),
    report: at(core.getInput('report') || 'medperf-git-report.json'),
    autoMerge: /^(true|True|TRUE)$/.test(core.getInput('auto-merge')),
    pagesWorkflow: core.getInput('pages-workflow') || 'pages.yml',
    siteKeys,
    repo: { owner: owner ?? '', repo: repo ?? '' },
    apiUrl: env.GITHUB_API_URL ?? 'https://api.github.com',
    serverUrl: env.GITHUB_SERVER_URL ?? 'https://github.com',
    sha: env.GITHUB_SHA ?? '',
    eventName: env.GITHUB_EVENT_NAME ?? '',
    event: eventPath ? (JSON.parse(readFileSync(eventPath, 'utf8')) as EventPayload) : {},
    prefix: registryPrefix(path),
    pathInRepo: (p) => relative(workspace, resolve(path, p)).split('\\').join('/'),
  };
}
