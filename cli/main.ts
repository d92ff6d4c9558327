import { Builtins, Cli } from 'clipanion';
import type { MedperfContext } from './base.ts';
import { commands } from './commands/index.ts';
import { VERSION } from './version.ts';

export function makeCli(): Cli<MedperfContext> {
  const cli = new Cli<MedperfContext>({
    binaryLabel: 'medperf-git',
    binaryName: 'medperf-git',
    binaryVersion: VERSION,
  });
  cli.register(Builtins.HelpCommand);
  cli.register(Builtins.VersionCommand);
  for (const command of commands) cli.register(command);
  return cli;
}

/** Runs the CLI in process with the given streams and environment; resolves to the exit code. */
export async function main(argv: string[], context: Partial<MedperfContext> = {}): Promise<number> {
  const full: MedperfContext = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
    colorDepth: process.stdout.isTTY ? 8 : 1,
    ...context,
  };
  // Expected failures (MedperfError) are printed by BaseCommand without a stack; clipanion
  // prints usage errors and help.
  return makeCli().run(argv, full);
}
