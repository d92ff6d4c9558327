// Which names a dataset's statistics may hold: those that the benchmarks preparing data with the
// dataset's preparator declare (`statistics_names`). Read once per tree: a full validation asks
// it for every dataset, and the answer is a walk over the benchmarks.
import { METRIC_NAME, metricNames, NamesNotDeclaredError } from './metrics.ts';
import { benchmarkNames } from './collections.ts';
import type { RegistryView } from './view.ts';

export interface StatisticsDeclaration {
  /** The benchmarks preparing data with the preparator. */
  benchmarks: string[];
  /** The names they declare together; undefined when none of them declares any yet. */
  names?: string[];
  /** The benchmarks that declare them. */
  declaring: string[];
}

type Index = Map<string, Array<{ benchmark: string; names?: string[] }>>;
const byTree = new WeakMap<object, Promise<Index>>();

function index(view: RegistryView): Promise<Index> {
  let p = byTree.get(view.tree);
  if (!p) {
    p = (async () => {
      const out: Index = new Map();
      for (const name of await benchmarkNames(view)) {
        const bench = await view.benchmark(name);
        if (!bench) continue;
        const prep = bench.data.data_preparation_mlcube;
        let list = out.get(prep);
        if (!list) out.set(prep, (list = []));
        list.push({ benchmark: name, names: bench.data.statistics_names });
      }
      return out;
    })();
    byTree.set(view.tree, p);
  }
  return p;
}

/** The statistics names a dataset prepared with `preparator` may publish in this tree. */
export async function statisticsDeclaration(view: RegistryView, preparator: string): Promise<StatisticsDeclaration> {
  const list = (await index(view)).get(preparator) ?? [];
  const declaring = list.filter((b) => b.names);
  return {
    benchmarks: list.map((b) => b.benchmark),
    declaring: declaring.map((b) => b.benchmark),
    names: declaring.length ? [...new Set(declaring.flatMap((b) => b.names!))] : undefined,
  };
}

/** The declared names, or the error that says who must declare them (for the CLI). */
export function requireStatisticsNames(d: StatisticsDeclaration, preparator: string): string[] {
  if (d.names) return d.names;
  throw new NamesNotDeclaredError(
    d.benchmarks.length
      ? `no benchmark that prepares data with ${preparator} declares statistics_names yet, so no statistic can be published: ask the committee of ` +
          `${d.benchmarks.join(' or ')} to run \`medperf-git benchmark declare-names -b ${d.benchmarks[0]}\`; nothing was submitted`
      : `no benchmark prepares data with ${preparator}, so none declares the statistics a dataset may publish; nothing was submitted`,
  );
}

/** Where names were found: a label (`the demo dataset`, a record's path) and its block. */
export interface FoundNames {
  source: string;
  metrics: unknown;
}

export interface ProposedDeclaration {
  names: string[];
  /** Each name that is new, with where it was found. */
  added: Array<{ name: string; sources: string[] }>;
}

/**
 * The declaration a committee proposes: what is declared already, then the names found, in the
 * order found (the demo run first). Names that only data owners' records hold are listed with
 * those records, for the reviewers: such a name was written by a data owner, not by a cube on the
 * demo data.
 */
export function proposeDeclaration(declared: readonly string[] | undefined, found: readonly FoundNames[]): ProposedDeclaration {
  const names = [...(declared ?? [])];
  const known = new Set(names);
  const sources = new Map<string, string[]>();
  for (const { source, metrics } of found) {
    for (const name of metricNames(metrics as Record<string, unknown>)) {
      if (!METRIC_NAME.test(name)) continue;
      if (known.has(name)) continue;
      let list = sources.get(name);
      if (!list) {
        sources.set(name, (list = []));
        names.push(name);
      }
      list.push(source);
    }
  }
  return { names, added: [...sources].map(([name, s]) => ({ name, sources: s })) };
}
