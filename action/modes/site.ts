// site (push to main): the leaderboard site, built into a folder for actions/upload-pages-artifact.
import * as core from '@actions/core';
import { buildSiteFolder } from '../../registry/site/folder.ts';
import type { Settings } from '../settings.ts';

export async function siteMode(s: Settings): Promise<void> {
  const built = await buildSiteFolder({
    dir: s.path,
    out: s.out,
    repoUrl: `${s.serverUrl}/${s.repo.owner}/${s.repo.repo}`,
    ref: s.sha,
    generatedAt: new Date().toISOString(),
    // Committee-only results are opened with the site key and published as their policy allows.
    identities: s.siteKeys,
  });
  if (built.leftOut.length) {
    const benchmarks = [...new Set(built.leftOut.map((l) => l.benchmark))].join(', ');
    core.warning(
      `${built.leftOut.length} committee-only result${built.leftOut.length === 1 ? '' : 's'} of ${benchmarks} left out of the site` +
        (s.siteKeys.length ? ' (not encrypted to the site key, or refused: `medperf-git validate` and the gate say why)' : ': the site workflow has no site-key (the MEDPERF_GIT_SITE_KEY secret)'),
    );
  }
  core.setOutput('site-path', built.out);
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  for (const b of built.boards) core.info(`${b.benchmark}: ${count(b.counts.models, 'model')}, ${count(b.counts.datasets, 'dataset')} (${b.publish})`);
  core.info(`wrote ${built.files.size} files to ${built.out}`);
}
