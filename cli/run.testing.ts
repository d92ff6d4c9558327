// Runs the CLI in process, as a user would, capturing what it prints.
import { PassThrough } from 'node:stream';
import { main } from './main.ts';

export async function runCli(
  argv: string[],
  options: { env: Record<string, string>; cwd: string; extras?: Record<string, unknown> },
): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b) => (out += b));
  stderr.on('data', (b) => (err += b));
  const code = await main(argv, { stdout, stderr, env: options.env, cwd: options.cwd, ...options.extras } as Parameters<typeof main>[1]);
  return { code, out, err };
}
