// comment (workflow_run after validate): one comment per PR, edited in place, with the problems in
// plain words and, for result PRs, where the models would rank. The findings are computed again
// here from the PR's files read as data, so nothing the PR's own run produced is trusted.
import * as core from '@actions/core';
import { previewLeaderboards } from '../../registry/leaderboard.ts';
import { createView } from '../../registry/load.ts';
import { validateChange } from '../../registry/validate.ts';
import { upsertReport } from '../github.ts';
import { commentBody } from '../report.ts';
import type { Settings } from '../settings.ts';
import { changeOfEvent } from './pull.ts';

export async function commentMode(s: Settings): Promise<string | undefined> {
  const change = await changeOfEvent(s);
  if (!change) return undefined;
  const { gh, pull, base, head, changed } = change;
  const findings = await validateChange({ head, base, changed, author: pull.author });
  const preview = findings.length ? [] : await previewLeaderboards(createView(base), createView(head), changed);
  const body = commentBody({ findings, preview, headSha: pull.headSha });
  const { id, created } = await upsertReport(gh, s.repo, pull.number, body);
  core.setOutput('comment-id', id);
  core.info(`${created ? 'wrote' : 'updated'} comment ${id} on #${pull.number}`);
  return body;
}
