// The profile (`medperf-git registry use`, in <state>/profile.yaml) and the registry and login a
// command works with: `--registry`, then $MEDPERF_GIT_REGISTRY, then the profile, then the local
// forge under the state directory; `--as`, then $MEDPERF_GIT_LOGIN, then the profile.
import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { UsageError } from 'clipanion';
import { dump, load } from 'js-yaml';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../registry/errors.ts';
import type { Forge } from '../registry/forge/forge.ts';
import { openRegistry, type OpenRegistryOptions, parseRegistry as parseRegistrySpec, type RegistrySpec, RegistrySpecError } from '../registry/forge/select.ts';
import { LOGIN } from '../registry/layout.ts';

export const REGISTRY_ENV = 'MEDPERF_GIT_REGISTRY';
export const LOGIN_ENV = 'MEDPERF_GIT_LOGIN';

/** What `medperf-git registry use` remembers, in <state>/profile.yaml. */
export interface Profile {
  /** `owner/repo` on GitHub, or the folder of a local forge. */
  registry?: string;
  /** The login to act as on the local forge. */
  login?: string;
}

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

/** A registry as the user wrote it (see registry/forge/select.ts); one that names none is a usage error. */
export function parseRegistry(spec: string, env: NodeJS.ProcessEnv, cwd: string): RegistrySpec {
  try {
    return parseRegistrySpec(spec, env, cwd);
  } catch (error) {
    if (error instanceof RegistrySpecError) throw new UsageError(error.message);
    throw error;
  }
}

export interface OpenForgeOptions extends Pick<OpenRegistryOptions, 'env' | 'stateDir' | 'checks' | 'github'> {
  /** `--registry`, when given. */
  registry?: string;
  /** `--as`, when given (local forge only). */
  as?: string;
  cwd?: string;
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
  const { env, stateDir, checks, github } = options;
  if (spec.kind === 'local') {
    const who = await resolveLogin(options);
    if (who && !new RegExp(`^${LOGIN}$`).test(who.login)) {
      throw new UsageError(`not a login: ${JSON.stringify(who.login)} (from ${who.source}); logins are GitHub-style, like data-owner or alice`);
    }
    return openRegistry(spec, { env, stateDir, checks, login: who?.login ?? '', loginSource: who?.source });
  }
  if (options.as) {
    throw new UsageError(`--as chooses who acts on a local registry; on GitHub (${spec.owner}/${spec.repo}) you act as the user of your token`);
  }
  return openRegistry(spec, { env, stateDir, github });
}
