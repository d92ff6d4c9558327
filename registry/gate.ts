// The approval gate: which human approvals a change needs, and whether its reviews give them. It is
// MedPerf's approval flow on pull requests: an admin approves a benchmark, a benchmark committee
// member approves a model's or a dataset's association (unless the benchmark's policy approves it
// automatically), and results need no one: they need approved associations, which the
// result-preconditions rule checks. The author never approves their own change.
//
// Pure: two views, a list of paths, a login and reviews in; a decision out.
import { isDeepStrictEqual } from 'node:util';
import { isAuxiliaryPath, parseRecordPath, paths, type RecordPath } from './layout.ts';
import type { AutoApproval } from './records.ts';
import type { LoadedRecord, RegistryView } from './view.ts';

export interface Review {
  login: string;
  state: 'APPROVED' | 'CHANGES_REQUESTED' | 'COMMENTED' | 'DISMISSED';
  submittedAt: string;
}

export interface GateInput {
  base: RegistryView;
  head: RegistryView;
  changed: string[];
  author: string;
  reviews: Review[];
}

export interface GateRequirement {
  /** What needs approving and why, in a sentence. */
  reason: string;
  paths: string[];
  /** Who may approve it (never the author). */
  approvers: string[];
  /** Approvers whose latest review approves. */
  approvedBy: string[];
  met: boolean;
}

export interface GateDecision {
  satisfied: boolean;
  /** The human approvals the change needs; empty when it needs none. */
  requirements: GateRequirement[];
  /** Satisfied, and without any human approval: a bot may merge it. */
  autoMergeable: boolean;
  summary: string;
}

const lower = (s: string) => s.toLowerCase();

/**
 * Who approves, by the latest review of each login, as GitHub counts them: a comment neither gives
 * nor takes an approval, requesting changes or a dismissal withdraws it. The author's own reviews
 * never count.
 */
export function approvingLogins(reviews: readonly Review[], author: string): Set<string> {
  const latest = new Map<string, { state: Review['state']; at: number; order: number }>();
  reviews.forEach((r, order) => {
    if (r.state === 'COMMENTED' || lower(r.login) === lower(author)) return;
    const at = Date.parse(r.submittedAt);
    const key = lower(r.login);
    const prev = latest.get(key);
    const time = Number.isNaN(at) ? -Infinity : at;
    if (!prev || time > prev.at || (time === prev.at && order > prev.order)) latest.set(key, { state: r.state, at: time, order });
  });
  return new Set([...latest].filter(([, v]) => v.state === 'APPROVED').map(([login]) => login));
}

/** A group of logins who can approve, and how a message names them. */
interface Approvers {
  key: string;
  /** "a registry admin", "a committee member of chestxray". */
  role: string;
  logins: string[];
}

interface Need {
  approvers: Approvers;
  reason: string;
  path: string;
}

function policyAllows(policy: AutoApproval | undefined, owner: string): string | undefined {
  if (policy?.mode === 'always') return 'always';
  if (policy?.mode === 'allowlist' && (policy.allowlist ?? []).some((l) => lower(l) === lower(owner))) {
    return `allowlist, which lists ${owner}`;
  }
  return undefined;
}

type AssociationWhere = Extract<RecordPath, { kind: 'model-association' | 'dataset-association' }>;

