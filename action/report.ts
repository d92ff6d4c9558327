// What the Action says, as text: the job summary, the one PR comment, the commit status. Pure, so
// tests read exactly what a reviewer would.
import { formatFinding, type Finding } from '../registry/findings.ts';

/** GitHub refuses comments longer than this many characters. */
export const COMMENT_LIMIT = 65536;
/** The hidden line that marks the comment the Action edits in place. */
export const COMMENT_MARKER = '<!-- medperf-git:report -->';
/** GitHub cuts commit status descriptions at this length. */
export const STATUS_DESCRIPTION_LIMIT = 140;

/** Preview lines shown at most: one per model whose rank changes. */
const MAX_PREVIEW_LINES = 200;

export interface ValidationReport {
  /** Bumped when the shape changes. */
  version: 1;
  pullRequest?: number;
  base: string;
  head: string;
  author?: string;
  ok: boolean;
  findings: Finding[];
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** A code fence longer than any backtick run in the text, so record content cannot close it. */
function fenced(lines: string[]): string {
  const text = lines.join('\n');
  const longest = Math.max(2, ...(text.match(/`+/g) ?? []).map((r) => r.length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

export function headline(findings: Finding[]): string {
  if (findings.length === 0) return 'medperf-git: every check passes';
  const files = new Set(findings.map((f) => f.path)).size;
  return `medperf-git: ${plural(findings.length, 'problem')} in ${plural(files, 'file')} to fix before this can merge`;
}

/** The job summary of validate mode (Markdown). */
export function jobSummary(report: ValidationReport): string {
  const lines = [`## ${headline(report.findings)}`, '', `Checked ${report.head} against ${report.base}${report.author ? ` for @${report.author}` : ''}.`];
  if (report.findings.length) lines.push('', fenced(report.findings.map(formatFinding)));
  return lines.join('\n') + '\n';
}

/**
 * The PR comment: findings in plain words and, for result PRs, where the models would rank. Kept
 * under GitHub's limit by dropping findings from the end, saying how many were left out.
 */
export function commentBody(opts: { findings: Finding[]; preview: string[]; headSha: string; limit?: number }): string {
  const limit = opts.limit ?? COMMENT_LIMIT;
  const build = (shown: number) => {
    const parts = [COMMENT_MARKER, `### ${headline(opts.findings)}`];
    if (opts.findings.length) {
      const lines = opts.findings.slice(0, shown).map((f) => `${f.path} line ${f.line}, column ${f.column}: ${f.message} (${f.rule})`);
      if (shown < opts.findings.length) lines.push(`… and ${opts.findings.length - shown} more: see the checks of this pull request`);
      parts.push(fenced(lines));
    }
    if (opts.preview.length) {
      const preview = opts.preview.slice(0, MAX_PREVIEW_LINES);
      if (opts.preview.length > preview.length) preview.push(`… and ${opts.preview.length - preview.length} more models`);
      parts.push('### Leaderboard preview', fenced(preview));
    }
    parts.push(`<sub>For commit ${opts.headSha.slice(0, 12)}. This comment is updated on every push.</sub>`);
    return parts.join('\n\n') + '\n';
  };
  let shown = opts.findings.length;
  let body = build(shown);
  while (body.length > limit && shown > 0) {
    shown = Math.max(0, Math.floor(shown * 0.8) - 1);
    body = build(shown);
  }
  return body;
}

/** A commit status description, cut to GitHub's limit. */
export function statusDescription(text: string): string {
  return text.length <= STATUS_DESCRIPTION_LIMIT ? text : `${text.slice(0, STATUS_DESCRIPTION_LIMIT - 1)}…`;
}
