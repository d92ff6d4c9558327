// A finding is one thing wrong with one place of one file. Every rule reports all of its findings
// at once; a run prints them sorted as `path:line:col rule-id message`.

export type RuleId =
  | 'yaml'
  | 'schema'
  | 'layout'
  | 'references'
  | 'ownership'
  | 'immutability'
  | 'privacy'
  | 'declared-names'
  | 'result-preconditions'
  | 'signature'
  | 'confidential'
  | 'gate';

export interface Finding {
  path: string;
  /** 1-based; 1 when the finding is about the whole file. */
  line: number;
  /** 1-based. */
  column: number;
  rule: RuleId;
  message: string;
  /** Set on the last finding of a file whose other findings were left out: how many were. */
  more?: number;
}

/**
 * At most this many findings are shown per file, then one line saying how many more there are: a
 * hostile file with 60,000 unknown fields is judged (and reported) in a fraction of a second, and
 * the first hundred say what to fix.
 */
export const MAX_FINDINGS_PER_FILE = 100;

/** The line that stands for findings left out of a file. */
export function moreFindings(path: string, rule: RuleId, count: number): Finding {
  return {
    path,
    line: 1,
    column: 1,
    rule,
    more: count,
    message: `${count} more finding${count === 1 ? '' : 's'} in this file ${count === 1 ? 'is' : 'are'} not shown: fix those above and validate again`,
  };
}

/**
 * Keeps the first MAX_FINDINGS_PER_FILE findings of each file (in the order given) and adds one
 * line per file for the rest, counting what earlier caps already left out. Linear in the findings.
 */
export function capFindings(findings: Finding[], max = MAX_FINDINGS_PER_FILE): Finding[] {
  const shown = new Map<string, number>();
  const hidden = new Map<string, { rule: RuleId; count: number }>();
  const out: Finding[] = [];
  for (const f of findings) {
    if (f.more !== undefined) {
      const h = hidden.get(f.path);
      if (h) h.count += f.more;
      else hidden.set(f.path, { rule: f.rule, count: f.more });
      continue;
    }
    const n = shown.get(f.path) ?? 0;
    if (n < max) {
      shown.set(f.path, n + 1);
      out.push(f);
      continue;
    }
    const h = hidden.get(f.path);
    if (h) h.count++;
    else hidden.set(f.path, { rule: f.rule, count: 1 });
  }
  if (!hidden.size) return out;
  // Each file's summary goes right after its last shown finding, so sorted output stays sorted.
  const last = new Map<string, number>();
  out.forEach((f, i) => last.set(f.path, i));
  const result: Finding[] = [];
  const placed = new Set<string>();
  out.forEach((f, i) => {
    result.push(f);
    if (last.get(f.path) === i && hidden.has(f.path)) {
      const h = hidden.get(f.path)!;
      result.push(moreFindings(f.path, h.rule, h.count));
      placed.add(f.path);
    }
  });
  for (const [path, h] of hidden) if (!placed.has(path)) result.push(moreFindings(path, h.rule, h.count));
  return result;
}

export function formatFinding(f: Finding): string {
  return `${f.path}:${f.line}:${f.column} ${f.rule} ${f.message}`;
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
    // The line standing for left-out findings stays last in its file.
    Number(a.more !== undefined) - Number(b.more !== undefined) ||
    a.line - b.line ||
    a.column - b.column ||
    (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}
