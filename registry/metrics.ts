// What a metric is, in one place. Metrics (a result's, a compatibility test's) and statistics (a
// dataset's) are nested mappings of short names to numbers, at most three levels deep. A metric's
// name is the keys on the way to its number joined by dots: `{Dice: {mean: 0.7}}` and
// `{Dice.mean: 0.7}` both hold the metric `Dice.mean`, and a block with two numbers under one
// name is refused by validation (readers take the first, in the order the record lists them).
// A benchmark declares the names its results and its datasets' statistics may hold, as these
// dotted names; every name elsewhere is checked against that declaration.
import { MedperfError } from './errors.ts';
import type { BenchmarkRecord, Metrics } from './records.ts';
import { escapePointerKey } from './rules/util.ts';
import { schemas } from './schema-files.ts';

const common = schemas.find((s) => String(s.$id).endsWith(':common')) as { $defs: Record<string, { pattern?: string }> };

/** One key of a metrics mapping (the schema's metricKey). */
export const METRIC_KEY = new RegExp(common.$defs.metricKey!.pattern!);
/** A declared metric name: keys joined by dots (the schema's metricName). */
export const METRIC_NAME = new RegExp(common.$defs.metricName!.pattern!);
/** Mappings nest at most this deep: the third level holds numbers only. */
export const MAX_DEPTH = 3;

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One entry of a metrics block: its name, the keys that lead to it, and what it holds. */
export interface MetricEntry {
  name: string;
  keys: string[];
  /** A number; anything else (text, a list, an empty mapping) is a value no metric may hold. */
  value: unknown;
}

/**
 * Every entry of a metrics block in the order the record lists them: each number, and each value
 * that is neither a number nor a mapping with entries (those are findings for validation).
 */
export function metricEntries(metrics: unknown): MetricEntry[] {
  const out: MetricEntry[] = [];
  const walk = (value: Record<string, unknown>, keys: string[]) => {
    for (const key of Object.keys(value)) {
      const v = value[key];
      const at = [...keys, key];
      if (isMapping(v) && Object.keys(v).length) walk(v, at);
      else out.push({ name: at.join('.'), keys: at, value: v });
    }
  };
  if (isMapping(metrics)) walk(metrics, []);
  return out;
}

/** A number a metric may hold: finite. */
const isMetricNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Every metric name with its number; the first of two numbers under one name wins. */
export function flattenMetrics(metrics: Metrics | Record<string, unknown> | undefined): Map<string, number> {
  const out = new Map<string, number>();
  for (const { name, value } of metricEntries(metrics)) {
    if (isMetricNumber(value) && !out.has(name)) out.set(name, value);
  }
  return out;
}

/** The names of a metrics block, in its order. */
export function metricNames(metrics: Metrics | Record<string, unknown> | undefined): string[] {
  return [...flattenMetrics(metrics).keys()];
}

/** The number a metric name holds (`AUC`, `Dice.mean`), or undefined. */
export function metricValue(metrics: Metrics | Record<string, unknown> | undefined, name: string): number | undefined {
  return flattenMetrics(metrics).get(name);
}

/** `[name, number]` pairs, for tables and pull-request bodies. */
export function metricRows(metrics: Metrics | Record<string, unknown> | undefined): Array<[string, number]> {
  return [...flattenMetrics(metrics)];
}

/**
 * What a cube's output may publish, before any benchmark's declaration: numbers (a boolean as 1
 * or 0) under keys of the metric-key form, at most three levels deep; everything else is left out.
 */
export function cleanMetrics(raw: unknown, depth = 0): Metrics {
  const out: Record<string, unknown> = {};
  if (!isMapping(raw)) return out as Metrics;
  for (const [key, v] of Object.entries(raw)) {
    if (!METRIC_KEY.test(key)) continue;
    if (isMetricNumber(v)) out[key] = v;
    else if (typeof v === 'boolean') out[key] = v ? 1 : 0;
    else if (isMapping(v) && depth < MAX_DEPTH - 1) {
      const nested = cleanMetrics(v, depth + 1);
      if (Object.keys(nested).length) out[key] = nested;
    }
  }
  return out as Metrics;
}

/**
 * A metrics block reduced to the names a benchmark declares: what the CLI writes into a record.
 * `left` names what was left out, for the person who runs the command (it stays on their machine).
 */
export function keepDeclared(metrics: Metrics, declared: Iterable<string>): { kept: Metrics; left: string[] } {
  const names = new Set(declared);
  const left: string[] = [];
  const seen = new Set<string>();
  const keep = (value: Record<string, unknown>, prefix: string): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [key, v] of Object.entries(value)) {
      const name = prefix + key;
      if (isMapping(v)) {
        const nested = keep(v, `${name}.`);
        if (Object.keys(nested).length) out[key] = nested;
      } else if (names.has(name) && !seen.has(name)) {
        seen.add(name);
        out[key] = v;
      } else {
        left.push(name);
      }
    }
    return out;
  };
  return { kept: keep(metrics as Record<string, unknown>, '') as Metrics, left };
}

