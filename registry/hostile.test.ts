// Readers never fall over: a hostile record of up to 1 MiB is judged with a bounded number of
// findings, each file's list ending in one line that says how many more there are. (How fast is
// the validate-hostile benchmark's business, not a test's.)
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { EXAMPLE_PATHS as P, exampleFiles } from '../testing/example-registry.ts';
import { hostileResults } from '../testing/hostile-records.ts';
import { capFindings, formatFinding, MAX_FINDINGS_PER_FILE, sortFindings, type Finding } from './findings.ts';
import { memoryTree } from './trees.ts';
import { validateChange, validateRegistry } from './validate.ts';
import { MAX_ENTRIES } from './yaml-fast.ts';

const files = exampleFiles();
// The result is added by the change, as a data owner's PR adds it.
const base = memoryTree(Object.fromEntries(Object.entries(files).filter(([p]) => p !== P.result)));
const lineOf = (text: string, needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;
/** The fields and list items of a parsed record, as the reader counts them toward MAX_ENTRIES. */
const entries = (value: unknown): number =>
  Array.isArray(value) ? value.length + value.reduce((n: number, v) => n + entries(v), 0)
  : value && typeof value === 'object' ? Object.values(value).reduce((n: number, v) => n + 1 + entries(v), 0)
  : 0;
/** How many entries the example result holds before any hostile addition. */
const exampleEntries = entries(yaml.load(files[P.result]!));

async function judged(text: string): Promise<string[]> {
  const head = memoryTree({ ...files, [P.result]: text });
  const change = await validateChange({ base, head, changed: [P.result], author: 'data-owner' });
  const whole = (await validateRegistry(head)).filter((f) => f.path === P.result);
  expect(whole.map(formatFinding)).toEqual(change.map(formatFinding));
  return change.map(formatFinding);
}

describe('hostile records', () => {
  const hostile = hostileResults();

  it('refuses a record of more fields and items than any record has, at the entry past the limit, whatever its size', async () => {
    for (const what of ['unknown fields', 'flat list', 'anchors'] as const) {
      const found = await judged(hostile[what]!);
      expect(found, what).toHaveLength(1);
    }
    const tooMany = `more than ${MAX_ENTRIES} fields and list items: no record needs that many; remove what does not belong`;
    expect(await judged(hostile['unknown fields']!)).toEqual([`${P.result}:${lineOf(hostile['unknown fields']!, `field_${String(MAX_ENTRIES - exampleEntries).padStart(7, '0')}:`)}:1 yaml ${tooMany}`]);
    // Small enough for the general parser, and still refused.
    const small = `${files[P.result]}notes:\n${'  - 1\n'.repeat(MAX_ENTRIES)}`;
    expect(Buffer.byteLength(small)).toBeLessThan(64 * 1024);
    expect(await judged(small)).toEqual([expect.stringMatching(new RegExp(`^${P.result}:\\d+:\\d+ yaml ${tooMany}$`))]);
  });

  it('points at a duplicated key where it stands, however many keys come before it, and at the first one in the text', async () => {
    const dup = 'yaml duplicate key: each field may appear once in a mapping';
    const flow = hostile['duplicate key after a long flow mapping']!;
    expect(await judged(flow)).toEqual([`${P.result}:1:${flow.lastIndexOf('k0: 1') + 1} ${dup}`]);
    const metrics = hostile['duplicate key in metrics, after many keys']!;
    const line = metrics.split('\n')[lineOf(metrics, 'metrics: {') - 1]!;
    expect(await judged(metrics)).toEqual([`${P.result}:${lineOf(metrics, 'metrics: {')}:${line.lastIndexOf('k0: 1') + 1} ${dup}`]);
    // A mapping's duplicate inside a value that comes before its parent's own duplicate is the first.
    const nested = `${files[P.result]}extra:\n  a: {x: 1, y: 2, x: 3}\n  b: 1\n  a: 2\n`;
    expect(await judged(nested)).toEqual([`${P.result}:${lineOf(nested, '  a: {x')}:${'  a: {x: 1, y: 2, '.length + 1} ${dup}`]);
  });

  it('shows the first findings of a file and one line for the rest', async () => {
    const found = await judged(hostile['unknown fields, to the entry limit']!);
    expect(found).toHaveLength(MAX_FINDINGS_PER_FILE + 1);
    expect(found[0]).toBe(`${P.result}:${lineOf(hostile['unknown fields, to the entry limit']!, 'field_0000000:')}:1 privacy field_0000000 is not a field of a result: results carry numbers and hashes only, and free text could carry patient data out of the hospital; remove it`);
    // 9,950 unknown fields, each said by the schema and by privacy.
    expect(found.at(-1)).toBe(`${P.result}:1:1 privacy ${2 * 9_950 - MAX_FINDINGS_PER_FILE} more findings in this file are not shown: fix those above and validate again`);
    const comments = await judged(hostile.comments!);
    const count = hostile.comments!.split('\n').filter((l) => l.startsWith('# patient')).length;
    expect(comments).toHaveLength(MAX_FINDINGS_PER_FILE + 1);
    expect(comments[0]).toMatch(new RegExp(`^${P.result}:${lineOf(hostile.comments!, '# patient')}:1 privacy comments are not allowed in a result`));
    expect(comments.at(-1)).toBe(`${P.result}:1:1 privacy ${count - MAX_FINDINGS_PER_FILE} more findings in this file are not shown: fix those above and validate again`);
  });

  it('caps per file, keeps order, and counts what earlier caps left out', () => {
    const f = (path: string, line: number, more?: number): Finding => ({ path, line, column: 1, rule: 'schema', message: `m${line}`, ...(more && { more }) });
    const many = [...Array.from({ length: 5 }, (_, i) => f('a.yaml', i + 1)), f('a.yaml', 1, 7), f('b.yaml', 1), f('b.yaml', 2)];
    const capped = capFindings(sortFindings(many), 3);
    expect(capped.map((x) => `${x.path}:${x.line} ${x.message}`)).toEqual([
      'a.yaml:1 m1',
      'a.yaml:2 m2',
      'a.yaml:3 m3',
      'a.yaml:1 9 more findings in this file are not shown: fix those above and validate again',
      'b.yaml:1 m1',
      'b.yaml:2 m2',
    ]);
    // Sorting again keeps the summary last in its file.
    expect(sortFindings(capped)).toEqual(capped);
  });
});
