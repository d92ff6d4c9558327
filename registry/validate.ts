// Validation as the Action runs it. A whole registry: every file is loaded (yaml, schema, layout)
// and every rule sees every record. A change: only the changed paths are given to the rules, and
// the rules read what those records reference, so the work follows the change, not the registry.
import { capFindings, sortFindings, type Finding } from './findings.ts';
import { createView } from './load.ts';
import { rules } from './rules/index.ts';
import { changedPaths } from './trees.ts';
import type { FileTree, RuleContext } from './view.ts';

/** Drops findings reported twice (same place, rule and message). */
function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.path}\0${f.line}\0${f.column}\0${f.rule}\0${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

async function run(ctx: RuleContext): Promise<Finding[]> {
  const out: Finding[] = [];
  for (const rule of rules) out.push(...(await rule.check(ctx)));
  return capFindings(sortFindings(dedupe(out)));
}

/**
 * Paths per batch in a full validation. Small: a batch's records are released as soon as every
 * rule has seen them, so they mostly die young, before the garbage collector has to copy them
 * (at 2,000 paths a batch, that copying was a tenth of a full validation's time).
 */
const BATCH = 64;

/**
 * The findings of some paths of a tree, every rule over every path. The rules see the paths in
 * batches; after each batch its results are dropped from the view's cache (nothing references a
 * result), so memory stays flat however many results the registry holds. Every rule judges each
 * path on its own (looking up what it references), so batching changes no finding.
 */
function benchmarkOf(path: string): string | undefined {
  const [top, benchmark] = path.split('/', 2);
  return top === 'benchmarks' ? benchmark : undefined;
}

export async function validatePaths(head: FileTree, paths: string[]): Promise<Finding[]> {
  const view = createView(head);
  const out: Finding[] = [];
  // Records of benchmarks still ahead; released once the batches have moved past their folder.
  let held: Array<{ path: string; benchmark: string }> = [];
  for (let i = 0; i < paths.length; i += BATCH) {
    const changed = paths.slice(i, i + BATCH);
    for (const rule of rules) out.push(...(await rule.check({ head: view, changed })));
    // What no later batch will ask for again: results, and the records of benchmarks whose
    // folders are behind us (paths are sorted, so a benchmark's files are contiguous).
    const current = benchmarkOf(changed[changed.length - 1]!);
    for (const path of view.drainLoaded()) {
      const [top, benchmark, folder] = path.split('/', 3);
      if (top !== 'benchmarks' || benchmark === undefined || folder === undefined) continue;
      if (folder === 'results') view.forget(path);
      else held.push({ path, benchmark });
    }
    held = held.filter((h) => h.benchmark === current || (view.forget(h.path), false));
  }
  return out;
}

/** Every finding of a registry tree, sorted. */
export async function validateRegistry(head: FileTree): Promise<Finding[]> {
  const paths = await head.list();
  const findings = await validatePaths(head, paths);
  if (!paths.includes('registry.yaml')) {
    findings.push({
      path: 'registry.yaml',
      line: 1,
      column: 1,
      rule: 'layout',
      message: 'missing: every registry has a registry.yaml naming its title and admins (`medperf-git registry init` writes one)',
    });
  }
  return capFindings(sortFindings(dedupe(findings)));
}

/**
 * The findings of a change from `base` (the merge base) to `head`, sorted: the changed files, what
 * they reference, and the rules that compare with the base (ownership, immutability).
 */
export async function validateChange(opts: { head: FileTree; base: FileTree; changed?: string[]; author?: string }): Promise<Finding[]> {
  const changed = opts.changed ?? (await changedPaths(opts.base, opts.head));
  return run({ head: createView(opts.head), base: createView(opts.base), changed: [...new Set(changed)].sort(), author: opts.author });
}
