// Writes cli/commands/index.ts from the command classes (`npm run index`): each class says its
// paths, category and description once, and the index repeats them only so that the CLI can route
// and answer `--help` without loading every command. index.test.ts fails when the index is stale.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Command } from 'clipanion';

const COMMANDS = fileURLToPath(new URL('./commands/', import.meta.url));
const INDEX = fileURLToPath(new URL('./commands/index.ts', import.meta.url));
const LIST = 'export const commands: CommandEntry[] = [';

/** Every command module under cli/commands/ (not a test, not the index), as a path relative to it. */
export function commandModules(dir = COMMANDS, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((e) =>
      e.isDirectory()
        ? commandModules(`${dir}${e.name}/`, `${prefix}${e.name}/`)
        : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') && e.name !== 'index.ts'
          ? [`${prefix}${e.name}`]
          : [],
    )
    .sort();
}

const quote = (s: string) => (s.includes("'") ? JSON.stringify(s) : `'${s}'`);

/** The text of cli/commands/index.ts for the command classes as they are. */
export async function commandIndexSource(): Promise<string> {
  const entries: Array<{ key: string; text: string }> = [];
  for (const file of commandModules()) {
    const module = (await import(new URL(`./commands/${file}`, import.meta.url).href)) as Record<string, unknown>;
    for (const [name, value] of Object.entries(module)) {
      if (typeof value !== 'function' || !(value.prototype instanceof Command)) continue;
      const command = value as typeof Command;
      const paths = command.paths ?? [];
      const usage = command.usage;
      if (!paths.length || !usage?.category || !usage.description) throw new Error(`${file}: ${name} needs static paths and a usage with a category and a description`);
      entries.push({
        key: paths[0]!.join(' '),
        text: [
          '  {',
          `    paths: [${paths.map((p) => `[${p.map(quote).join(', ')}]`).join(', ')}],`,
          `    category: ${quote(usage.category)},`,
          `    description: ${quote(usage.description)},`,
          `    load: async () => (await import('./${file}')).${name},`,
          '  },',
        ].join('\n'),
      });
    }
  }
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // What comes before the list (the header, the categories, the entry type) is kept as written.
  const current = readFileSync(INDEX, 'utf8');
  const start = current.indexOf(LIST);
  if (start < 0) throw new Error(`${INDEX}: no \`${LIST}\` line to write the list after`);
  return `${current.slice(0, start + LIST.length)}\n${entries.map((e) => e.text).join('\n')}\n];\n`;
}


if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(INDEX, await commandIndexSource());
}
