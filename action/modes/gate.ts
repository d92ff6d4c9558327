// gate (pull_request_target, or workflow_run after a review): the approvals a PR still needs, as
// the required status `medperf-git/approval`. The base branch is the checkout; the PR's files are
// read through the API as data and laid over it. Where no human approval is needed and the change
// validates, auto-merge may be enabled.
import * as core from '@actions/core';
import { evaluateGate, type GateDecision } from '../../registry/gate.ts';
import { createView } from '../../registry/load.ts';
import { validateChange } from '../../registry/validate.ts';
import { enableAutoMerge, pullReviews, setStatus } from '../../registry/forge/github-rest.ts';
import { statusDescription } from '../report.ts';
import type { Settings } from '../settings.ts';
import { changeOfEvent } from './pull.ts';

export const GATE_CONTEXT = 'medperf-git/approval';

export async function gateMode(s: Settings): Promise<GateDecision | undefined> {
  const change = await changeOfEvent(s);
  if (!change) return undefined;
  const { gh, pull, base, head, changed } = change;
  const reviews = await pullReviews(gh, s.repo, pull.number);
  const decision = await evaluateGate({ base: createView(base), head: createView(head), changed, author: pull.author, reviews, headSha: pull.headSha });
  await setStatus(gh, s.repo, pull.headSha, {
    state: decision.satisfied ? 'success' : 'pending',
    context: GATE_CONTEXT,
    description: statusDescription(decision.summary),
  });
  core.setOutput('satisfied', decision.satisfied);
  core.setOutput('summary', decision.summary);
  core.info(`#${pull.number}: ${decision.summary}`);
  if (s.autoMerge && decision.autoMergeable && pull.state === 'open') {
    const findings = await validateChange({ head, base, changed, author: pull.author });
    if (findings.length === 0) {
      // The approval status is already set; a repository that does not allow auto-merge gets a
      // warning saying so, not a failed gate.
      try {
        await enableAutoMerge(gh, { node_id: pull.nodeId });
        core.info(`#${pull.number}: no approval needed and every check passes; auto-merge enabled`);
        core.setOutput('auto-merge', true);
      } catch (error) {
        core.warning(`#${pull.number} needs no approval, but auto-merge could not be enabled (${(error as Error).message}); allow auto-merge in the repository settings and give the workflow contents: write and pull-requests: write`);
        core.setOutput('auto-merge', false);
      }
    } else {
      core.info(`#${pull.number}: ${findings.length} findings; not enabling auto-merge`);
    }
  }
  return decision;
}
