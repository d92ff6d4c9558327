// privacy: what a data owner publishes about their data is numbers and hashes, nothing else. A
// result carries metrics (numbers under short names) and the hashes that produced them; a dataset's
// statistics are numbers, and so are the compatibility-test metrics of an association. Free text
// is the one way data could leave the hospital unnoticed, so these records hold no field beyond
// their schema's and no text where a number belongs, and a result no YAML comment but the
// editor's leading `# yaml-language-server:` line. The schema refuses much of this too; this rule
// says it in terms of what could leak, and reads the file even when the schema refused it.
import { MAX_FINDINGS_PER_FILE, moreFindings, type Finding } from '../findings.ts';
import { parseRecordPath, type RecordKind } from '../layout.ts';
import { MODELINE_PREFIX, schemaFile, schemaModeline } from '../record-yaml.ts';
import { METRIC_KEY } from '../metrics.ts';
import { schemaId, schemas } from '../schema-files.ts';
import type { Position, Rule } from '../view.ts';
import { dottedPointer as dotted, escapePointerKey as escape } from './util.ts';
import { commentOffsets, lineStarts, parseRecordYaml, positionIn, SourceMap } from '../yaml.ts';

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
/** A schema reduced to what privacy needs, built once: where metrics are, and which fields exist. */
interface Shape {
  metrics: boolean;
  fields?: Map<string, Shape>;
  /** additionalProperties: false */
  closed: boolean;
}

function shapeOf(schema: SchemaNode): Shape {
  if (schema.$ref === METRICS_REF) return { metrics: true, closed: true };
  const node = resolve(schema);
  const properties = node.properties as Record<string, SchemaNode> | undefined;
  return {
    metrics: false,
    fields: properties && new Map(Object.entries(properties).map(([k, v]) => [k, shapeOf(v)])),
    closed: node.additionalProperties === false,
  };
}

/** What a record of each kind may publish, for the message about a field it may not have. */
interface Published {
  shape: Shape;
  label: string;
  publishes: string;
}

const NUMBERS_AND_HASHES = 'numbers and hashes only, and free text could carry patient data out of the hospital';

/** The records a data owner's data flows into (and the keys everyone publishes), and how a message names them. */
const SHAPES: Partial<Record<string, Published>> = {
  result: { shape: shapeOf(byId.get(schemaId('result'))!), label: 'a result', publishes: `results carry ${NUMBERS_AND_HASHES}` },
  dataset: {
    shape: shapeOf(byId.get(schemaId('dataset'))!),
    label: 'a dataset',
    publishes: 'the only text a dataset publishes is its name, description and location, as its owner typed and confirmed them',
  },
  'dataset-association': {
    shape: shapeOf(byId.get(schemaId('dataset-association'))!),
    label: 'a dataset association',
    publishes: `dataset associations carry ${NUMBERS_AND_HASHES}`,
  },
  person: {
    shape: shapeOf(byId.get(schemaId('person'))!),
    label: "a person's keys",
    publishes: "a person's record carries their published keys only",
  },
  'model-association': {
    shape: shapeOf(byId.get(schemaId('model-association'))!),
    label: 'a model association',
    publishes: `model associations carry ${NUMBERS_AND_HASHES}`,
  },
};

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
  for (const key in value) {
    const v = value[key];
    // The pointer is made only when something is said or looked into.
    const at = () => `${pointer}/${escape(key)}`;
    if (!METRIC_KEY.test(key)) {
      // The name is not repeated: it is the very text that may not be published.
      report(
        at(),
        `a name under ${dotted(pointer)} is not a metric name: names are up to 64 letters, digits and _ . : + - ` +
          `(${METRIC_KEY.source}), so they cannot carry free text`,
      );
    }
    if (typeof v === 'number') continue;
    if (isMapping(v)) checkNumbers(v, at(), what, report);
    else report(at(), `${dotted(at())} is ${describe(v)}, not a number: ${what} carry numbers only, so nothing else leaves the hospital`);
  }
}

