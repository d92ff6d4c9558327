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
  | 'gate';

export interface Finding {
  path: string;
  /** 1-based; 1 when the finding is about the whole file. */
  line: number;
  /** 1-based. */
  column: number;
  rule: RuleId;
  message: string;
}

export function formatFinding(f: Finding): string {
  return `${f.path}:${f.line}:${f.column} ${f.rule} ${f.message}`;
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    (a.path < b.path ? -1 : a.path > b.path ? 1 : 0) ||
    a.line - b.line ||
    a.column - b.column ||
    (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0) ||
    (a.message < b.message ? -1 : a.message > b.message ? 1 : 0)
  );
}

export function sortFindings(findings: Finding[]): Finding[] {
  return [...findings].sort(compareFindings);
}
