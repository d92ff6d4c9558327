// privacy: what a data owner publishes about their data is numbers and hashes, nothing else. A
// result carries metrics (numbers under short names) and the hashes that produced them; a dataset's
// statistics are numbers, and so are the compatibility-test metrics of an association. Free text is the one way data could leave the hospital unnoticed, so a
// result may hold no field beyond its schema's, no text where a number belongs, and no YAML comment
// but the editor's leading `# yaml-language-server:` line. The schema refuses much of this too; this
// rule says it in terms of what could leak, and reads the file even when the schema refused it.
import { Parser } from 'yaml';
import type { Finding } from '../findings.ts';
import { parseRecordPath } from '../layout.ts';
import { schemaId, schemas } from '../schemas.ts';
import type { LoadedRecord, Position, RegistryView, Rule } from '../view.ts';
import { parseRecordYaml, positionOfOffset, SourceMap } from '../yaml.ts';

type SchemaNode = Record<string, unknown>;

const byId = new Map(schemas.map((s) => [String(s.$id), s as SchemaNode]));

/** Follows `$ref`s of the form `urn:medperf-git:schema:<name>#/$defs/<def>`. */
function resolve(node: SchemaNode): SchemaNode {
  let n = node;
  while (typeof n.$ref === 'string') {
    const [id, fragment = ''] = n.$ref.split('#');
    let target = byId.get(id!) as unknown;
    for (const seg of fragment.split('/').filter(Boolean)) target = (target as Record<string, unknown>)[seg];
    n = target as SchemaNode;
  }
  return n;
}

const METRICS_REF = `${schemaId('common')}#/$defs/metrics`;
const METRIC_KEY = new RegExp(String(resolve({ $ref: `${schemaId('common')}#/$defs/metricKey` }).pattern));
/** The records that carry numbers computed on a data owner's data, and how a message names them. */
const SHAPES: Partial<Record<string, { schema: SchemaNode; label: string }>> = {
  result: { schema: byId.get(schemaId('result'))!, label: 'a result' },
  'dataset-association': { schema: byId.get(schemaId('dataset-association'))!, label: 'a dataset association' },
  'model-association': { schema: byId.get(schemaId('model-association'))!, label: 'a model association' },
};

/** `/metrics/per_class` reads as `metrics.per_class`. */
const dotted = (pointer: string) =>
  pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .join('.');
