// Which forge a registry names (`owner/repo` on GitHub, GitHub Enterprise Server, or a local
// folder), and opening it. Choosing the registry from a command's options, the environment and the
// profile is the CLI's (cli/forge.ts).
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { MedperfError } from '../errors.ts';
import type { MergeChecks } from './checks.ts';
import type { Forge } from './forge.ts';

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

/** A registry written in a way that names none. */
export class RegistrySpecError extends MedperfError {
  constructor(message: string) {
    super('bad-registry', message);
  }
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
    if (!m) throw new RegistrySpecError(`not a GitHub repository: ${spec} (expected github:owner/repo)`);
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

export interface OpenRegistryOptions {
  env: NodeJS.ProcessEnv;
  stateDir: string;
  /** The login to act as on a local forge ('' for none: reading works, writing says how to choose one). */
  login?: string;
  /** Where the login came from, for messages. */
  loginSource?: string;
  /** For tests of the local forge: validation and gate to run on merge. */
  checks?: MergeChecks;
  /** For tests of the GitHub forge: shorter back-off. */
  github?: { retryUnitMs?: number; retries?: number; writeIntervalMs?: number };
}

/** The forge of a registry. On GitHub the acting login is the token's; on a local forge, `login`. */
export async function openRegistry(spec: RegistrySpec, options: OpenRegistryOptions): Promise<Forge> {
  if (spec.kind === 'local') {
    const { LocalForge } = await import('./local.ts');
    return LocalForge.open({ root: spec.root, login: options.login ?? '', loginSource: options.loginSource, checks: options.checks });
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
