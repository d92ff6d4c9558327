import { type BaseContext, Command, Option } from 'clipanion';
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
