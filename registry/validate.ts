// Validation as the Action runs it. A whole registry: every file is loaded (yaml, schema, layout)
// and every rule sees every record. A change: only the changed paths are given to the rules, and
// the rules read what those records reference, so the work follows the change, not the registry.
import { sortFindings, type Finding } from './findings.ts';
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
  return sortFindings(dedupe(out));
}

/** Every finding of a registry tree, sorted. */
export async function validateRegistry(head: FileTree): Promise<Finding[]> {
  const changed = await head.list();
  return run({ head: createView(head), changed });
}

/**
 * The findings of a change from `base` (the merge base) to `head`, sorted: the changed files, what
 * they reference, and the rules that compare with the base (ownership, immutability).
 */
export async function validateChange(opts: { head: FileTree; base: FileTree; changed?: string[]; author?: string }): Promise<Finding[]> {
  const changed = opts.changed ?? (await changedPaths(opts.base, opts.head));
  return run({ head: createView(opts.head), base: createView(opts.base), changed: [...new Set(changed)].sort(), author: opts.author });
}
