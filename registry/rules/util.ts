// Small helpers the cross-record rules share: a finding placed at a record's field, and the way
// a list of logins reads in a message.
import type { Finding, RuleId } from '../findings.ts';
import type { FileTree, LoadedRecord, RegistryView } from '../view.ts';

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

/** A JSON pointer as a field path: `/metrics/per_class` reads as `metrics.per_class`. */
export function dottedPointer(pointer: string): string {
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
}

/** A key as one segment of a JSON pointer. */
export function escapePointerKey(key: string): string {
  if (!key.includes('~') && !key.includes('/')) return key;
  return key.replace(/~/g, '~0').replace(/\//g, '~1');
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

/**
 * A view that remembers, for one check, what it was asked: in a full validation thousands of
 * results name the same benchmark, model and dataset, and each question is then one map lookup.
 */
export function memoized(view: RegistryView): RegistryView {
  const memo = <A extends string, T>(fn: (a: A) => Promise<T>) => {
    const cache = new Map<A, Promise<T>>();
    return (a: A) => {
      let p = cache.get(a);
      if (!p) {
        p = fn(a);
        cache.set(a, p);
      }
      return p;
    };
  };
  const has = memo((p: string) => view.tree.has(p));
  const tree: FileTree = {
    label: view.tree.label,
    list: (prefix) => view.tree.list(prefix),
    read: (p) => view.tree.read(p),
    has,
  };
  return {
    tree,
    record: (p) => view.record(p),
    registryConfig: () => view.registryConfig(),
    cube: memo((id: string) => view.cube(id)),
    dataset: memo((id: string) => view.dataset(id)),
    benchmark: memo((name: string) => view.benchmark(name)),
    modelAssociation: (b, m) => view.modelAssociation(b, m),
    datasetAssociation: (b, d) => view.datasetAssociation(b, d),
    person: memo((login: string) => view.person(login)),
    modelGrant: (m, l) => view.modelGrant(m, l),
  };
}
