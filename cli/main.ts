// The CLI's entry: routes a command line through the command index, loading only the command that
// runs, and answers `--help`, `<group> --help` and `--version` without loading any command.
import { Builtins, Cli, Command, type CommandClass } from 'clipanion';
import type { MedperfContext } from './base.ts';
import { CATEGORIES, commands, type CommandEntry } from './commands/index.ts';
import { VERSION } from './version.ts';

const HELP = new Set(['-h', '--help']);
const OPTIONS = { binaryLabel: 'medperf-git', binaryName: 'medperf-git', binaryVersion: VERSION } as const;

/** Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org). */
export function colorsWanted(context: Pick<MedperfContext, 'stdout' | 'env'>): boolean {
  if (context.env.NO_COLOR) return false;
  return (context.stdout as { isTTY?: boolean }).isTTY === true;
}

/** The entry whose path is the longest prefix of the command line. */
function routeOf(argv: string[]): CommandEntry | undefined {
  let best: { entry: CommandEntry; length: number } | undefined;
  for (const entry of commands) {
    for (const path of entry.paths) {
      if (path.length > argv.length || !path.every((word, i) => argv[i] === word)) continue;
      if (!best || path.length > best.length) best = { entry, length: path.length };
    }
  }
  return best?.entry;
}

/**
 * The commands a help listing shows: all of them for `medperf-git`, `-h` or `--help`; a group's
 * for `medperf-git <group>` and `<group> --help` (as MedPerf's `medperf dataset --help`).
 * Undefined when the command line is for one command (its own `--help` included).
 */
function listingOf(argv: string[]): { group: string[]; entries: CommandEntry[] } | undefined {
  const group = argv.length && HELP.has(argv[argv.length - 1]!) ? argv.slice(0, -1) : argv;
  if (group.some((word) => word.startsWith('-')) || (group.length && routeOf(group))) return undefined;
  const entries = commands.filter((entry) => entry.paths.some((path) => path.length > group.length && group.every((word, i) => path[i] === word)));
  return entries.length ? { group, entries } : undefined;
}

const LINE = 80;
const plain = { header: (s: string) => `━━━ ${s} ${'━'.repeat(Math.max(0, LINE - s.length - 5))}`, bold: (s: string) => s, code: (s: string) => s };
const rich = {
  header: (s: string) => `\x1b[1m${plain.header(s)}\x1b[0m`,
  bold: (s: string) => `\x1b[1m${s}\x1b[22m`,
  code: (s: string) => `\x1b[36m${s}\x1b[39m`,
};

/** The help listing, from the index alone: sections in the order of MedPerf's roles, as clipanion lays them out. */
function listing({ group, entries }: { group: string[]; entries: CommandEntry[] }, colored: boolean): string {
  const f = colored ? rich : plain;
  const name = ['medperf-git', ...group].join(' ');
  let out = `${f.header(`${name} - ${VERSION}`)}\n\n  ${f.bold('$ ')}${name} <command>\n`;
  for (const category of CATEGORIES) {
    const section = entries.filter((entry) => entry.category === category).map((entry) => ({ path: entry.paths[0]!.join(' '), entry }));
    if (!section.length) continue;
    out += `\n${f.header(category)}\n`;
    for (const { path, entry } of section.sort((a, b) => a.path.localeCompare(b.path))) {
      out += `\n  ${f.bold(`medperf-git ${path}`)}\n    ${entry.description.replace(/`[^`]+`/g, f.code)}\n`;
    }
  }
  return `${out}\nEach command's own ${f.code('--help')} (${f.code(`${name} <command> --help`)}) shows its options and examples.\n`;
}

/**
 * The CLI: before clipanion parses a command line, the one command it names is loaded and
 * registered (every command when the line names none, so clipanion can suggest one). Commands that
 * re-enter the CLI (`this.cli.run`, the tutorial) go through the same routing.
 */
export class MedperfCli extends Cli<MedperfContext> {
  private readonly registered = new Set<CommandEntry>();

  constructor(colored: boolean) {
    super({ ...OPTIONS, enableColors: colored });
    this.register(Builtins.HelpCommand);
    this.register(Builtins.VersionCommand);
  }

  private async registerEntries(entries: CommandEntry[]): Promise<void> {
    const fresh = entries.filter((entry) => !this.registered.has(entry));
    const classes = await Promise.all(fresh.map((entry) => entry.load()));
    fresh.forEach((entry, i) => {
      this.registered.add(entry);
      this.register(classes[i]!);
    });
  }

  override async run(input: Command<MedperfContext> | string[], context: Partial<MedperfContext>): Promise<number> {
    const full = context as MedperfContext;
    if (Array.isArray(input)) {
      const help = listingOf(input);
      if (help) {
        full.stdout.write(listing(help, this.enableColors ?? false));
        return 0;
      }
      const entry = routeOf(input);
      await this.registerEntries(entry ? [entry] : input.length === 1 && (HELP.has(input[0]!) || input[0] === '-v' || input[0] === '--version') ? [] : commands);
    }
    return super.run(input, full);
  }
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
  return new MedperfCli(colorsWanted(full)).run(argv, full);
}
