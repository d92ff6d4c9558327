import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'clipanion';
import { describe, expect, it } from 'vitest';
import { capturedContext, runCli } from '../../testing/cli.ts';
import { main } from '../main.ts';
import { commandIndexSource } from '../build-command-index.ts';
import { CATEGORIES, commands } from './index.ts';

const ROOT = fileURLToPath(new URL('.', import.meta.url));
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b\[/;

/** Every module under cli/commands/ that is not a test or the index. */
function commandFiles(dir = ROOT, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? commandFiles(`${dir}${e.name}/`, `${prefix}${e.name}/`) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'index.ts' ? [`${prefix}${e.name}`] : [],
  );
}

describe('the command index', () => {
  it('is what `npm run index` writes from the command classes', async () => {
    expect(readFileSync(new URL('./index.ts', import.meta.url), 'utf8')).toBe(await commandIndexSource());
  });

  it('says for each command what its class says: paths, category and description', async () => {
    for (const entry of commands) {
      const command = await entry.load();
      expect(command.paths).toEqual(entry.paths);
      expect(command.usage?.category).toBe(entry.category);
      expect(command.usage?.description).toBe(entry.description);
      expect(CATEGORIES).toContain(entry.category);
    }
  });

  it('lists every command module, and each class once', async () => {
    const classes = await Promise.all(commands.map((entry) => entry.load()));
    expect(new Set(classes).size).toBe(commands.length);
    for (const file of commandFiles()) {
      const exported = Object.values(await import(/* @vite-ignore */ new URL(file, import.meta.url).href)).filter((v): v is typeof Command => typeof v === 'function' && v.prototype instanceof Command);
      expect(exported.length, file).toBeGreaterThan(0);
      for (const command of exported) expect(classes, `${file}: ${command.name} is not in the command index`).toContain(command);
    }
  });
});

describe('help', () => {
  const run = (argv: string[], env: NodeJS.ProcessEnv = {}) => runCli(argv, { env, cwd: '/' });

  it('`<group> --help` and `<group>` list the group\'s commands and exit 0, for every group', async () => {
    const groups = [...new Set(commands.flatMap((e) => e.paths.filter((p) => p.length > 1).map((p) => p[0]!)))];
    expect(groups).toEqual(expect.arrayContaining(['dataset', 'mlcube', 'benchmark', 'association', 'result', 'pr', 'registry']));
    for (const group of groups) {
      for (const argv of [[group, '--help'], [group, '-h'], [group]]) {
        const r = await run(argv);
        expect(r.code, argv.join(' ')).toBe(0);
        expect(r.err).toBe('');
        const listed = [...r.out.matchAll(/^ {2}medperf-git (.+)$/gm)].map((m) => m[1]);
        const expected = commands.filter((e) => e.paths[0]![0] === group && e.paths[0]!.length > 1).map((e) => e.paths[0]!.join(' ')).sort();
        expect(listed.sort(), argv.join(' ')).toEqual(expected);
      }
    }
  });

  it('`--help` lists every command under its category, in the order of MedPerf\'s roles', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(0);
    for (const entry of commands) expect(r.out).toContain(`  medperf-git ${entry.paths[0]!.join(' ')}\n    ${entry.description}\n`);
    const sections = [...r.out.matchAll(/^━━━ (.+?) ━+$/gm)].map((m) => m[1]);
    expect(sections.slice(1)).toEqual([...CATEGORIES]);
    expect(r.out).not.toMatch(/General commands/);
  });

  it("a command's own --help shows its options", async () => {
    const r = await run(['dataset', 'submit', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('--data-path');
  });

  it('prints no colour codes when the output is not a terminal, or NO_COLOR is set', async () => {
    const onTerminal = async (argv: string[], env: NodeJS.ProcessEnv) => {
      const captured = capturedContext({ env });
      Object.assign(captured.context.stdout, { isTTY: true });
      const code = await main(argv, captured.context);
      return { code, out: captured.out() };
    };
    for (const argv of [['--help'], ['dataset', '--help'], ['dataset', 'submit', '--help']]) {
      expect((await run(argv)).out, argv.join(' ')).not.toMatch(ESCAPE);
      expect((await onTerminal(argv, { NO_COLOR: '1' })).out, argv.join(' ')).not.toMatch(ESCAPE);
      expect((await onTerminal(argv, {})).out, argv.join(' ')).toMatch(ESCAPE);
    }
  });

  it('a mistyped command is refused with suggestions', async () => {
    const r = await run(['datset', 'ls']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('Command not found; did you mean');
    expect(r.out).toContain('medperf-git dataset ls');
  });
});