/** A record against its schema's shape: every field known, numbers where metrics are. */
function checkShape(value: unknown, shape: Shape, pointer: string, kind: Published, report: Report): void {
  if (shape.metrics) {
    checkNumbers(value, pointer, pointer === '/statistics' ? 'statistics' : 'metrics', report);
    return;
  }
  if (!shape.fields || !isMapping(value)) return;
  for (const key in value) {
    const sub = shape.fields.get(key);
    if (sub) {
      if (sub.metrics || sub.fields) checkShape(value[key], sub, `${pointer}/${escape(key)}`, kind, report);
    } else if (shape.closed) {
      const where = pointer ? `${dotted(pointer)} of ${kind.label}` : kind.label;
      report(`${pointer}/${escape(key)}`, `${key} is not a field of ${where}: ${kind.publishes}; remove it`);
    }
  }
}

const EDITOR_PREFIX = '# yaml-language-server:';

/**
 * The editor's line of a record of `kind` at `path`, as `record-yaml.ts` writes it: its schema, up
 * through the record's folders to a `schemas/` folder (at the registry's root, or as many as 16
 * folders above it, for a registry inside a larger repository). Undefined when the line is one;
 * else the column where it stops being one.
 */
function editorLineMismatch(line: string, kind: string, path: string): number | undefined {
  // Every record of a kind sits at one depth of the layout, and nearly all say the same line.
  if (line === lastFit.line && kind === lastFit.kind) return undefined;
  const column = editorLineColumn(line, kind, path);
  if (column === undefined) lastFit = { line, kind };
  return column;
}
let lastFit = { line: '', kind: '' };

function editorLineColumn(line: string, kind: string, path: string): number | undefined {
  const head = MODELINE_PREFIX;
  const tail = schemaFile(kind);
  let at = 0;
  while (at < head.length && line[at] === head[at]) at++;
  if (at < head.length) return at + 1;
  const depth = path.split('/').length - 1;
  let ups = 0;
  while (line.startsWith('../', at) && ups < depth + 16) (at += 3), ups++;
  if (ups < depth) return at + 1;
  for (let i = 0; i < tail.length; i++, at++) if (line[at] !== tail[i]) return at + 1;
  return at === line.length ? undefined : at + 1;
}

/**
 * Comments of a record a data owner writes: none, whatever the line endings, but the editor's line
 * as `record-yaml.ts` writes it for the record's kind and place: no text, however it is spelled,
 * rides on it.
 */
function commentFindings(text: string, kind: string, path: string, plain: boolean | undefined, label: string, report: (at: Position, message: string) => void): void {
  // Nearly every record: plain block YAML whose only `#` is on the editor's line, which fits.
  if (plain) {
    const end = text.indexOf('\n');
    if (end >= 0 && text.indexOf('#', end) < 0 && (!text.includes('#') || editorLineMismatch(text.slice(0, end), kind, path) === undefined)) return;
  }
  const starts = lineStarts(text);
  for (const offset of commentOffsets(text, plain)) {
    if (offset === 0 && text.startsWith(EDITOR_PREFIX)) {
      const line = text.slice(0, starts[1] === undefined ? text.length : starts[1] - 1);
      const column = editorLineMismatch(line, kind, path);
      if (column === undefined) continue;
      report(
        { line: 1, column },
        `the \`# yaml-language-server:\` line of ${label} is \`${schemaModeline(kind as RecordKind, path)}\` (with more \`../\` when the schemas folder is further up), nothing else: ` +
          'any other text on it could carry data out of the hospital; write it so, or remove the line',
      );
      continue;
    }
    report(
      positionIn(starts, offset),
      `comments are not allowed in ${label}: a comment could carry data out of the hospital; ` +
        'remove it (only the leading `# yaml-language-server: $schema=...` line may stay)',
    );
  }
}

/**
 * Records that hold no free text at all (results, dataset associations, a person's keys), which
 * medperf-git writes: one kind of line ending, no blank line, no line of spaces, no space at a
 * line's end, indentation in steps of two. Whitespace is invisible on every page that shows a
 * record, and a line of n spaces is a byte; the order of keys and the choice of quotes say a few
 * bits at most. Checked on what a change adds or edits, whose bytes are read once more.
 */
const WRITTEN_BY_MEDPERF_GIT = new Set(['dataset-association', 'result', 'person']);