/** Something about one entry of a metrics block that a declaration does not allow. */
export interface MetricProblem {
  /** JSON pointer below the block (`/Dice/mean`): the first key that leads to no declared name. */
  pointer: string;
  /** The declared part of the name before that key (`Dice`, or '' at the top): safe to show. */
  under: string;
  /** The whole name; it may be data-owner text, so messages do not repeat it. */
  name: string;
  kind: 'undeclared' | 'twice' | 'empty';
}

/** Every name of a declaration and every dotted prefix of one (`Dice.mean` gives `Dice`). */
function prefixesOf(declared: ReadonlySet<string>): Set<string> {
  const out = new Set<string>();
  for (const name of declared) {
    for (let i = name.indexOf('.'); i > 0; i = name.indexOf('.', i + 1)) out.add(name.slice(0, i));
    out.add(name);
  }
  return out;
}

const prefixCache = new WeakMap<ReadonlySet<string>, Set<string>>();

/** Whether every number of a block sits under a declared name, once, with no empty mapping: the common case, without allocating. */
function allDeclared(metrics: unknown, declared: ReadonlySet<string>): boolean {
  const seen = new Set<string>();
  const walk = (value: Record<string, unknown>, prefix: string): boolean => {
    for (const key of Object.keys(value)) {
      const v = value[key];
      const name = prefix + key;
      if (isMapping(v)) {
        if (!Object.keys(v).length || !walk(v, `${name}.`)) return false;
      } else {
        if (!declared.has(name) || seen.has(name)) return false;
        seen.add(name);
      }
    }
    return true;
  };
  return !isMapping(metrics) || walk(metrics, '');
}

/**
 * Every entry of a metrics block whose name the declaration does not hold, every name held twice,
 * and every empty mapping (a key with nothing under it is text, not a metric). An undeclared name
 * is reported once, at the first of its keys that leads to no declared name: the keys before it
 * are the benchmark's own words, the rest may be the data owner's.
 */
export function metricProblems(metrics: unknown, declared: ReadonlySet<string>): MetricProblem[] {
  if (allDeclared(metrics, declared)) return [];
  const out: MetricProblem[] = [];
  const seen = new Set<string>();
  const reported = new Set<string>();
  let prefixes = prefixCache.get(declared);
  if (!prefixes) prefixCache.set(declared, (prefixes = prefixesOf(declared)));
  for (const { name, keys, value } of metricEntries(metrics)) {
    const at = (n: number) => keys.slice(0, n).map((k) => `/${escapePointerKey(k)}`).join('');
    const under = (n: number) => keys.slice(0, n).join('.');
    if (!declared.has(name) || isMapping(value)) {
      // The first key whose dotted path is neither a declared name nor the start of one.
      let n = 1;
      while (n < keys.length && prefixes.has(under(n))) n++;
      const pointer = at(n);
      if (reported.has(pointer)) continue;
      reported.add(pointer);
      const kind = prefixes.has(under(n)) && isMapping(value) ? 'empty' : 'undeclared';
      out.push({ pointer, under: under(n - 1), name, kind });
    } else if (seen.has(name)) {
      out.push({ pointer: at(keys.length), under: under(keys.length - 1), name, kind: 'twice' });
    }
    seen.add(name);
  }
  return out;
}

/** What the CLI says when a benchmark declares no names yet: nothing can be published under it. */
export class NamesNotDeclaredError extends MedperfError {
  constructor(message: string) {
    super('names-not-declared', message);
  }
}

type Declared = 'metric_names' | 'statistics_names';

/** The names a benchmark declares, or the error that says who must declare them (fail closed). */
export function declaredNames(benchmark: string, record: Pick<BenchmarkRecord, 'committee' | Declared>, which: Declared): string[] {
  const declared = record[which];
  if (!declared) {
    throw new NamesNotDeclaredError(
      `the benchmark ${benchmark} declares no ${which} yet, so nothing can be published under it: ask its committee ` +
        `(${record.committee.join(', ')}) to run \`medperf-git benchmark declare-names -b ${benchmark}\`; nothing was submitted`,
    );
  }
  return declared;
}

/**
 * A metrics or statistics block as a record may publish it under a benchmark: only the names the
 * benchmark declares. A benchmark without the declaration publishes nothing.
 */
export function publishedUnder(
  benchmark: string,
  record: Pick<BenchmarkRecord, 'committee' | Declared>,
  which: Declared,
  metrics: Metrics,
): { kept: Metrics; left: string[] } {
  return keepDeclared(metrics, declaredNames(benchmark, record, which));
}

/** The line that tells the person running a command what stays on their machine. */
export function leftOutLine(left: readonly string[], what: string, benchmark: string): string | undefined {
  if (!left.length) return undefined;
  return `Left out (${what} the benchmark ${benchmark} does not declare, kept on this machine only): ${left.join(', ')}`;
}
