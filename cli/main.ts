import { Builtins, Cli } from 'clipanion';
import { MedperfError } from '../registry/errors.ts';
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

/** Runs the CLI; expected failures print their message, the unexpected their stack. */
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
  const cli = makeCli();
  try {
    const command = cli.process(argv, full);
    return await command.validateAndExecute();
  } catch (error) {
    if (error instanceof MedperfError) {
      full.stderr.write(`error (${error.code}): ${error.message}\n`);
      return 1;
    }
    // Clipanion's usage errors come back formatted by cli.error.
    full.stderr.write(cli.error(error));
    return 1;
  }
}