function layoutFindings(bytes: Buffer, label: string, report: (at: Position, message: string) => void): void {
  const text = bytes.toString('utf8');
  const why = `medperf-git writes ${label} without it, and whitespace could carry data out of the hospital`;
  const eol = /\r\n|\r|\n/.exec(text)?.[0];
  const lines = text.split(/\r\n|\r|\n/);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    at += line.length;
    const ending = /^\r\n|^\r|^\n/.exec(text.slice(at, at + 2))?.[0];
    at += ending?.length ?? 0;
    const n = i + 1;
    if (ending && ending !== eol) report({ line: n, column: line.length + 1 }, `line ${n} ends with ${JSON.stringify(ending)} where the file's first line ends with ${JSON.stringify(eol)}: ${why}; end every line alike`);
    if (i === lines.length - 1 && line === '') break; // the file's final line ending
    if (/^[ \t]*$/.test(line)) report({ line: n, column: 1 }, `line ${n} is ${line ? 'only spaces' : 'blank'}: ${why}; remove it`);
    else if (/[ \t]$/.test(line)) report({ line: n, column: line.trimEnd().length + 1 }, `line ${n} ends with spaces: ${why}; remove them`);
    else if (/^(?: {2})* (?! )/.test(line)) report({ line: n, column: 1 }, `line ${n} is indented by an odd number of spaces: ${why}; indent by two spaces a level`);
  }
}

/**
 * Records a data owner writes, which merge with no reviewer reading them (results, their keys) or
 * a committee reading only hashes and numbers: no comment may be in them.
 */
const NO_COMMENTS = new Set(['dataset', 'dataset-association', 'result', 'person']);

/**
 * The findings of one file: the first MAX_FINDINGS_PER_FILE are located, the rest counted, as a
 * hostile file may hold tens of thousands. One object per file, its methods shared.
 */
class FileFindings {
  found = 0;
  readonly report: Report = (pointer, message) => this.add(this.locate(pointer), message);
  readonly reportAt = (at: Position, message: string) => this.add(at, message);
  constructor(
    private readonly path: string,
    private readonly locator: { locate(pointer: string): Position },
    private readonly out: Finding[],
  ) {}
  private locate(pointer: string): Position | undefined {
    return this.found < MAX_FINDINGS_PER_FILE ? this.locator.locate(pointer) : undefined;
  }
  private add(at: Position | undefined, message: string): void {
    if (this.found++ >= MAX_FINDINGS_PER_FILE || !at) return;
    this.out.push({ path: this.path, line: at.line, column: at.column, rule: 'privacy', message });
  }
  finish(): void {
    if (this.found > MAX_FINDINGS_PER_FILE) this.out.push(moreFindings(this.path, 'privacy', this.found - MAX_FINDINGS_PER_FILE));
  }
}

export const rule: Rule = {
  id: 'privacy',
  async check(ctx) {
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      const where = parseRecordPath(path);
      const shape = where && SHAPES[where.kind];
      if (!where || !shape) continue;
      const rec = await ctx.head.record(path);
      let data: unknown;
      let locator: { locate(pointer: string): Position };
      // The text as the loader read it (line endings made LF), kept with the record.
      let text = (rec as { text?: string } | undefined)?.text;
      let plain = (rec as { plain?: boolean } | undefined)?.plain;
      if (rec) {
        data = rec.data;
        locator = rec;
      } else {
        // Refused by the schema: read what it would publish anyway.
        const bytes = await ctx.head.tree.read(path);
        if (!bytes) continue; // deleted
        const parsed = parseRecordYaml(path, bytes);
        if (parsed.data === undefined) continue; // not YAML: the yaml rule says why
        data = parsed.data;
        text = parsed.text;
        plain = parsed.plain;
        locator = new SourceMap(parsed.text!);
      }
      const findings = new FileFindings(path, locator, out);
      checkShape(data, shape.shape, '', shape, findings.report);
      if (NO_COMMENTS.has(where.kind)) {
        text ??= (await ctx.head.tree.read(path))?.toString('utf8').replace(/\r\n?/g, '\n');
        if (text !== undefined && text.includes('#')) commentFindings(text, where.kind, path, plain, shape.label, findings.reportAt);
      }
      if (ctx.base && WRITTEN_BY_MEDPERF_GIT.has(where.kind)) {
        const bytes = await ctx.head.tree.read(path);
        if (bytes) layoutFindings(bytes, shape.label, findings.reportAt);
      }
      findings.finish();
    }
    return out;
  },
};