const escape = (key: string) => key.replace(/~/g, '~0').replace(/\//g, '~1');

function describe(value: unknown): string {
  if (typeof value === 'string') return 'text';
  if (value === null) return 'empty';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value}`;
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

interface Report {
  (pointer: string, message: string): void;
}

/** Metrics or statistics: short names, numbers, nested mappings of the same. */
function checkNumbers(value: unknown, pointer: string, what: string, report: Report): void {
  if (!isMapping(value)) {
    report(pointer, `${dotted(pointer)} is ${describe(value)}: ${what} are a mapping of names to numbers`);
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    const at = `${pointer}/${escape(key)}`;
    if (!METRIC_KEY.test(key)) {
      // The name is not repeated: it is the very text that may not be published.
      report(
        at,
        `a name under ${dotted(pointer)} is not a metric name: names are up to 64 letters, digits and _ . : + - ` +
          `(${METRIC_KEY.source}), so they cannot carry free text`,
      );
    }
    if (typeof v === 'number') continue;
    if (isMapping(v)) checkNumbers(v, at, what, report);
    else report(at, `${dotted(at)} is ${describe(v)}, not a number: ${what} carry numbers only, so nothing else leaves the hospital`);
  }
}

/** A record against its schema's shape: every field known, numbers where metrics are. */
function checkShape(value: unknown, schema: SchemaNode, pointer: string, label: string, report: Report): void {
  if (schema.$ref === METRICS_REF) {
    checkNumbers(value, pointer, 'metrics', report);
    return;
  }
  const node = resolve(schema);
  const properties = node.properties as Record<string, SchemaNode> | undefined;
  if (!properties || !isMapping(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const at = `${pointer}/${escape(key)}`;
    const sub = properties[key];
    if (sub) checkShape(v, sub, at, label, report);
    else if (node.additionalProperties === false) {
      const where = pointer ? `${dotted(pointer)} of ${label}` : label;
      report(
        at,
        `${key} is not a field of ${where}: ${label.replace(/^an? /, '')}s carry numbers and hashes only, and free text could carry patient data out of the hospital; remove it`,
      );
    }
  }
}

/** Offsets of the comments in a YAML text, from its concrete syntax tree. */
function commentOffsets(text: string): number[] {
  const out: number[] = [];
  const walk = (token: unknown): void => {
    if (Array.isArray(token)) {
      for (const t of token) walk(t);
      return;
    }
    if (typeof token !== 'object' || token === null) return;
    const t = token as { type?: string; offset?: number };
    if (t.type === 'comment' && typeof t.offset === 'number') out.push(t.offset);
    for (const v of Object.values(token)) if (typeof v === 'object') walk(v);
  };
  for (const token of new Parser().parse(text)) walk(token);
  return [...new Set(out)].sort((a, b) => a - b);
}

const EDITOR_LINE = /^# yaml-language-server:/;

function commentFindings(text: string, report: (at: Position, message: string) => void): void {
  // Most results have no `#` past the editor's line: then there is nothing to parse.
  const firstLineEnd = text.indexOf('\n');
  const from = EDITOR_LINE.test(text) ? (firstLineEnd < 0 ? text.length : firstLineEnd) : 0;
  if (text.indexOf('#', from) < 0) return;
  for (const offset of commentOffsets(text)) {
    if (offset === 0 && EDITOR_LINE.test(text)) continue;
    report(
      positionOfOffset(text, offset),
      'comments are not allowed in a result: a comment could carry data out of the hospital; ' +
        'only the leading `# yaml-language-server:` line may stay',
    );
  }
}

async function sourceOf(view: RegistryView, path: string, rec: LoadedRecord | undefined): Promise<string | undefined> {
  const kept = (rec as { text?: unknown } | undefined)?.text;
  if (typeof kept === 'string') return kept;
  const bytes = await view.tree.read(path);
  if (!bytes) return undefined;
  const decoded = parseRecordYaml(path, bytes);
  return decoded.text;
}

export const rule: Rule = {
  id: 'privacy',
  async check(ctx) {
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      const where = parseRecordPath(path);
      const shape = where && SHAPES[where.kind];
      if (!where || (!shape && where.kind !== 'dataset')) continue;
      const rec = await ctx.head.record(path);
      let data: unknown = rec?.data;
      let locate = rec ? (p: string) => rec.locate(p) : undefined;
      let text: string | undefined;
      if (where.kind === 'result' || !rec) {
        text = await sourceOf(ctx.head, path, rec);
        if (text === undefined) continue; // deleted, or not text: the yaml rule says so
      }
      if (!rec) {
        // Refused by the schema (or not YAML): read what it would publish anyway.
        const parsed = parseRecordYaml(path, Buffer.from(text!));
        if (parsed.data === undefined) continue;
        data = parsed.data;
        const map = new SourceMap(text!);
        locate = (p: string) => map.locate(p);
      }
      const report: Report = (pointer, message) => {
        const { line, column } = locate!(pointer);
        out.push({ path, line, column, rule: 'privacy', message });
      };
      if (shape) checkShape(data, shape.schema, '', shape.label, report);
      if (where.kind === 'result') {
        commentFindings(text!, ({ line, column }, message) => out.push({ path, line, column, rule: 'privacy', message }));
      } else if (where.kind === 'dataset' && isMapping(data) && data.statistics !== undefined) {
        checkNumbers(data.statistics, '/statistics', 'statistics', report);
      }
    }
    return out;
  },
};
