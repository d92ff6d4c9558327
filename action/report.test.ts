import { describe, expect, it } from 'vitest';
import type { Finding } from '../registry/findings.ts';
import { memoryTree } from '../registry/trees.ts';
import { overlayTree } from '../registry/trees.ts';
import { COMMENT_LIMIT, COMMENT_MARKER, commentBody, headline, jobSummary, statusDescription } from './report.ts';

const finding = (i: number, message = 'field `metrics.AUC` must be a number'): Finding => ({
  path: `benchmarks/b/results/d/x${i}/m/y.yaml`,
  line: 6,
  column: 3,
  rule: 'schema',
  message,
});

describe('the PR comment', () => {
  it('says what to fix in plain words and where models would rank', () => {
    const body = commentBody({ findings: [finding(1)], preview: [], headSha: 'abcdef0123456789' });
    expect(body.startsWith(`${COMMENT_MARKER}\n\n### medperf-git: 1 problem in 1 file to fix before this can merge`)).toBe(true);
    expect(body).toContain('benchmarks/b/results/d/x1/m/y.yaml line 6, column 3: field `metrics.AUC` must be a number (schema)');
    expect(body).toContain('For commit abcdef012345.');
    const ok = commentBody({ findings: [], preview: ['lung: alice/cnn would rank 2nd of 5 on AUC (0.81)'], headSha: 'a'.repeat(40) });
    expect(ok).toContain('### medperf-git: every check passes');
    expect(ok).toContain('### Leaderboard preview\n\n```text\nlung: alice/cnn would rank 2nd of 5 on AUC (0.81)\n```');
  });

  it('keeps record text inside its code block, whatever backticks it holds', () => {
    const body = commentBody({ findings: [finding(1, 'name "```\n@everyone <img src=x>" is not allowed')], preview: [], headSha: 'a'.repeat(40) });
    expect(body).toContain('````text\n');
    expect(body.split('\n').filter((l) => l === '````')).toHaveLength(1);
  });

  it('stays within GitHub comment limit, saying how many findings it left out', () => {
    const many = Array.from({ length: 5000 }, (_, i) => finding(i, `a long message ${'x'.repeat(80)}`));
    const body = commentBody({ findings: many, preview: [], headSha: 'a'.repeat(40) });
    expect(body.length).toBeLessThanOrEqual(COMMENT_LIMIT);
    expect(body).toMatch(/… and \d+ more: see the checks of this pull request/);
    expect(headline(many)).toBe('medperf-git: 5000 problems in 5000 files to fix before this can merge');
  });

  it('writes a job summary and a status description GitHub accepts', () => {
    const summary = jobSummary({ version: 1, base: 'b', head: 'h', author: 'alice', ok: false, findings: [finding(1)] });
    expect(summary).toContain('## medperf-git: 1 problem in 1 file');
    expect(summary).toContain('benchmarks/b/results/d/x1/m/y.yaml:6:3 schema field');
    expect(statusDescription('x'.repeat(200))).toHaveLength(140);
  });
});

describe('overlayTree', () => {
  it('lays a PR files over the base tree', async () => {
    const base = memoryTree({ 'a.yaml': 'a', 'b.yaml': 'b' });
    const tree = overlayTree(base, new Map([['b.yaml', null], ['c.yaml', Buffer.from('c')], ['a.yaml', Buffer.from('A')]]));
    expect(await tree.list()).toEqual(['a.yaml', 'c.yaml']);
    expect((await tree.read('a.yaml'))?.toString()).toBe('A');
    expect(await tree.read('b.yaml')).toBeUndefined();
    expect(await tree.has('c.yaml')).toBe(true);
  });
});
