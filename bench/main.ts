// `npm run bench -- <name>...`: runs bench/<name>.ts (all of them when none is named). Each
// benchmark measures its floor in the same run and prints `BENCH <name> ratio=<x> target<=<y>`.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && f !== 'main.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const wanted = process.argv.slice(2);
for (const name of wanted) {
  if (!available.includes(name)) {
    console.error(`unknown benchmark "${name}"; available: ${available.join(', ')}`);
    process.exit(2);
  }
}
for (const name of wanted.length ? wanted : available) {
  console.log(`# bench ${name}`);
  const mod = (await import(`./${name}.ts`)) as { main: () => Promise<void> };
  await mod.main();
}
