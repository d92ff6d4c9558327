// Small helpers the cross-record rules share: a finding placed at a record's field, and the way
// a list of logins reads in a message.
import type { Finding, RuleId } from '../findings.ts';
import type { LoadedRecord, RegistryView } from '../view.ts';

/** A finding at the field `pointer` of a record, or at the top of the file when there is none. */
export function findingAt(
  rule: RuleId,
  path: string,
  record: LoadedRecord | undefined,
  pointer: string,
  message: string,
): Finding {
  const { line, column } = record ? record.locate(pointer) : { line: 1, column: 1 };
  return { path, line, column, rule, message };
}

/** "carol", "carol or dave", "alice, bob or carol". */
export function orList(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

/** Paths of `changed` that exist in a view's tree (the rest were deleted, or never existed). */
export async function present(view: RegistryView, changed: readonly string[]): Promise<Set<string>> {
  const found = await Promise.all(changed.map(async (p) => ((await view.tree.has(p)) ? p : undefined)));
  return new Set(found.filter((p): p is string => p !== undefined));
}

/** The benchmarks of a tree, read off its paths (benchmarks/<name>/benchmark.yaml). */
export async function benchmarkNames(view: RegistryView): Promise<string[]> {
  const files = await view.tree.list('benchmarks/');
  return files
    .map((p) => /^benchmarks\/([^/]+)\/benchmark\.yaml$/.exec(p)?.[1])
    .filter((b): b is string => b !== undefined);
}
