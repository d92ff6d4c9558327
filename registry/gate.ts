// The approval gate: which human approvals a change needs, and whether its reviews give them. It is
// MedPerf's approval flow on pull requests: an admin approves a benchmark, a benchmark committee
// member approves a model's or a dataset's association (unless the benchmark's policy approves it
// automatically), and results need no one: they need approved associations, which the
// result-preconditions rule checks. The author never approves their own change.
//
// Pure: two views, a list of paths, a login and reviews in; a decision out.
import { isDeepStrictEqual } from 'node:util';
import { caseKey, isAuxiliaryPath, isOutsideRegistry, parseRecordPath, paths, sameLogin, type RecordPath } from './layout.ts';
import type { AutoApproval, BenchmarkRecord, RegistryConfig } from './records.ts';
import type { LoadedRecord, RegistryView } from './view.ts';

export interface Review {
  login: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  submittedAt: string;
  /** The commit the review was given on: an approval approves that commit only. */
  commitId?: string;
}

export interface GateInput {
  base: RegistryView;
  head: RegistryView;
  changed: string[];
  author: string;
  reviews: Review[];
  /**
   * The commit the change is at now (the PR's head). Only reviews given on it count: a push after
   * an approval needs a new approval. Without it, no review counts.
   */
  headSha?: string;
}

export interface GateRequirement {
  /** What needs approving and why, in a sentence. */
  reason: string;
  paths: string[];
  /** Who may approve it (never the author). */
  approvers: string[];
  /** Approvers whose latest review approves the current head commit. */
  approvedBy: string[];
  met: boolean;
  /** Approvers whose approval was given on an earlier commit, and so no longer counts. */
  staleApprovals?: string[];
}

export interface GateDecision {
  satisfied: boolean;
  /** The human approvals the change needs; empty when it needs none. */
  requirements: GateRequirement[];
  /** Satisfied, and without any human approval: a bot may merge it. */
  autoMergeable: boolean;
  summary: string;
}


/**
 * Who approves, by the latest review of each login, as GitHub counts them: a comment neither gives
 * nor takes an approval, requesting changes or a dismissal withdraws it. The author's own reviews
 * never count. An approval counts only for the commit it was given on (`headSha`); the logins whose
 * latest approval is of an earlier commit are `stale`.
 */
export function approvingLogins(
  reviews: readonly Review[],
  author: string,
  headSha?: string,
): { current: Set<string>; stale: Set<string> } {
  const latest = new Map<string, { review: Review; at: number; order: number }>();
  reviews.forEach((r, order) => {
    if (r.state === 'COMMENTED' || sameLogin(r.login, author)) return;
    const at = Date.parse(r.submittedAt);
    const key = caseKey(r.login);
    const prev = latest.get(key);
    const time = Number.isNaN(at) ? -Infinity : at;
    if (!prev || time > prev.at || (time === prev.at && order > prev.order)) latest.set(key, { review: r, at: time, order });
  });
  const current = new Set<string>();
  const stale = new Set<string>();
  for (const [login, { review }] of latest) {
    if (review.state !== 'APPROVED') continue;
    if (headSha !== undefined && review.commitId !== undefined && review.commitId.toLowerCase() === headSha.toLowerCase()) current.add(login);
    else stale.add(login);
  }
  return { current, stale };
}

/** A group of logins who can approve, and how a message names them. */
interface Approvers {
  key: string;
  /** "a registry admin", "a committee member of chestxray". */
  role: string;
  logins: string[];
  /** Why the logins could not be read (a record on the base that does not load): no one can approve. */
  unknown?: string;
}

interface Need {
  approvers: Approvers;
  reason: string;
  path: string;
}

function policyAllows(policy: AutoApproval | undefined, owner: string): string | undefined {
  if (policy?.mode === 'always') return 'always';
  if (policy?.mode === 'allowlist' && (policy.allowlist ?? []).some((l) => sameLogin(l, owner))) {
    return `allowlist, which lists ${owner}`;
  }
  return undefined;
}

/**
 * Whether an association of `owner`'s model or dataset with a benchmark is approved without the
 * committee's review, and by which rule: the benchmark's policy, or the registry's default when the
 * benchmark sets none.
 */
export function autoApprovedBy(kind: 'model' | 'dataset', owner: string, benchmark: BenchmarkRecord, config: RegistryConfig | undefined): string | undefined {
  const field = kind === 'model' ? 'model_auto_approval' : 'dataset_auto_approval';
  return policyAllows(benchmark[field] ?? config?.defaults?.[field], owner);
}

type AssociationWhere = Extract<RecordPath, { kind: 'model-association' | 'dataset-association' }>;

/**
 * A record the gate reads from the base: absent, loaded, or there but not loading. The gate never
 * reads who approves from the change itself, and a record it cannot read means "needs an admin".
 */
type BaseRecord<T> = { state: 'absent' } | { state: 'loaded'; record: T } | { state: 'unreadable' };

async function fromBase<T>(view: RegistryView, path: string, get: () => Promise<T | undefined>): Promise<BaseRecord<T>> {
  const record = await get();
  if (record) return { state: 'loaded', record };
  return (await view.tree.has(path)) ? { state: 'unreadable' } : { state: 'absent' };
}

