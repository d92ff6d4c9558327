// Actions the registry workflows use, pinned to full commit SHAs (a tag or a branch can be moved
// to other code; a commit cannot). The comment beside each pin names the release, for people and
// for Dependabot. The medperf-git Action itself is pinned the same way: the gate, comment and
// pages workflows run it with write tokens.
import { MedperfError } from '../errors.ts';

export const PINNED = {
  checkout: { uses: 'actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683', version: 'v4.2.2' },
  uploadArtifact: { uses: 'actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02', version: 'v4.6.2' },
  uploadPagesArtifact: { uses: 'actions/upload-pages-artifact@56afc609e74202658d3ffba0e8f6dda462b719fa', version: 'v3.0.1' },
  deployPages: { uses: 'actions/deploy-pages@d6db90164ac5ed86f2b6aed7e0febac5b3c0c03e', version: 'v4.0.5' },
} as const;

export function uses(action: { uses: string; version: string }): string {
  return `${action.uses} # ${action.version}`;
}

/** A full commit SHA, as GitHub's "require actions to be pinned to a full-length commit SHA" policy wants it. */
const FULL_SHA = /^[0-9a-f]{40}$/;
const ACTION_REF = /^([A-Za-z0-9_.-]+)\/([A-Za-z0-9_.-]+)((?:\/[A-Za-z0-9_.-]+)*)@(\S+)$/;

export class ActionNotPinnedError extends MedperfError {
  constructor(message: string) {
    super('action-not-pinned', message);
  }
}

/**
 * Checks that an action reference (`owner/repo[/path]@ref`) names a full commit SHA; otherwise
 * throws, saying how to find the commit of the tag or branch given (`git ls-remote`).
 */
export function requirePinned(action: string | undefined, fallbackRef = 'main'): asserts action is string {
  const m = action === undefined ? undefined : ACTION_REF.exec(action);
  if (m && FULL_SHA.test(m[4]!)) return;
  const [owner, repo, path, ref] = m ? [m[1]!, m[2]!, m[3]!, m[4]!] : ['mlcommons', 'medperf-git', '/action', fallbackRef];
  const lookUp = `git ls-remote https://github.com/${owner}/${repo} '${ref}^{}' '${ref}'`;
  const how =
    `pin it to a full commit SHA: \`${lookUp}\` prints the commit (for a tag, the line ending in ^{}), ` +
    `then pass --action ${owner}/${repo}${path}@<that 40-character SHA>`;
  if (action === undefined) throw new ActionNotPinnedError(`name the medperf-git Action the workflows run, pinned to a commit; ${how}`);
  if (!m) throw new ActionNotPinnedError(`--action must be owner/repo[/path]@<commit SHA>, not ${action}; ${how}`);
  throw new ActionNotPinnedError(
    `--action ${action} names ${/^[0-9a-fA-F]{7,40}$/.test(ref) ? 'a short or upper-case SHA' : 'a tag or branch'}, which can be moved to other code, ` +
      `and the gate, comment and pages workflows run the Action with write tokens; ${how}`,
  );
}
