// Validation against its floor, in one run, on the synthetic registries of bench/_registry.ts.
// Measured:
//   floor            read and YAML-parse every record file, in this process
//   validate-full    validateRegistry over the whole folder (ratio over the floor)
//   validate-change  validateChange of the one-result branch against main, from git, no checkout
import { mkdirSync } from 'node:fs';
import { closeTree, directoryTree, gitChangedPaths, gitTree } from '../registry/trees.ts';
import { validateChange, validateRegistry } from '../registry/validate.ts';
import { formatFinding } from '../registry/findings.ts';
import { best, CACHE, floor, FULL, generate, SMALL, timed } from './_registry.ts';

async function full(dir: string): Promise<void> {
  const findings = await validateRegistry(directoryTree(dir));
  if (findings.length) throw new Error(`the synthetic registry should be valid:\n${findings.slice(0, 10).map(formatFinding).join('\n')}`);
}

/** Wall time: it includes the git processes the change spawns. */
async function change(dir: string, author: string, expected: string): Promise<number> {
  const start = performance.now();
  const base = gitTree(dir, 'main');
  const head = gitTree(dir, 'change');
  try {
    const changed = await gitChangedPaths(dir, 'main', 'change');
    if (changed.join() !== expected) throw new Error(`expected the change to touch ${expected}, got ${changed.join(', ')}`);
    const findings = await validateChange({ base, head, changed, author });
    if (findings.length) throw new Error(`the one-result change should be valid:\n${findings.map(formatFinding).join('\n')}`);
  } finally {
    await Promise.all([closeTree(base), closeTree(head)]);
  }
  return (performance.now() - start) / 1000;
}

export async function main(): Promise<void> {
  mkdirSync(CACHE, { recursive: true });
  const small = generate('registry-10k', SMALL);
  const large = generate('registry-100k', FULL);
  // The change branch is checked out; the full validation reads the folder as it is.
  // Each measured twice, alternating, the better run kept; compared on CPU time, which other
  // programs on the machine do not inflate (wall times are printed too).
  let f = await timed(() => floor(large.dir));
  let v = await timed(() => full(large.dir));
  f = best(f, await timed(() => floor(large.dir)));
  v = best(v, await timed(() => full(large.dir)));
  console.log(
    `# ${large.records} records: floor ${f.cpu.toFixed(2)} s CPU (${f.wall.toFixed(2)} s wall), ` +
      `validateRegistry ${v.cpu.toFixed(2)} s CPU (${v.wall.toFixed(2)} s wall)`,
  );
  console.log(`BENCH validate-full ratio=${(v.cpu / f.cpu).toFixed(2)} target<=1.5`);
  // Once to warm the module code, then measured.
  await change(small.dir, small.author, small.changed);
  const c10k = await change(small.dir, small.author, small.changed);
  console.log(`BENCH validate-change-10k seconds=${c10k.toFixed(3)} target<=1`);
  const c100k = await change(large.dir, large.author, large.changed);
  console.log(`BENCH validate-change-100k seconds=${c100k.toFixed(3)} target<=1`);
}