const unreadable = (path: string) => `${path} on the base does not load`;

export async function evaluateGate(input: GateInput): Promise<GateDecision> {
  const { base, head, author } = input;
  const config = await fromBase(base, paths.registry(), () => base.registryConfig());
  // A registry's very first change (an empty base) has no admins yet: the ones it adds count. A
  // base with records but no readable registry.yaml has admins no one can read: no one approves.
  const firstChange = config.state === 'absent' && (await base.tree.list()).length === 0;
  const headConfig = firstChange ? await head.registryConfig() : undefined;
  const baseConfig = config.state === 'loaded' ? config.record : undefined;
  const admins: Approvers = {
    key: 'admins',
    role: 'a registry admin',
    logins: [...((baseConfig ?? headConfig)?.admins ?? [])],
    ...(config.state === 'loaded' || firstChange
      ? {}
      : {
          unknown:
            config.state === 'unreadable'
              ? `${unreadable('registry.yaml')}, so its admins cannot be read: fix registry.yaml on main first (\`medperf-git validate\` says what is wrong)`
              : 'the base has records but no registry.yaml, so its admins cannot be read: restore registry.yaml on main first',
        }),
  };
  const needs: Need[] = [];
  const notes: string[] = [];

  // The owners of an association's cube or dataset: the path's owner and the base record's
  // `owners` (never the change's own list; a record that does not load adds no one).
  const ownersOf = async (where: AssociationWhere): Promise<string[]> => {
    const entity = where.kind === 'model-association' ? await base.cube(where.model) : await base.dataset(where.dataset);
    return [...new Set([where.owner, ...(entity?.data.owners ?? [])])];
  };
  const benchmarkOnBase = async (benchmark: string) => fromBase(base, paths.benchmark(benchmark), () => base.benchmark(benchmark));
  const isCommittee = (c: Approvers) => c.logins.some((l) => sameLogin(l, author));

  const association = async (where: AssociationWhere, path: string, existed: boolean) => {
    const isModel = where.kind === 'model-association';
    const what = isModel ? `the model ${where.model}` : `the dataset ${where.dataset}`;
    const before = existed ? ((await base.record(path)) as LoadedRecord<'model-association'> | undefined) : undefined;
    const after = (await head.record(path)) as LoadedRecord<'model-association'> | undefined;
    let priorityOnly = false;
    if (existed && before && after && isModel) {
      const { priority: p0, ...rest0 } = before.data;
      const { priority: p1, ...rest1 } = after.data;
      priorityOnly = isDeepStrictEqual(rest0, rest1) && p0 !== p1;
    }
    if (!priorityOnly) {
      // Consent: an association is its cube's or dataset's owner's request. Opened by anyone else
      // (a committee member, a co-owner listed nowhere), it waits for an owner's approval as well.
      const owners = await ownersOf(where);
      if (!owners.some((l) => sameLogin(l, author))) {
        needs.push({
          approvers: { key: `owners:${path}`, role: `an owner of ${isModel ? where.model : where.dataset}`, logins: owners },
          reason: `${author} asks for ${what} to join ${where.benchmark}, but only its owner (${owners.join(', ')}) may ask`,
          path,
        });
      }
    }
    const bench = await benchmarkOnBase(where.benchmark);
    if (bench.state === 'absent') {
      // Submitted with its benchmark (the reference model's association): the admin who approves
      // the benchmark approves it too.
      needs.push({ approvers: admins, reason: `the benchmark ${where.benchmark} is new`, path });
      return;
    }
    if (bench.state === 'unreadable') {
      needs.push({
        approvers: admins,
        reason: `${unreadable(paths.benchmark(where.benchmark))}, so its committee and policy cannot be read`,
        path,
      });
      return;
    }
    const committee: Approvers = {
      key: `committee:${where.benchmark}`,
      role: `a committee member of ${where.benchmark}`,
      logins: [...bench.record.data.committee],
    };
    if (priorityOnly) {
      // Priorities are the committee's to set: a member's change needs no one else.
      if (isCommittee(committee)) return;
      needs.push({ approvers: committee, reason: `the priority of ${what} in ${where.benchmark} changes`, path });
      return;
    }
    if (committee.logins.some((l) => sameLogin(l, where.owner))) {
      // MedPerf approves a benchmark owner's own models on submission; here, the committee's own.
      notes.push(`${what} belongs to the committee of ${where.benchmark}`);
      return;
    }
    const auto = autoApprovedBy(isModel ? 'model' : 'dataset', where.owner, bench.record.data, baseConfig);
    if (auto) {
      notes.push(`${what} is approved for ${where.benchmark} by its ${isModel ? 'model' : 'dataset'} policy (${auto})`);
      return;
    }
    needs.push({
      approvers: committee,
      reason: existed ? `the association of ${what} with ${where.benchmark} changes` : `${what} asks to join ${where.benchmark}`,
      path,
    });
  };

  for (const path of [...input.changed].sort()) {
    const inBase = await base.tree.has(path);
    const inHead = await head.tree.has(path);
    const where = parseRecordPath(path);
    if (admins.unknown) {
      // Who approves what cannot be read off this base: every path waits for an admin.
      needs.push({ approvers: admins, reason: 'the registry configuration on the base does not load', path });
      continue;
    }
    if (!where) {
      // The registry's own automation (workflows, CODEOWNERS, and for a registry in a folder the
      // repository around it) is as sensitive as registry.yaml. A registry's first change (an empty
      // base) sets them up with it.
      if (isAuxiliaryPath(path) && !firstChange) {
        needs.push({ approvers: admins, reason: isOutsideRegistry(path) ? `the repository around the registry's folder changes` : `the registry's own files change`, path });
      }
      continue;
    }
    switch (where.kind) {
      case 'registry':
        if (!firstChange) needs.push({ approvers: admins, reason: 'registry.yaml changes', path });
        break;
      case 'benchmark':
        needs.push({
          approvers: admins,
          reason: !inBase
            ? `the benchmark ${where.benchmark} is new`
            : !inHead
              ? `the benchmark ${where.benchmark} is removed`
              : `the benchmark ${where.benchmark} changes`,
          path,
        });
        break;
      case 'model-association':
      case 'dataset-association':
        // Withdrawing an association needs no one; adding or changing one does.
        if (inHead) await association(where, path, inBase);
        break;
      default:
        // Cubes and datasets are their owners' (the ownership rule); results need approved
        // associations (the result-preconditions rule), not a reviewer.
        break;
    }
  }

  const approving = approvingLogins(input.reviews, author, input.headSha);
  const groups = new Map<string, GateRequirement & { role: string; all: string[]; unknown?: string }>();
  for (const need of needs) {
    const key = `${need.approvers.key}\n${need.reason}`;
    let g = groups.get(key);
    if (!g) {
      const approvers = need.approvers.unknown ? [] : need.approvers.logins.filter((l) => !sameLogin(l, author));
      const approvedBy = approvers.filter((l) => approving.current.has(caseKey(l)));
      const stale = approvers.filter((l) => approving.stale.has(caseKey(l)));
      g = {
        reason: need.reason,
        paths: [],
        approvers,
        approvedBy,
        met: approvedBy.length > 0,
        ...(stale.length && !approvedBy.length ? { staleApprovals: stale } : {}),
        role: need.approvers.role,
        all: need.approvers.logins,
        ...(need.approvers.unknown ? { unknown: need.approvers.unknown } : {}),
      };
      groups.set(key, g);
    }
    g.paths.push(need.path);
  }
  const requirements = [...groups.values()];
  const satisfied = requirements.every((r) => r.met);
  const summary = summarize(requirements, notes, author);
  return {
    satisfied,
    requirements: requirements.map(({ role: _r, all: _a, unknown: _u, ...r }) => r),
    autoMergeable: satisfied && requirements.length === 0,
    summary,
  };
}

