// comment (workflow_run after validate): one comment per PR, edited in place, with the problems in
// plain words and, for result PRs, where the models would rank. The findings are computed again
// here from the PR's files read as data, so nothing the PR's own run produced is trusted.
import * as core from '@actions/core';
import { previewLeaderboards } from '../../registry/leaderboard.ts';
import { createView } from '../../registry/load.ts';
import { directoryTree } from '../../registry/trees.ts';
import { validateChange } from '../../registry/validate.ts';
import { github, pullTree, upsertReport } from '../github.ts';
import { commentBody } from '../report.ts';
import type { Settings } from '../settings.ts';
import { pullOfEvent } from './pull.ts';

export async function commentMode(s: Settings): Promise<string | undefined> {
  const gh = github(s.token, s.apiUrl);
  const pull = await pullOfEvent(gh, s);
  if (!pull) return undefined;
  const base = directoryTree(s.path);
  const { head, changed } = await pullTree(gh, s.repo, pull, base, { repoDir: s.path, prefix: s.prefix, serverUrl: s.serverUrl, token: s.token });
  const findings = await validateChange({ head, base, changed, author: pull.author });
  const preview = findings.length ? [] : await previewLeaderboards(createView(base), createView(head), changed);
  const body = commentBody({ findings, preview, headSha: pull.headSha });
  const { id, created } = await upsertReport(gh, s.repo, pull.number, body);
  core.setOutput('comment-id', id);
  core.info(`${created ? 'wrote' : 'updated'} comment ${id} on #${pull.number}`);
  return body;
}
