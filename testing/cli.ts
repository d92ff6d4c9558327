// Runs the CLI in process, as a user would, capturing what it prints.
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { MedperfContext } from '../cli/base.ts';
import { main } from '../cli/main.ts';

export interface CapturedContextOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Answers typed at prompts: given, the context is interactive and stdin holds them. */
  input?: string;
  /** Whether prompts may be shown; default: when there is input. */
  interactive?: boolean;
}

/** A command context whose stdin is `input` (never the test's own) and whose output is kept. */
export function capturedContext(options: CapturedContextOptions = {}): { context: MedperfContext; out: () => string; err: () => string } {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += b));
  stderr.on('data', (b) => (err += b));
  if (options.input !== undefined) stdin.end(options.input);
  const interactive = options.interactive ?? (options.input !== undefined ? true : undefined);
  const context = {
    stdin,
    stdout,
    stderr,
    env: options.env ?? {},
    cwd: options.cwd ?? '/',
    colorDepth: 1,
    ...(interactive !== undefined ? { interactive } : {}),
  } as MedperfContext;
  return { context, out: () => out, err: () => err };
}

export async function runCli(
  argv: string[],
  options: CapturedContextOptions & { env: NodeJS.ProcessEnv; cwd: string; extras?: Record<string, unknown> },
): Promise<{ code: number; out: string; err: string }> {
  const captured = capturedContext(options);
  const code = await main(argv, { ...captured.context, ...options.extras } as Parameters<typeof main>[1]);
  return { code, out: captured.out(), err: captured.err() };
}

/**
 * The CLI against the GitHub stand-in's mlcommons/registry, as the user whose token is given (none:
 * signed out), with the GitHub forge's retries and pacing shortened for tests.
 */
export function runCliOnGitHub(
  argv: string[],
  options: { standin: { apiUrl: string; url: string }; home: string; stateDir?: string; token?: string; env?: Record<string, string> },
): Promise<{ code: number; out: string; err: string }> {
  return runCli(argv, {
    env: {
      MEDPERF_GIT_HOME: options.stateDir ?? join(options.home, 'state'),
      MEDPERF_GIT_REGISTRY: 'mlcommons/registry',
      GITHUB_API_URL: options.standin.apiUrl,
      GITHUB_SERVER_URL: options.standin.url,
      HOME: options.home,
      PATH: process.env.PATH ?? '',
      ...(options.token ? { GITHUB_TOKEN: options.token } : {}),
      ...options.env,
    },
    cwd: options.home,
    extras: { forgeGithub: { retryUnitMs: 5, writeIntervalMs: 0 } },
  });
}
