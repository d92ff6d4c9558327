// validate (pull_request, read-only token): the PR's head commit against its merge base, every rule,
// read from git objects as data. Findings become annotations, a job summary and a JSON report.
import * as core from '@actions/core';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { validateChange } from '../../registry/validate.ts';
import { closeTree, gitChangedPaths, gitTree, mergeBase } from '../../registry/trees.ts';
import { headline, jobSummary, type ValidationReport } from '../report.ts';
import type { Settings } from '../settings.ts';

export async function validateMode(s: Settings): Promise<ValidationReport> {
  const pr = s.event.pull_request;
  if (!pr) throw new Error(`validate mode runs on pull_request events, not ${s.eventName}`);
  const base = await mergeBase(s.path, pr.base.sha, pr.head.sha);
  // A registry in a folder of a larger repository is read as that folder of each commit.
  const subdir = { subdir: s.prefix };
  const baseTree = gitTree(s.path, base, subdir);
  const headTree = gitTree(s.path, pr.head.sha, subdir);
  let findings;
  try {
    const changed = await gitChangedPaths(s.path, base, pr.head.sha);
    findings = await validateChange({ head: headTree, base: baseTree, changed, author: pr.user.login });
  } finally {
    await closeTree(baseTree);
    await closeTree(headTree);
  }
  const report: ValidationReport = {
    version: 1,
    pullRequest: pr.number,
    base,
    head: pr.head.sha,
    author: pr.user.login,
    ok: findings.length === 0,
    findings,
  };
  for (const f of findings) {
    core.error(f.message, { title: `medperf-git ${f.rule}`, file: s.pathInRepo(f.path), startLine: f.line, startColumn: f.column });
  }
  await mkdir(dirname(s.report), { recursive: true });
  await writeFileAtomic(s.report, JSON.stringify(report, null, 2) + '\n');
  core.setOutput('report', s.report);
  core.setOutput('findings', findings.length);
  await core.summary.addRaw(jobSummary(report)).write();
  if (!report.ok) core.setFailed(headline(findings));
  return report;
}
