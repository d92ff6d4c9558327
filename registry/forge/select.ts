// Which registry a command works on, and as whom: `--registry`, then $MEDPERF_GIT_REGISTRY, then
// the profile (`medperf-git registry use`), then the local forge under the state directory.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from 'clipanion';
import { dump, load } from 'js-yaml';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../errors.ts';
import { LOGIN } from '../layout.ts';
import type { MergeChecks } from './checks.ts';
import type { Forge } from './forge.ts';

export const REGISTRY_ENV = 'MEDPERF_GIT_REGISTRY';
export const LOGIN_ENV = 'MEDPERF_GIT_LOGIN';

/** What `medperf-git registry use` remembers, in <state>/profile.yaml. */
export interface Profile {
  /** `owner/repo` on GitHub, or the folder of a local forge. */
  registry?: string;
  /** The login to act as on the local forge. */
  login?: string;
}

export type RegistrySpec =
  | { kind: 'local'; root: string }
  | {
      kind: 'github';
      owner: string;
      repo: string;
      /** REST base URL: https://api.github.com, https://HOST/api/v3 on GHES, or a test server. */
      apiUrl: string;
      /** Where git clones from: https://github.com, https://HOST on GHES. */
      serverUrl: string;
    };

export function profilePath(stateDir: string): string {
  return join(stateDir, 'profile.yaml');
}

export async function readProfile(stateDir: string): Promise<Profile> {
  const file = profilePath(stateDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  const data = load(text) as unknown;
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) throw new MedperfError('bad-profile', `${file}: expected a mapping`);
  const profile = data as Record<string, unknown>;
  for (const key of ['registry', 'login'] as const) {
    if (profile[key] !== undefined && typeof profile[key] !== 'string') {
      throw new MedperfError('bad-profile', `${file}: ${key} must be a string`);
    }
  }
  return { registry: profile.registry as string | undefined, login: profile.login as string | undefined };
}

export async function writeProfile(stateDir: string, profile: Profile): Promise<void> {
  const file = profilePath(stateDir);
  await mkdir(dirname(file), { recursive: true });
  const clean = Object.fromEntries(Object.entries(profile).filter(([, v]) => v !== undefined));
  await writeFileAtomic(file, dump(clean));
}

const REPO = /^([A-Za-z0-9](?:[A-Za-z0-9-]{0,38}))\/([A-Za-z0-9._-]{1,100})$/;

/**
 * Reads a registry as the user writes it: `owner/repo` (GitHub), `https://HOST/owner/repo`
 * (GitHub Enterprise Server), `github:owner/repo`, or a folder (`./forge`, `/srv/registry`,
 * `local:NAME`). A bare `owner/repo` that exists as a folder is the folder.
 */
export function parseRegistry(spec: string, env: NodeJS.ProcessEnv, cwd: string): RegistrySpec {
  const apiUrl = (env.GITHUB_API_URL || 'https://api.github.com').replace(/\/+$/, '');
  const serverUrl = (env.GITHUB_SERVER_URL || 'https://github.com').replace(/\/+$/, '');
  if (spec.startsWith('local:')) return { kind: 'local', root: resolve(cwd, expandHome(spec.slice(6))) };
  if (spec.startsWith('github:')) {
    const m = REPO.exec(spec.slice(7));
    if (!m) throw new UsageError(`not a GitHub repository: ${spec} (expected github:owner/repo)`);
    return { kind: 'github', owner: m[1]!, repo: m[2]!, apiUrl, serverUrl };
  }
  const url = /^https?:\/\/([^/]+)\/([^/]+)\/([^/]+?)(?:\.git)?\/?$/.exec(spec);
  if (url) {
    const host = url[1]!;
    const origin = spec.slice(0, spec.indexOf(host) + host.length);
    const isDotCom = host === 'github.com';
    return {
      kind: 'github',
      owner: url[2]!,
      repo: url[3]!,
      apiUrl: isDotCom ? 'https://api.github.com' : origin === serverUrl ? apiUrl : `${origin}/api/v3`,
      serverUrl: origin,
    };
  }
  const m = REPO.exec(spec);
  if (m && !existsSync(resolve(cwd, spec))) return { kind: 'github', owner: m[1]!, repo: m[2]!, apiUrl, serverUrl };
  return { kind: 'local', root: resolve(cwd, expandHome(spec)) };
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? join(homedir(), p.slice(1)) : p;
}

export interface OpenForgeOptions {
  /** `--registry`, when given. */
  registry?: string;
  /** `--as`, when given (local forge only). */
  as?: string;
  env: NodeJS.ProcessEnv;
  stateDir: string;
  cwd?: string;
  /** For tests of the local forge: validation and gate to run on merge. */
  checks?: MergeChecks;
  /** For tests of the GitHub forge: shorter back-off. */
  github?: { retryUnitMs?: number; retries?: number; writeIntervalMs?: number };
}

/** The registry a command works on, resolved from its options, the environment and the profile. */
export async function resolveRegistry(options: OpenForgeOptions): Promise<{ spec: RegistrySpec; source: string }> {
  const cwd = options.cwd ?? process.cwd();
  if (options.registry) return { spec: parseRegistry(options.registry, options.env, cwd), source: '--registry' };
  if (options.env[REGISTRY_ENV]) return { spec: parseRegistry(options.env[REGISTRY_ENV]!, options.env, cwd), source: `$${REGISTRY_ENV}` };
  const profile = await readProfile(options.stateDir);
  if (profile.registry) return { spec: parseRegistry(profile.registry, options.env, cwd), source: 'profile' };
  return { spec: { kind: 'local', root: join(options.stateDir, 'forge') }, source: 'default' };
}

/** The local login and where it came from: `--as`, then $MEDPERF_GIT_LOGIN, then the profile. */
export async function resolveLogin(options: OpenForgeOptions): Promise<{ login: string; source: string } | undefined> {
  if (options.as) return { login: options.as, source: '--as' };
  if (options.env[LOGIN_ENV]) return { login: options.env[LOGIN_ENV]!, source: `$${LOGIN_ENV}` };
  const login = (await readProfile(options.stateDir)).login;
  return login ? { login, source: 'profile' } : undefined;
}

/**
 * The forge every command works through. On GitHub the acting login is the token's; on the local
 * forge it is `--as`, $MEDPERF_GIT_LOGIN or the profile's (empty when none is set: reading works,
 * writing says how to choose one).
 */
export async function openForge(options: OpenForgeOptions): Promise<Forge> {
  const { spec } = await resolveRegistry(options);
  if (spec.kind === 'local') {
    const { LocalForge } = await import('./local.ts');
    const who = await resolveLogin(options);
    if (who && !new RegExp(`^${LOGIN}$`).test(who.login)) {
      throw new UsageError(`not a login: ${JSON.stringify(who.login)} (from ${who.source}); logins are GitHub-style, like data-owner or alice`);
    }
    return LocalForge.open({ root: spec.root, login: who?.login ?? '', loginSource: who?.source, checks: options.checks });
  }
  if (options.as) {
    throw new UsageError(`--as chooses who acts on a local registry; on GitHub (${spec.owner}/${spec.repo}) you act as the user of your token`);
  }
  const { GitHubForge } = await import('./github.ts');
  return GitHubForge.open({
    owner: spec.owner,
    repo: spec.repo,
    apiUrl: spec.apiUrl,
    serverUrl: spec.serverUrl,
    env: options.env,
    clonesDir: join(options.stateDir, 'clones'),
    ...options.github,
  });
}
