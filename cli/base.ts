import { type BaseContext, Command, Option } from 'clipanion';
import * as t from 'typanion';
import { MedperfError } from '../registry/errors.ts';
import { stateDir } from './state.ts';
import { terminalJson, terminalText } from './terminal.ts';

/** The context every command runs in: streams and environment are injected so tests run commands in process. */
export interface MedperfContext extends BaseContext {
  cwd: string;
}

/** What to do about each filesystem failure a user can fix, and its stable exit code (sysexits' EX_IOERR, EX_NOPERM). */
const FILESYSTEM_ERRORS: Record<string, { what: string; fix: string; exitCode: number }> = {
  ENOSPC: { what: 'no space left on the device', fix: 'free some space there, or point MEDPERF_GIT_HOME at a disk with room, and run again (finished tasks are kept)', exitCode: 74 },
  EDQUOT: { what: 'the disk quota is exceeded', fix: 'free some of your quota, or point MEDPERF_GIT_HOME elsewhere, and run again', exitCode: 74 },
  EROFS: { what: 'the file system is read-only', fix: 'point MEDPERF_GIT_HOME at a writable folder', exitCode: 74 },
  EACCES: { what: 'permission denied', fix: 'give your user access to it (or to its folder), or point MEDPERF_GIT_HOME at a folder you own', exitCode: 77 },
  EPERM: { what: 'operation not permitted', fix: 'give your user access to it (or to its folder), or point MEDPERF_GIT_HOME at a folder you own', exitCode: 77 },
};

export class FilesystemError extends MedperfError {
  constructor(
    code: string,
    message: string,
    readonly exitCode: number,
  ) {
    super(code, message);
  }
}

/** A Node filesystem failure (ENOSPC, EACCES, ...) as an error that names the path and says what to do; others are left as they are. */
export function filesystemError(error: unknown, stateDir: string): FilesystemError | undefined {
  const e = error as NodeJS.ErrnoException;
  const known = e && typeof e === 'object' ? FILESYSTEM_ERRORS[e.code ?? ''] : undefined;
  if (!known) return undefined;
  const where = [e.path, (e as { dest?: string }).dest].filter(Boolean).join(' -> ') || `a file under ${stateDir}`;
  return new FilesystemError(e.code!.toLowerCase(), `cannot ${e.syscall ?? 'write'} ${where}: ${known.what} (${e.code}); ${known.fix}`, known.exitCode);
}

/** `--jobs` and the like: a whole number of at least 1. */
export const isPositiveInteger = t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]);

/**
 * For a command's `static schema`: options (by field name) of which at most one may be given,
 * refused in the user's words rather than the fields' names.
 */
export function exclusiveOptions(fields: string[], message: string) {
  return t.makeValidator<Record<string, unknown>>({
    test: (value, state) => {
      const given = fields.filter((f) => value[f] !== undefined && value[f] !== false);
      if (given.length <= 1) return true;
      state?.errors?.push(`${state.p ?? '.'}: ${message}`);
      return false;
    },
  });
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

  /**
   * Failures go to stderr with exit 1: expected ones as `error (code): message` (and, with --json, as
   * `{"error": {code, message}}` on stdout), a filesystem failure naming its path and what to do,
   * usage errors as clipanion formats them, the unexpected with their stack.
   */
  override async validateAndExecute(): Promise<number> {
    try {
      return await super.validateAndExecute();
    } catch (caught) {
      const error = filesystemError(caught, this.stateDir) ?? caught;
      if (error instanceof MedperfError && this.json) this.printJson({ error: { code: error.code, message: error.message } });
      if (error instanceof MedperfError) this.warn(`error (${error.code}): ${error.message}`);
      else {
        const unexpected = error instanceof Error ? error : new Error(String(error));
        // Clipanion prints the stack after the message's first line; both are shown escaped.
        unexpected.message = terminalText(unexpected.message, { lines: true });
        if (unexpected.stack) unexpected.stack = terminalText(unexpected.stack, { lines: true });
        this.context.stderr.write(this.cli.error(unexpected, { command: this }));
      }
      // Expected failures may carry a stable exit code of their own (130: interrupted).
      return (error as { exitCode?: number }).exitCode ?? 1;
    }
  }

  get stateDir(): string {
    return stateDir(this.context.env);
  }

  /** Prints lines for people; control characters in them are shown escaped, never obeyed (terminal.ts). */
  print(line = ''): void {
    this.context.stdout.write(terminalText(line, { lines: true }) + '\n');
  }

  warn(line: string): void {
    this.context.stderr.write(terminalText(line, { lines: true }) + '\n');
  }

  printJson(value: unknown): void {
    this.context.stdout.write(terminalJson(value) + '\n');
  }
}
