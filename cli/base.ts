import { type BaseContext, Command, Option } from 'clipanion';
import { MedperfError } from '../registry/errors.ts';
import { stateDir } from './state.ts';

/** The context every command runs in: streams and environment are injected so tests run commands in process. */
export interface MedperfContext extends BaseContext {
  cwd: string;
}

/** Options every command shares. */
export abstract class BaseCommand extends Command<MedperfContext> {
  json = Option.Boolean('--json', false, { description: 'Print machine-readable JSON (JSON lines for lists)' });
  yes = Option.Boolean('--yes,-y', false, { description: 'Answer yes to every confirmation (for scripts)' });
  registry = Option.String('--registry', {
    description: 'The registry: owner/repo on GitHub, or a local forge folder (default: the profile, then $MEDPERF_GIT_REGISTRY, then the local forge)',
  });
  as = Option.String('--as', {
    description: 'On the local forge, the login you act as (default: $MEDPERF_GIT_LOGIN, then the profile)',
  });

  /** Failures go to stderr with exit 1: expected ones as `error (code): message`, usage errors as clipanion formats them, the unexpected with their stack. */
  override async validateAndExecute(): Promise<number> {
    try {
      return await super.validateAndExecute();
    } catch (error) {
      if (error instanceof MedperfError) this.context.stderr.write(`error (${error.code}): ${error.message}\n`);
      else this.context.stderr.write(this.cli.error(error instanceof Error ? error : new Error(String(error)), { command: this }));
      // Expected failures may carry a stable exit code of their own (130: interrupted).
      return (error as { exitCode?: number }).exitCode ?? 1;
    }
  }

  get stateDir(): string {
    return stateDir(this.context.env);
  }

  print(line = ''): void {
    this.context.stdout.write(line + '\n');
  }

  warn(line: string): void {
    this.context.stderr.write(line + '\n');
  }

  printJson(value: unknown): void {
    this.context.stdout.write(JSON.stringify(value) + '\n');
  }
}
