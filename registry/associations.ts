// What the committee's commands decide, with no forge call: where each association stands in
// MedPerf's three states (approved on main, pending in an open pull request, rejected in a closed
// one), which pull request a review acts on, and who may approve.
import { associationAt, associationsOf } from './collections.ts';
import { MedperfError, NotFoundError } from './errors.ts';
import type { PullRequest } from './forge/forge.ts';
import { paths } from './layout.ts';
import type { BenchmarkRecord, Metrics } from './records.ts';
import type { RegistryView } from './view.ts';

export class NotCommitteeError extends MedperfError {
  constructor(message: string) {
    super('not-committee', message);
  }
}

export class AssociationNotFoundError extends NotFoundError {}

export type AssociationStatus = 'approved' | 'pending' | 'rejected';

export interface AssociationEntry {
  benchmark: string;
  /** 'model' or 'dataset'. */
  kind: 'model' | 'dataset';
  /** The model cube or dataset id. */
  entity: string;
  status: AssociationStatus;
  path: string;
  initiatedBy?: string;
  priority?: number;
  /** The PR behind a pending or rejected association (and an approved one's pending change). */
  pull?: { number: number; url: string; author: string };
  metrics?: Metrics;
}

export interface AssociationFilter {
  benchmark?: string;
  model?: string;
  dataset?: string;
}

function matches(filter: AssociationFilter, benchmark: string, kind: 'model' | 'dataset', entity: string): boolean {
  if (filter.benchmark && filter.benchmark !== benchmark) return false;
  if (filter.model && (kind !== 'model' || filter.model !== entity)) return false;
  if (filter.dataset && (kind !== 'dataset' || filter.dataset !== entity)) return false;
  return true;
}

/**
 * Every association in one of MedPerf's three states: approved (on main), pending (an open PR adds
 * it), rejected (a closed PR added it and it is neither on main nor pending again). `main` is the
 * main branch's view, `pulls` the pull requests that touch benchmarks.
 */
export async function associationStates(main: RegistryView, pulls: readonly PullRequest[], filter: AssociationFilter = {}): Promise<AssociationEntry[]> {
  const entries = new Map<string, AssociationEntry>();
  for (const ref of await associationsOf(main, filter.benchmark)) {
    if (!matches(filter, ref.benchmark, ref.kind, ref.entity)) continue;
    const record = await main.record(ref.path);
    const data = record?.data as { initiated_by?: string; priority?: number; compatibility_test?: { metrics?: Metrics } } | undefined;
    entries.set(ref.path, {
      ...ref,
      status: 'approved',
      initiatedBy: data?.initiated_by,
      priority: data?.priority,
      metrics: data?.compatibility_test?.metrics,
    });
  }
  for (const pull of [...pulls].sort((a, b) => a.number - b.number)) {
    if (pull.state === 'merged') continue;
    for (const path of pull.paths) {
      const ref = associationAt(path);
      if (!ref || !matches(filter, ref.benchmark, ref.kind, ref.entity)) continue;
      const existing = entries.get(path);
      if (existing?.status === 'approved') continue;
      // An open PR wins over a closed one; among the same state, the later PR.
      if (existing?.status === 'pending' && pull.state === 'closed') continue;
      entries.set(path, {
        ...ref,
        status: pull.state === 'open' ? 'pending' : 'rejected',
        initiatedBy: pull.author,
        pull: { number: pull.number, url: pull.url, author: pull.author },
      });
    }
  }
  return [...entries.values()].sort(
    (a, b) => a.benchmark.localeCompare(b.benchmark) || a.kind.localeCompare(b.kind) || a.entity.localeCompare(b.entity),
  );
}

/** The latest of the pull requests that touch a path: an open one first, then the most recent. */
export function latestPull(pulls: readonly PullRequest[]): PullRequest | undefined {
  const open = pulls.filter((p) => p.state === 'open');
  const pick = open.length ? open : [...pulls];
  return pick.sort((a, b) => b.number - a.number)[0];
}

export interface AssociationTarget {
  path: string;
  kind: 'model' | 'dataset';
  entity: string;
}

/** The association a command names with -b and -m or -d. */
export function associationTarget(benchmark: string, model?: string, dataset?: string): AssociationTarget {
  if (!!model === !!dataset) throw new MedperfError('bad-arguments', 'name either a model (-m OWNER/CUBE) or a dataset (-d OWNER/NAME)');
  for (const id of [model, dataset]) {
    if (id && !/^[^/]+\/[^/]+$/.test(id)) throw new MedperfError('bad-id', `${id}: an id is <owner>/<name>`);
  }
  return model
    ? { path: paths.modelAssociation(benchmark, model), kind: 'model', entity: model }
    : { path: paths.datasetAssociation(benchmark, dataset!), kind: 'dataset', entity: dataset! };
}

/**
 * The open pull request a review of an association acts on; otherwise an error saying where the
 * association stands (already approved, rejected, never asked for). `pulls` are the pull requests
 * that touch its path, `onMain` whether main holds it.
 */
export function pullToReview(target: AssociationTarget, benchmark: string, pulls: readonly PullRequest[], onMain: boolean): PullRequest {
  const latest = latestPull(pulls);
  if (latest?.state === 'open') return latest;
  if (onMain) {
    throw new MedperfError('already-approved', `the ${target.kind} ${target.entity} is already approved for ${benchmark}; nothing to review`);
  }
  if (latest?.state === 'closed') {
    throw new MedperfError('already-rejected', `the association of the ${target.kind} ${target.entity} with ${benchmark} was rejected (pull request #${latest.number} is closed); the owner may ask again`);
  }
  throw new AssociationNotFoundError(`no pending association of the ${target.kind} ${target.entity} with ${benchmark}; see \`medperf-git association ls -b ${benchmark}\``);
}

/** Who may approve, reject or reprioritise a benchmark's associations: its committee. */
export function requireCommittee(login: string, name: string, benchmark: BenchmarkRecord, what: string): void {
  if (!benchmark.committee.includes(login)) {
    throw new NotCommitteeError(
      `${login} is not on the committee of the benchmark ${name} (${benchmark.committee.join(', ')}); only the committee can ${what}`,
    );
  }
}
