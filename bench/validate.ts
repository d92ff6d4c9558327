// Validation against its floor, in one run, on the synthetic registries of bench/_registry.ts.
// What is measured is the code `medperf-git validate` runs: the compiled modules under build/
// (`npm run bench` builds them first), not the TypeScript sources through tsx, whose transform
// wraps every function it creates to keep its name, a cost no user pays (a tenth of a full
// validation, where rules make small functions per record).
// Measured:
//   floor            read and YAML-parse every record file, in this process
//   validate-full    validateRegistry over the whole folder (ratio over the floor)
//   validate-change  validateChange of the one-result branch against main, from git, no checkout
//   signatures       what verifying every result's signature costs on its own: the canonical
//                    JSON, the Merkle proof and the Ed25519 verification of each signature (one
//                    per dataset's results, as one results pull request signs them), over
//                    records parsed outside the timing
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import jsYaml from 'js-yaml';
import { formatFinding } from '../registry/findings.ts';
import type { PersonRecord, ResultRecord } from '../registry/records.ts';
import { best, CACHE, floor, FULL, generate, listRecords, SMALL, timed } from './_registry.ts';

const BUILT = new URL('../build/registry/', import.meta.url);
if (!existsSync(new URL('validate.js', BUILT))) throw new Error('bench/validate.ts measures the compiled modules: run `npm run build` first');
const { closeTree, directoryTree, gitChangedPaths, gitTree } = (await import(new URL('trees.js', BUILT).href)) as typeof import('../registry/trees.ts');
const { validateChange, validateRegistry } = (await import(new URL('validate.js', BUILT).href)) as typeof import('../registry/validate.ts');
const { canonicalResultBytes, decodeSigningKey, verifyResultSignature } = (await import(new URL('signing.js', BUILT).href)) as typeof import('../registry/signing.ts');

/**
 * CPU seconds of signing's share of a full validation: for every result, its canonical bytes and
 * its Ed25519 verification with its data owner's key (decoded once per person, as validation
 * does). Records are parsed in chunks outside the timing, so only the signature work is counted.
 */
function signatureCost(dir: string): { results: number; signatures: number; canonical: number; verify: number } {
  const load = (p: string) => jsYaml.load(readFileSync(join(dir, p), 'utf8'), { schema: jsYaml.CORE_SCHEMA });
  const all = listRecords(dir);
  const keys = new Map(
    all.filter((p) => p.startsWith('people/')).map((p) => [p.slice('people/'.length, -'.yaml'.length), decodeSigningKey((load(p) as PersonRecord).signing_key)!]),
  );
  const results = all.filter((p) => p.includes('/results/'));
  let canonical = 0;
  let verify = 0;
  const signatures = new Set<string>();
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  for (let i = 0; i < results.length; i += 5000) {
    const chunk = results.slice(i, i + 5000).map((p) => load(p) as ResultRecord);
    let t = cpu();
    for (const r of chunk) canonicalResultBytes(r);
    for (const r of chunk) signatures.add(r.signature!.ed25519);
    canonical += cpu() - t;
    t = cpu();
    for (const r of chunk) if (!verifyResultSignature(r, keys.get(r.signature!.signed_by)!)) throw new Error('a synthetic result does not verify');
    verify += cpu() - t;
  }
  return { results: results.length, signatures: signatures.size, canonical, verify: verify - canonical };
}

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
  // Each measured three times, alternating, the best run kept; compared on CPU time, which other
  // programs on the machine do not inflate (wall times are printed too). Three, not two: on a
  // shared machine a run's CPU time still varies by a twentieth either way.
  let f = await timed(() => floor(large.dir));
  let v = await timed(() => full(large.dir));
  for (let round = 1; round < 3; round++) {
    f = best(f, await timed(() => floor(large.dir)));
    v = best(v, await timed(() => full(large.dir)));
  }
  console.log(
    `# ${large.records} records: floor ${f.cpu.toFixed(2)} s CPU (${f.wall.toFixed(2)} s wall), ` +
      `validateRegistry ${v.cpu.toFixed(2)} s CPU (${v.wall.toFixed(2)} s wall)`,
  );
  console.log(`BENCH validate-full ratio=${(v.cpu / f.cpu).toFixed(2)} target<=1.5`);
  // Verifying includes making the canonical bytes again, so its own part is the difference.
  const s = signatureCost(large.dir);
  const share = s.canonical + s.verify;
  console.log(
    `# signatures of ${s.results} results (${s.signatures} Ed25519 signatures): ${share.toFixed(2)} s CPU (${s.canonical.toFixed(2)} s canonical JSON, ` +
      `${s.verify.toFixed(2)} s Merkle proofs and ${((1e6 * s.verify) / s.signatures).toFixed(0)} µs per signature verified), ` +
      `${(share / f.cpu).toFixed(2)} of the floor on their own; ` +
      `validation without them ${((v.cpu - share) / f.cpu).toFixed(2)} of the floor`,
  );
  // Once to warm the module code, then measured.
  await change(small.dir, small.author, small.changed);
  const c10k = await change(small.dir, small.author, small.changed);
  console.log(`BENCH validate-change-10k seconds=${c10k.toFixed(3)} target<=1`);
  const c100k = await change(large.dir, large.author, large.changed);
  console.log(`BENCH validate-change-100k seconds=${c100k.toFixed(3)} target<=1`);
}
