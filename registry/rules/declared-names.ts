// declared-names: every metric and statistics name a record publishes comes from its benchmark,
// never from the data owner's data. A benchmark declares `metric_names` (what its metrics cube
// reports) and `statistics_names` (what its data preparator's statistics task reports); a result,
// the compatibility test of a model or dataset association, and a dataset's statistics hold only
// names their benchmark declares. A dataset's benchmark is any benchmark that prepares data with
// the dataset's preparator. Where no declaration can say, nothing is accepted (fail closed).
import type { Finding } from '../findings.ts';
import { parseRecordPath } from '../layout.ts';
import { metricNames, metricProblems, type MetricProblem } from '../metrics.ts';
import { statisticsDeclaration } from '../declarations.ts';
import type { LoadedRecord, RegistryView, Rule, RuleContext } from '../view.ts';
import { dottedPointer as dotted, findingAt, memoized, orList } from './util.ts';

/** How a message shows a declaration: the first names, and how many more. */
function shown(names: readonly string[]): string {
  if (!names.length) return 'none';
  const head = names.slice(0, 8).join(', ');
  return names.length > 8 ? `${head} and ${names.length - 8} more` : head;
}

const fix = (benchmark: string) => `medperf-git benchmark declare-names -b ${benchmark}`;

/**
 * The message for one problem of a block. The undeclared name itself is not repeated: it may be
 * the very text that must not be published; the finding's line and column point at it.
 */
function problemMessage(p: MetricProblem, block: string, what: string, declaredBy: string, declared: readonly string[], remedy: string): string {
  const parent = p.under ? `${dotted(block)}.${p.under}` : dotted(block);
  switch (p.kind) {
    case 'empty':
      return `a name under ${parent} holds nothing: ${what} are names declared by ${declaredBy} with a number each; remove it`;
    case 'twice':
      return `${dotted(block)}.${p.name} is given twice (nested and with dots): one ${what === 'statistics' ? 'statistic' : 'metric'}, one number; keep one of them`;
    default:
      return (
        `a name under ${parent} is not one that ${declaredBy} declares (${shown(declared)}): ${what} hold only the names ` +
        `their benchmark declares, so no text of the data leaves the hospital; ${remedy}`
      );
  }
}

/** One Set per declaration array, so that thousands of records of one benchmark share it. */
const sets = new WeakMap<readonly string[], ReadonlySet<string>>();
function asSet(names: readonly string[]): ReadonlySet<string> {
  let set = sets.get(names);
  if (!set) sets.set(names, (set = new Set(names)));
  return set;
}

/** `a.yaml:3, b.yaml:5 and 4 more`: where a few of the records are. */
function places(at: readonly string[]): string {
  return at.slice(0, 3).join(', ') + (at.length > 3 ? ` and ${at.length - 3} more` : '');
}

const them = (names: readonly string[]) => (names.length === 1 ? 'it' : 'them');

/**
 * The datasets prepared with `preparator` whose statistics hold one of `names`. A dataset's path
 * does not say its preparator, so the datasets are read as bytes, and only those whose text holds
 * the last key of a name (every way of writing the name holds it) are loaded.
 */
async function datasetsHolding(view: RegistryView, preparator: string, names: readonly string[], skip: ReadonlySet<string>): Promise<Array<{ at: string; names: string[] }>> {
  const keys = [...new Set(names.map((n) => n.slice(n.lastIndexOf('.') + 1)))];
  const wanted = new Set(names);
  const out: Array<{ at: string; names: string[] }> = [];
  for (const path of await view.tree.list('datasets/')) {
    if (skip.has(path)) continue;
    const bytes = await view.tree.read(path);
    if (!bytes || !keys.some((k) => bytes.includes(k))) continue;
    const rec = (await view.record(path)) as LoadedRecord<'dataset'> | undefined;
    if (rec?.where.kind !== 'dataset' || rec.data.data_preparation_mlcube !== preparator) continue;
    const held = metricNames(rec.data.statistics).filter((n) => wanted.has(n));
    if (held.length) out.push({ at: `${path}:${rec.locate('/statistics').line}`, names: held });
  }
  return out;
}