type Group = GateRequirement & { role: string; all: string[]; unknown?: string };

function whoApproves(r: Group, author: string): string {
  if (r.unknown) return `${r.role}, but ${r.unknown}`;
  const other = r.all.some((l) => sameLogin(l, author)) ? r.role.replace(/^a /, 'another ') : r.role;
  if (r.approvers.length === 0) {
    return `${other}, but there is no one else to ask: ${author} may not approve their own change`;
  }
  const stale = r.staleApprovals?.length
    ? `; ${r.staleApprovals.join(', ')} approved an earlier commit, and an approval counts only for the commit it was given on: ask for a review of the latest commit`
    : '';
  return `${other} (${r.approvers.join(', ')})${stale}`;
}

function summarize(requirements: Group[], notes: string[], author: string): string {
  if (requirements.length === 0) {
    return ['no human approval needed', ...notes].join('; ');
  }
  const waiting = requirements.filter((r) => !r.met);
  if (waiting.length === 0) {
    return `approved: ${requirements.map((r) => `${r.reason}, approved by ${r.approvedBy.join(', ')}`).join('; ')}`;
  }
  // One approver group may cover several reasons: say each group once.
  const asks = [...new Set(waiting.map((r) => whoApproves(r, author)))];
  return `needs approval from ${asks.join(' and from ')}`;
}

/** The decision as lines for a terminal, a PR comment or a job summary. */
export function formatGateDecision(decision: GateDecision): string[] {
  const lines = [`approval gate: ${decision.satisfied ? 'satisfied' : 'waiting'} — ${decision.summary}`];
  for (const r of decision.requirements) {
    const status = r.met
      ? `approved by ${r.approvedBy.join(', ')}`
      : r.approvers.length
        ? `waiting for one of ${r.approvers.join(', ')}` +
          (r.staleApprovals?.length ? ` (${r.staleApprovals.join(', ')} approved an earlier commit; the latest needs a new review)` : '')
        : 'no one else can approve it';
    lines.push(`  ${r.met ? '✓' : '✗'} ${r.reason}: ${status}`);
    for (const p of r.paths) lines.push(`      ${p}`);
  }
  if (decision.autoMergeable) lines.push('  no human approval is needed: the change merges once validation passes');
  return lines;
}
