// What a data owner's `run` decides, with no disk, forge or cube involved: which models are
// approved and in which order they run, what blocks a run, whether a finished execution is
// reused, and which version of each result goes out.
import { isDeepStrictEqual } from 'node:util';
import { MedperfError } from './errors.ts';
import { paths } from './layout.ts';
import type { BenchmarkRecord, DatasetRecord, Metrics, ResultRecord } from './records.ts';

export class NotApprovedError extends MedperfError {
  constructor(message: string) {
    super('not-approved', message);
  }
}

export class DatasetInDevelopmentError extends MedperfError {
  constructor(id: string) {
    super(
      'dataset-in-development',
      `the dataset ${id} is still in development: prepare it (\`medperf-git dataset prepare -d ${id}\`) and mark it operational (\`medperf-git dataset set-operational -d ${id}\`) first; nothing was submitted`,
    );
  }
}

/** The approved models of a benchmark in the order MedPerf runs them: by priority, then by id. */
export function byPriority(associations: ReadonlyArray<{ model: string; priority: number }>): string[] {
  return [...associations].sort((a, b) => a.priority - b.priority || a.model.localeCompare(b.model)).map((a) => a.model);
}

/** What `run` knows before it decides: main's records and the prepared data here. */
export interface RunFacts {
  benchmark: string;
  benchmarkRecord: BenchmarkRecord;
  /** The dataset's id, and its record on main (undefined when not registered). */
  dataset: string;
  datasetRecord?: DatasetRecord;
  /** The generated_uid of the data prepared on this machine. */
  preparedUid?: string;
  /** Whether main holds the dataset's association with the benchmark. */
  datasetAssociated: boolean;
  /** The model associations on main, with their priorities. */
  approved: ReadonlyArray<{ model: string; priority: number }>;
  /** The models the data owner asked for (`-m`), if any. */
  requested?: readonly string[];
}

/** Why a run does not start; a refusal whose message may name a pending pull request carries its path. */
export type RunBlocker =
  | { reason: 'benchmark-not-operational' }
  | { reason: 'dataset-not-registered' }
  | { reason: 'dataset-in-development' }
  | { reason: 'prepared-data-mismatch' }
  | { reason: 'dataset-not-associated'; path: string }
  | { reason: 'model-not-approved'; model: string; path: string }
  | { reason: 'no-models' };

/** The models a run executes, in order, or the first thing that blocks it. */
export function planRun(facts: RunFacts): { models: string[] } | { blocked: RunBlocker } {
  const { benchmark, dataset } = facts;
  if (facts.benchmarkRecord.state !== 'operational') return { blocked: { reason: 'benchmark-not-operational' } };
  if (!facts.datasetRecord) return { blocked: { reason: 'dataset-not-registered' } };
  if (facts.datasetRecord.state !== 'operational') return { blocked: { reason: 'dataset-in-development' } };
  if (facts.preparedUid !== facts.datasetRecord.generated_uid) return { blocked: { reason: 'prepared-data-mismatch' } };
  if (!facts.datasetAssociated) return { blocked: { reason: 'dataset-not-associated', path: paths.datasetAssociation(benchmark, dataset) } };
  let models = byPriority(facts.approved);
  if (facts.requested?.length) {
    const missing = facts.requested.find((m) => !models.includes(m));
    if (missing) return { blocked: { reason: 'model-not-approved', model: missing, path: paths.modelAssociation(benchmark, missing) } };
    models = models.filter((m) => facts.requested!.includes(m));
  }
  if (!models.length) return { blocked: { reason: 'no-models' } };
  return { models };
}

/** The error a blocked run stops with; `pull` is the open pull request at the blocker's path, if any. */
export function runRefusal(blocker: RunBlocker, facts: Pick<RunFacts, 'benchmark' | 'dataset' | 'datasetRecord' | 'preparedUid'>, pull?: number): MedperfError {
  const { benchmark, dataset: id } = facts;
  switch (blocker.reason) {
    case 'benchmark-not-operational':
      return new MedperfError('benchmark-not-operational', `the benchmark ${benchmark} is in development: it takes no results yet; nothing was run`);
    case 'dataset-not-registered':
      return new MedperfError('not-registered', `the dataset ${id} is not in the registry; register it with \`medperf-git dataset submit\``);
    case 'dataset-in-development':
      return new DatasetInDevelopmentError(id);
    case 'prepared-data-mismatch':
      return new MedperfError(
        'prepared-data-mismatch',
        `the prepared data here (generated_uid ${facts.preparedUid ?? 'none'}) is not the data registered as ${id} (${facts.datasetRecord?.generated_uid}); nothing was run`,
      );
    case 'dataset-not-associated':
      return new NotApprovedError(
        pull
          ? `the dataset ${id} is not approved for ${benchmark} yet: its association pull request #${pull} waits for the committee; nothing was run`
          : `the dataset ${id} is not associated with ${benchmark}; ask with \`medperf-git dataset associate -b ${benchmark} -d ${id}\``,
      );
    case 'model-not-approved':
      return new NotApprovedError(
        pull
          ? `the model ${blocker.model} is not approved for ${benchmark}: its association pull request #${pull} waits for the committee; nothing was run`
          : `the model ${blocker.model} is not associated with ${benchmark}; nothing was run (\`medperf-git association ls -b ${benchmark}\` lists the approved models)`,
      );
    case 'no-models':
      return new MedperfError('no-models', `no model is approved for ${benchmark} yet; nothing was run`);
  }
}

/**
 * Whether a model runs again although a finished execution is cached: `--no-cache`, or
 * `--new-result` when the cached execution is the one the registry holds already.
 */
export function runsAgain(options: { noCache: boolean; newResult: boolean }, cachedExecutedAt: string | undefined, registeredExecutedAt: string | undefined): boolean {
  return options.noCache || Boolean(options.newResult && cachedExecutedAt !== undefined && registeredExecutedAt === cachedExecutedAt);
}

/**
 * The version a local result goes out as: 1, or the registered version + 1 for a rerun (results
 * are append-only); undefined when the registry holds exactly this result already.
 */
export function outgoingVersion(registered: ResultRecord | undefined, result: { executed_at: string; metrics: Metrics }): number | undefined {
  // An encrypted result is the same execution when it ran at the same time: its numbers cannot
  // be compared without a key, and an execution's time names it.
  if (registered && registered.provenance.executed_at === result.executed_at && (registered.metrics === undefined || isDeepStrictEqual(registered.metrics, result.metrics))) return undefined;
  return registered ? registered.version + 1 : 1;
}
