// The pull request a gate or comment run is about, read fresh through the API. Runs triggered by
// workflow_run name it in the run (same-repository PRs) or by the run's head branch (forks: the
// run names no PR, and the PR may be merged by then, by the auto-merge the gate enabled); the
// PR's head must still be the commit the run saw, or a later run will speak for it.
import * as core from '@actions/core';
import { directoryTree } from '../../registry/trees.ts';
import type { FileTree } from '../../registry/view.ts';
import { github, pullTree, readPull, type GitHub, type Pull } from '../github.ts';
import type { Settings } from '../settings.ts';

export async function pullOfEvent(gh: GitHub, s: Settings): Promise<Pull | undefined> {
  const e = s.event;
  if (e.pull_request) return readPull(gh, s.repo, e.pull_request.number);
  const run = e.workflow_run;
  if (!run) throw new Error(`no pull request in a ${s.eventName} event`);
  let number = run.pull_requests?.[0]?.number;
  if (number === undefined && run.head_repository?.owner?.login && run.head_branch) {
    // Open and closed: "head" filters by the fork's owner and branch (docs.github.com/en/rest/pulls/
    // pulls#list-pull-requests), newest first; the commit the run saw picks the one.
    const { data } = await gh.request('GET /repos/{owner}/{repo}/pulls', {
      ...s.repo,
      state: 'all',
      head: `${run.head_repository.owner.login}:${run.head_branch}`,
      per_page: 100,
    });
    number = data.find((p) => p.head.sha === run.head_sha)?.number;
  }
  if (number === undefined) {
    core.info(`run ${run.id} is not about a pull request of this repository; nothing to do`);
    return undefined;
  }
  const pull = await readPull(gh, s.repo, number);
  if (pull.headSha !== run.head_sha) {
    core.info(`pull request #${number} has moved on to ${pull.headSha}; the run for that commit will report`);
    return undefined;
  }
  return pull;
}

/** The change a gate or comment run is about: the PR, the base (the checkout) and the PR's files laid over it. */
export async function changeOfEvent(s: Settings): Promise<{ gh: GitHub; pull: Pull; base: FileTree; head: FileTree; changed: string[] } | undefined> {
  const gh = github(s.token, s.apiUrl);
  const pull = await pullOfEvent(gh, s);
  if (!pull) return undefined;
  const base = directoryTree(s.path);
  const { head, changed } = await pullTree(gh, s.repo, pull, base, { repoDir: s.path, prefix: s.prefix, serverUrl: s.serverUrl, token: s.token });
  return { gh, pull, base, head, changed };
}