/**
 * Names a benchmark change stops declaring while records that stay hold them: the benchmark's
 * results and associations (its folder) for metric names; for statistics names, the datasets
 * prepared with its preparator, unless another benchmark preparing with it still declares the name.
 * Records the change itself touches are judged on their own.
 */
async function withdrawnNames(ctx: RuleContext & { base: RegistryView }, after: LoadedRecord<'benchmark'>): Promise<Finding[]> {
  const before = (await ctx.base.record(after.where.path)) as LoadedRecord<'benchmark'> | undefined;
  if (before?.where.kind !== 'benchmark') return [];
  const name = after.where.benchmark;
  const skip = new Set(ctx.changed);
  const out: Finding[] = [];
  const report = (pointer: string, message: string) => out.push(findingAt('declared-names', after.where.path, after as LoadedRecord, pointer, message));

  const kept = new Set(after.data.metric_names ?? []);
  const removed = new Set((before.data.metric_names ?? []).filter((n) => !kept.has(n)));
  if (removed.size) {
    const at: string[] = [];
    const held = new Set<string>();
    for (const path of await ctx.head.tree.list(`benchmarks/${name}/`)) {
      if (skip.has(path)) continue;
      const kind = parseRecordPath(path)?.kind;
      if (kind !== 'result' && kind !== 'model-association' && kind !== 'dataset-association') continue;
      const rec = await ctx.head.record(path);
      if (!rec) continue;
      const block = kind === 'result' ? '/metrics' : '/compatibility_test/metrics';
      const metrics = kind === 'result' ? (rec as LoadedRecord<'result'>).data.metrics : (rec as LoadedRecord<'model-association'>).data.compatibility_test.metrics;
      const names = metricNames(metrics).filter((n) => removed.has(n));
      if (!names.length) continue;
      at.push(`${path}:${rec.locate(block).line}`);
      for (const n of names) held.add(n);
    }
    if (at.length) {
      const names = [...held];
      report(
        after.data.metric_names ? '/metric_names' : '',
        `metric_names no longer declares ${names.join(', ')}, which ${at.length} record${at.length === 1 ? ' of ' + name + ' still holds' : 's of ' + name + ' still hold'} (${places(at)}): ` +
          `a benchmark keeps declaring every name its results and associations hold; declare ${them(names)} again`,
      );
    }
  }

  const prep = before.data.data_preparation_mlcube;
  const declared = new Set((await statisticsDeclaration(ctx.head, prep)).names ?? []);
  const lost = (before.data.statistics_names ?? []).filter((n) => !declared.has(n));
  if (lost.length) {
    const holders = await datasetsHolding(ctx.head, prep, lost, skip);
    if (holders.length) {
      const names = [...new Set(holders.flatMap((h) => h.names))];
      report(
        after.data.statistics_names ? '/statistics_names' : '',
        `statistics_names no longer declares ${names.join(', ')}, which ${holders.length === 1 ? '1 dataset' : `${holders.length} datasets`} prepared with ${prep} still hold${holders.length === 1 ? 's' : ''} ` +
          `(${places(holders.map((h) => h.at))}), and no other benchmark preparing data with ${prep} declares ${them(names)}: ` +
          `a benchmark keeps declaring every name its datasets' statistics hold; declare ${them(names)} again`,
      );
    }
  }
  return out;
}

