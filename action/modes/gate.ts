// gate (pull_request_target, or workflow_run after a review): the approvals a PR still needs, as
// the required status `medperf-git/approval`. The base branch is the checkout; the PR's files are
// read through the API as data and laid over it. Where no human approval is needed and the change
// validates, the gate may land it: merged now when GitHub says it can merge, else auto-merge; a
// merge made with the workflow's token starts no workflow, so the gate dispatches the pages one.
import * as core from '@actions/core';
import { evaluateGate, type GateDecision } from '../../registry/gate.ts';
import { createView } from '../../registry/load.ts';
import { checkSealedResults } from '../../registry/sealed-check.ts';
import { validateChange } from '../../registry/validate.ts';
import { dispatchWorkflow, landPull, pullReviews, setStatus } from '../../registry/forge/github-rest.ts';
import { type GitHub, github } from '../github.ts';
import { statusDescription } from '../report.ts';
import type { Settings } from '../settings.ts';
import { changeOfEvent } from './pull.ts';

export const GATE_CONTEXT = 'medperf-git/approval';

export async function gateMode(s: Settings): Promise<GateDecision | undefined> {
  const change = await changeOfEvent(s);
  if (!change) return undefined;
  const { gh, pull, base, head, changed } = change;
  const reviews = await pullReviews(gh, s.repo, pull.number);
  const gate = await evaluateGate({ base: createView(base), head: createView(head), changed, author: pull.author, reviews, headSha: pull.headSha });
  // Committee-only results are opened here, with the site key, and checked as clear ones are;
  // a finding (or no key to check with) holds the pull request, whatever its approvals.
  const sealed = await checkSealedResults({ base, head, changed, author: pull.author, identities: s.siteKeys });
  for (const f of sealed) core.error(f.message, { file: s.pathInRepo(f.path), startLine: f.line, startColumn: f.column, title: f.rule });
  const decision: GateDecision = sealed.length
    ? { ...gate, satisfied: false, autoMergeable: false, summary: `encrypted results: ${sealed.length} finding${sealed.length === 1 ? '' : 's'} (see the gate's log)` }
    : gate;
  await setStatus(gh, s.repo, pull.headSha, {
    state: decision.satisfied ? 'success' : sealed.length ? 'failure' : 'pending',
    context: GATE_CONTEXT,
    description: statusDescription(decision.summary),
  });
  core.setOutput('satisfied', decision.satisfied);
  core.setOutput('summary', decision.summary);
  core.info(`#${pull.number}: ${decision.summary}`);
  if (!s.autoMerge || !decision.autoMergeable) return decision;
  if (pull.state !== 'open') {
    // Merged by auto-merge, which the gate enabled: that push, made for the workflow's token,
    // started no workflow, so the leaderboard is rebuilt from here.
    if (pull.mergedByBot) {
      core.setOutput('merged', true);
      await publish(gh, s, pull.baseRef);
    }
    return decision;
  }
  const findings = await validateChange({ head, base, changed, author: pull.author });
  if (findings.length) {
    core.info(`#${pull.number}: ${findings.length} findings; not merging`);
    return decision;
  }
  // The approval status is already set; a repository that allows neither gets a warning, not a failed gate.
  let merged = false;
  try {
    const landed = await landPull(gh, s.repo, pull.number);
    if (landed.merged) {
      core.info(`#${pull.number}: no approval needed and every check passes; merged (${landed.method}) at ${landed.sha.slice(0, 12)}`);
      core.setOutput('merged', true);
      merged = true;
    } else if (landed.behind) {
      // An update made with this workflow's token would start no validation of the new head.
      core.notice(
        `#${pull.number} needs no approval, but it is behind ${pull.baseRef}, which the registry requires up to date: auto-merge is enabled (${landed.method}) and GitHub merges it once its author updates the branch ("Update branch", or a push that merges ${pull.baseRef}) and the checks pass`,
      );
      core.setOutput('auto-merge', true);
      core.setOutput('behind', true);
    } else {
      core.info(`#${pull.number}: no approval needed; auto-merge enabled (${landed.method}): GitHub merges it once its required checks pass`);
      core.setOutput('auto-merge', true);
    }
  } catch (error) {
    core.warning(
      `#${pull.number} needs no approval, but could not be merged or set to auto-merge (${(error as Error).message}); allow auto-merge in the repository settings and give the gate workflow contents, pull-requests and actions: write`,
    );
    core.setOutput('auto-merge', false);
    return decision;
  }
  if (merged) await publish(gh, s, pull.baseRef);
  return decision;
}

/** Dispatches the leaderboard's workflow on the base branch; a failure is a warning (the merge stands). */
async function publish(gh: GitHub, s: Settings, branch: string): Promise<void> {
  try {
    await dispatchWorkflow(gh, s.repo, s.pagesWorkflow, branch);
    core.info(`dispatched ${s.pagesWorkflow} on ${branch} to rebuild the leaderboard`);
  } catch (error) {
    core.warning(`merged, but could not dispatch ${s.pagesWorkflow} to rebuild the leaderboard (${(error as Error).message}); give the gate workflow actions: write, or run that workflow by hand`);
  }
}