export async function evaluateGate(input: GateInput): Promise<GateDecision> {
  const { base, head, author } = input;
  const baseConfig = await base.registryConfig();
  const headConfig = await head.registryConfig();
  // A registry's very first change has no admins on its base yet: the ones it adds count.
  const admins: Approvers = {
    key: 'admins',
    role: 'a registry admin',
    logins: [...(baseConfig ?? headConfig)?.admins ?? []],
  };
  const needs: Need[] = [];
  const notes: string[] = [];

  const committeeOf = async (benchmark: string): Promise<Approvers> => {
    const rec = (await base.benchmark(benchmark)) ?? (await head.benchmark(benchmark));
    return { key: `committee:${benchmark}`, role: `a committee member of ${benchmark}`, logins: [...(rec?.data.committee ?? [])] };
  };
  const isCommittee = (c: Approvers) => c.logins.some((l) => lower(l) === lower(author));

  const association = async (where: AssociationWhere, path: string, existed: boolean) => {
    const isModel = where.kind === 'model-association';
    const what = isModel ? `the model ${where.model}` : `the dataset ${where.dataset}`;
    const committee = await committeeOf(where.benchmark);
    const before = existed ? ((await base.record(path)) as LoadedRecord<'model-association'> | undefined) : undefined;
    const after = (await head.record(path)) as LoadedRecord<'model-association'> | undefined;
    if (existed && before && after && isModel) {
      const { priority: p0, ...rest0 } = before.data;
      const { priority: p1, ...rest1 } = after.data;
      if (isDeepStrictEqual(rest0, rest1) && p0 !== p1) {
        // Priorities are the committee's to set: a member's change needs no one else.
        if (isCommittee(committee)) return;
        needs.push({ approvers: committee, reason: `the priority of ${what} in ${where.benchmark} changes`, path });
        return;
      }
    }
    if (!(await base.tree.has(paths.benchmark(where.benchmark)))) {
      // Submitted with its benchmark (the reference model's association): the admin who approves
      // the benchmark approves it too.
      needs.push({ approvers: admins, reason: `the benchmark ${where.benchmark} is new`, path });
      return;
    }
    if (committee.logins.some((l) => lower(l) === lower(where.owner))) {
      // MedPerf approves a benchmark owner's own models on submission; here, the committee's own.
      notes.push(`${what} belongs to the committee of ${where.benchmark}`);
      return;
    }
    const bench = (await base.benchmark(where.benchmark)) ?? (await head.benchmark(where.benchmark));
    const field = isModel ? 'model_auto_approval' : 'dataset_auto_approval';
    const policy = bench?.data[field] ?? (baseConfig ?? headConfig)?.defaults?.[field];
    const auto = policyAllows(policy, where.owner);
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
    if (!where) {
      // The registry's own automation (workflows, CODEOWNERS) is as sensitive as registry.yaml.
      // A registry's first change (no registry.yaml on its base) sets them up with it.
      if (isAuxiliaryPath(path) && baseConfig) needs.push({ approvers: admins, reason: `the registry's own files change`, path });
      continue;
    }
    switch (where.kind) {
      case 'registry':
        if (inBase) needs.push({ approvers: admins, reason: 'registry.yaml changes', path });
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

  const approving = approvingLogins(input.reviews, author);
  const groups = new Map<string, GateRequirement & { role: string; all: string[] }>();
  for (const need of needs) {
    const key = `${need.approvers.key}\n${need.reason}`;
    let g = groups.get(key);
    if (!g) {
      const approvers = need.approvers.logins.filter((l) => lower(l) !== lower(author));
      const approvedBy = approvers.filter((l) => approving.has(lower(l)));
      g = {
        reason: need.reason,
        paths: [],
        approvers,
        approvedBy,
        met: approvedBy.length > 0,
        role: need.approvers.role,
        all: need.approvers.logins,
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
    requirements: requirements.map(({ reason, paths, approvers, approvedBy, met }) => ({ reason, paths, approvers, approvedBy, met })),
    autoMergeable: satisfied && requirements.length === 0,
    summary,
  };
}

function whoApproves(r: GateRequirement & { role: string; all: string[] }, author: string): string {
  const other = r.all.some((l) => lower(l) === lower(author)) ? r.role.replace(/^a /, 'another ') : r.role;
  if (r.approvers.length === 0) {
    return `${other}, but there is no one else to ask: ${author} may not approve their own change`;
  }
  return `${other} (${r.approvers.join(', ')})`;
}

function summarize(requirements: Array<GateRequirement & { role: string; all: string[] }>, notes: string[], author: string): string {
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
        ? `waiting for one of ${r.approvers.join(', ')}`
        : 'no one else can approve it';
    lines.push(`  ${r.met ? '✓' : '✗'} ${r.reason}: ${status}`);
    for (const p of r.paths) lines.push(`      ${p}`);
  }
  if (decision.autoMergeable) lines.push('  no human approval is needed: the change merges once validation passes');
  return lines;
}
