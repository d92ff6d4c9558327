// The protection a registry repository on GitHub needs, and what has to change to get there. Pure:
// `medperf-git registry protect` reads the repository's state, asks `protectionChanges`, applies
// what it lists and prints it.
//
// - Only our checks satisfy our checks: `validate` (the validate job's check run) and
//   `medperf-git/approval` (the gate's status) are required, each pinned to the app whose token
//   the workflows hold (GitHub Actions), so a collaborator posting the status with their own token
//   unlocks nothing.
// - Branches must be up to date: the rules read records on main (references, approved
//   associations), so a PR is merged only as checked against the main it will land on.
// - Stale approvals are dismissed on push (the gate also counts an approval only for the commit it
//   was given on); no approval count is required there: the gate's status is the approval rule.
// - Administrators are held to it; merge commits only (each keeps the commit that was reviewed);
//   auto-merge allowed, for the gate; Pages built by GitHub Actions.

export const VALIDATE_CHECK = 'validate';
export const APPROVAL_CHECK = 'medperf-git/approval';
/** The GitHub Actions app on github.com: the app behind every workflow's GITHUB_TOKEN. */
export const GITHUB_ACTIONS_APP_ID = 15368;

export interface RepositoryProtection {
  defaultBranch: string;
  merge: { mergeCommit: boolean; squash: boolean; rebase: boolean; autoMerge: boolean };
  /** Undefined when the default branch is not protected. */
  branch?: {
    checks: Array<{ context: string; appId: number | null }>;
    strict: boolean;
    enforceAdmins: boolean;
    dismissStaleReviews: boolean;
    requiredApprovals: number;
    codeOwnerReviews: boolean;
  };
  pages: 'workflow' | 'legacy' | 'none';
}

export function desiredProtection(defaultBranch: string, appId = GITHUB_ACTIONS_APP_ID): RepositoryProtection {
  return {
    defaultBranch,
    merge: { mergeCommit: true, squash: false, rebase: false, autoMerge: true },
    branch: {
      checks: [VALIDATE_CHECK, APPROVAL_CHECK].map((context) => ({ context, appId })),
      strict: true,
      enforceAdmins: true,
      dismissStaleReviews: true,
      requiredApprovals: 0,
      codeOwnerReviews: false,
    },
    pages: 'workflow',
  };
}

export interface ProtectionChange {
  /** What changes, in words, with what it was. */
  line: string;
  /** Which API call makes it. */
  applies: 'merge-settings' | 'branch-protection' | 'pages';
}

const methods = (m: RepositoryProtection['merge']) =>
  [m.mergeCommit && 'merge commits', m.squash && 'squash merges', m.rebase && 'rebase merges'].filter(Boolean).join(', ') || 'none';
const checkList = (checks: Array<{ context: string; appId: number | null }>) =>
  checks.length ? checks.map((c) => `${c.context} (${c.appId === null ? 'from any source' : `from app ${c.appId}`})`).join(', ') : 'none';
const sameChecks = (a: RepositoryProtection['branch'], b: RepositoryProtection['branch']) =>
  JSON.stringify([...(a?.checks ?? [])].sort((x, y) => x.context.localeCompare(y.context))) ===
  JSON.stringify([...(b?.checks ?? [])].sort((x, y) => x.context.localeCompare(y.context)));

/** What differs between the repository as it is and as it should be, one line per setting. */
export function protectionChanges(current: RepositoryProtection, desired: RepositoryProtection): ProtectionChange[] {
  const out: ProtectionChange[] = [];
  const branch = current.defaultBranch;
  if (methods(current.merge) !== methods(desired.merge)) {
    out.push({ applies: 'merge-settings', line: `merge methods: ${methods(desired.merge)} (was ${methods(current.merge)})` });
  }
  if (current.merge.autoMerge !== desired.merge.autoMerge) {
    out.push({ applies: 'merge-settings', line: `auto-merge: ${desired.merge.autoMerge ? 'allowed' : 'not allowed'} (was ${current.merge.autoMerge ? 'allowed' : 'not allowed'})` });
  }
  const have = current.branch;
  const want = desired.branch!;
  const yes = (b: boolean | undefined, on: string, off: string) => (b ? on : off);
  if (!have) out.push({ applies: 'branch-protection', line: `${branch}: protected (was not protected)` });
  if (!sameChecks(have, want)) out.push({ applies: 'branch-protection', line: `${branch}: required checks ${checkList(want.checks)} (was ${checkList(have?.checks ?? [])})` });
  if (have?.strict !== want.strict) {
    out.push({ applies: 'branch-protection', line: `${branch}: pull requests must be up to date before merging (was ${yes(have?.strict, 'required', 'not required')})` });
  }
  if (have?.enforceAdmins !== want.enforceAdmins) out.push({ applies: 'branch-protection', line: `${branch}: administrators are held to the protection (was ${yes(have?.enforceAdmins, 'held', 'exempt')})` });
  if (have?.dismissStaleReviews !== want.dismissStaleReviews) {
    out.push({ applies: 'branch-protection', line: `${branch}: approvals are dismissed when new commits are pushed (was ${yes(have?.dismissStaleReviews, 'dismissed', 'kept')})` });
  }
  if ((have?.requiredApprovals ?? 0) !== want.requiredApprovals || (have?.codeOwnerReviews ?? false) !== want.codeOwnerReviews) {
    out.push({
      applies: 'branch-protection',
      line: `${branch}: no approval count or code-owner review required; the ${APPROVAL_CHECK} status is the approval rule (was ${have?.requiredApprovals ?? 0} approvals${have?.codeOwnerReviews ? ', code-owner review' : ''})`,
    });
  }
  if (current.pages !== desired.pages) {
    out.push({ applies: 'pages', line: `Pages: built by GitHub Actions (was ${current.pages === 'none' ? 'not enabled' : 'built from a branch'})` });
  }
  return out;
}
