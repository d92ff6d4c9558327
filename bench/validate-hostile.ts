// A hostile record is judged in well under a second: a change adding a data owner's result of just
// under the 1 MiB limit, made of what costs a reader most: comments, unknown fields, anchors and
// aliases, a flat list; and records just under the entry limit (registry/yaml-fast.ts MAX_ENTRIES),
// which are read whole, with thousands of findings. Each is validated as a PR would be (against the example registry, in
// memory) and as part of the whole registry; the worst CPU time of all is the number.
//   validate-hostile   seconds of the worst file, target <= 0.5
import { EXAMPLE_PATHS as P, exampleFiles } from '../testing/example-registry.ts';
import { hostileResults } from '../testing/hostile-records.ts';
import { memoryTree } from '../registry/trees.ts';
import { validateChange, validateRegistry } from '../registry/validate.ts';
import { best, timed } from './_registry.ts';

export async function main(): Promise<void> {
  const files = exampleFiles();
  const base = memoryTree(files);
  let worst = { what: '', how: '', cpu: 0 };
  for (const [what, text] of Object.entries(hostileResults())) {
    const head = memoryTree({ ...files, [P.result]: text });
    for (const [how, run] of [
      ['change', () => validateChange({ base, head, changed: [P.result], author: 'data-owner' })],
      ['whole registry', () => validateRegistry(head)],
    ] as const) {
      await run(); // warm
      const t = best(await timed(run), await timed(run));
      console.log(`# ${what} (${Buffer.byteLength(text)} bytes), ${how}: ${t.cpu.toFixed(3)} s CPU (${t.wall.toFixed(3)} s wall)`);
      if (t.cpu > worst.cpu) worst = { what, how, cpu: t.cpu };
    }
  }
  console.log(`# worst: ${worst.what}, ${worst.how}`);
  console.log(`BENCH validate-hostile seconds=${worst.cpu.toFixed(3)} target<=0.5`);
}