export const rule: Rule = {
  id: 'declared-names',
  async check(ctx) {
    const head = memoized(ctx.head);
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      const rec = await ctx.head.record(path);
      if (!rec) continue;
      const report = (pointer: string, message: string) => out.push(findingAt('declared-names', path, rec, pointer, message));
      const where = rec.where;

      if (where.kind === 'benchmark') {
        const data = (rec as LoadedRecord<'benchmark'>).data;
        const missing = [!data.metric_names && 'metric_names', !data.statistics_names && 'statistics_names'].filter((f): f is string => !!f);
        if (missing.length) {
          report(
            '',
            `the benchmark ${where.benchmark} declares no ${missing.join(' and no ')}: results, compatibility tests and dataset statistics ` +
              `may hold only the names their benchmark declares, so until it does none is accepted; its committee runs ` +
              `\`${fix(where.benchmark)}\`, which takes them from the metrics cube and the data preparator on the demo dataset ` +
              `(and from the records already merged) and opens the pull request that adds them`,
          );
        }
        if (ctx.base) out.push(...(await withdrawnNames({ ...ctx, base: ctx.base }, rec as LoadedRecord<'benchmark'>)));
        const primary = data.results_policy.primary_metric;
        if (data.metric_names && !data.metric_names.includes(primary)) {
          report(
            '/results_policy/primary_metric',
            `the primary metric ${primary} is not one of the benchmark's metric_names (${shown(data.metric_names)}): rank on a declared metric, or declare it`,
          );
        }
        continue;
      }

      if (where.kind === 'result' || where.kind === 'model-association' || where.kind === 'dataset-association') {
        const benchmark = where.benchmark;
        const bench = await head.benchmark(benchmark);
        if (!bench) continue; // a missing or invalid benchmark is its own finding
        const block = where.kind === 'result' ? '/metrics' : '/compatibility_test/metrics';
        const metrics = where.kind === 'result' ? (rec as LoadedRecord<'result'>).data.metrics : (rec as LoadedRecord<'model-association'>).data.compatibility_test.metrics;
        // Encrypted metrics are checked where they can be read: by the Action's privileged check.
        if (!metrics) continue;
        const declared = bench.data.metric_names;
        if (!declared) {
          if (Object.keys(metrics).length) {
            report(
              block,
              `the benchmark ${benchmark} declares no metric_names yet, so no metric can be accepted: ask its committee ` +
                `(${orList(bench.data.committee)}) to run \`${fix(benchmark)}\`, then submit again`,
            );
          }
          continue;
        }
        const remedy =
          where.kind === 'result'
            ? `remove it (\`medperf-git run\` writes only declared names), or ask the committee of ${benchmark} to declare it`
            : `remove it, or ask the committee of ${benchmark} to declare it`;
        for (const p of metricProblems(metrics, asSet(declared))) {
          report(block + p.pointer, problemMessage(p, block, 'metrics', `the benchmark ${benchmark}`, declared, remedy));
        }
        continue;
      }

      if (where.kind === 'dataset') {
        const data = (rec as LoadedRecord<'dataset'>).data;
        const statistics = data.statistics;
        if (!statistics || !Object.keys(statistics).length) continue;
        const prep = data.data_preparation_mlcube;
        const declaration = await statisticsDeclaration(ctx.head, prep);
        if (!declaration.names) {
          report(
            '/statistics',
            declaration.benchmarks.length
              ? `no benchmark that prepares data with ${prep} declares statistics_names yet, so no statistic can be accepted: ask the committee to run ` +
                  `${orList(declaration.benchmarks.map((b) => `\`${fix(b)}\``))}, then submit again`
              : `no benchmark prepares data with ${prep}, so no benchmark declares the names its statistics may hold: ` +
                  `statistics are published only under names a benchmark declares; remove them, or prepare the data with a benchmark's data preparator`,
          );
          continue;
        }
        const declared = declaration.names;
        const by = declaration.declaring.length === 1 ? `the benchmark ${declaration.declaring[0]}` : `a benchmark preparing data with ${prep}`;
        const remedy = `remove it (\`medperf-git dataset set-operational\` writes only declared names), or ask the committee to declare it`;
        for (const p of metricProblems(statistics, asSet(declared))) {
          report('/statistics' + p.pointer, problemMessage(p, '/statistics', 'statistics', by, declared, remedy));
        }
      }
    }
    return out;
  },
};
