// Reading record YAML safely and fast. Records are small, plain mappings: they need no anchors, no
// aliases, no tags beyond YAML 1.2's core schema, and never more than 1 MiB. Everything else is
// refused with a located finding before it can cost time or memory.
//
// Three readers, for three jobs: registry/yaml-fast.ts reads the plain block YAML records are
// written in (twice as fast as js-yaml, and checked to agree with it); js-yaml parses everything
// else (several times faster than `yaml`, which matters at 100,000 records, and it refuses
// duplicate keys); `yaml`'s parseDocument keeps source ranges, so it is used only when a file has
// something to report, to turn a JSON pointer into a line and column.
import jsYaml from 'js-yaml';
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, Parser, parseDocument, type Document, type Node } from 'yaml';
import type { Finding } from './findings.ts';
import { isCanonicalNumber, isPlainBlockYaml, plainPositions, readCanonicalYaml, RESERVED_KEYS } from './yaml-fast.ts';
import type { Position } from './view.ts';

// js-yaml's own resolvers (its types are not in @types/js-yaml): a scalar is a number exactly when they say so.
type Resolver = { resolve(s: string): boolean };
const { int: intType, float: floatType } = (jsYaml as unknown as { types: { int: Resolver; float: Resolver } }).types;

/**
 * The schema records are written with: js-yaml's default schema (so date-like text is quoted), with floats written as JavaScript
 * writes them back (`1e-7`, not js-yaml's `1.e-7`; `0`, not `-0.0`), the one form validation accepts.
 */
export const RECORD_WRITE_SCHEMA = jsYaml.DEFAULT_SCHEMA.extend({ implicit: [
  new jsYaml.Type('tag:yaml.org,2002:float', {
    kind: 'scalar',
    resolve: (data: string) => floatType.resolve(data),
    construct: (data: string) => Number(jsYaml.load(data, { schema: jsYaml.CORE_SCHEMA })),
    predicate: (v: unknown) => typeof v === 'number' && (!Number.isInteger(v) || Object.is(v, -0)),
    represent: (v: object) => {
      const n = v as unknown as number;
      if (Number.isNaN(n)) return '.nan';
      if (!Number.isFinite(n)) return n > 0 ? '.inf' : '-.inf';
      return Object.is(n, -0) ? '0' : String(n);
    },
    defaultStyle: 'lowercase',
  }),
] });

/** Records are small; anything larger is refused before it is read or parsed. */
export const MAX_RECORD_BYTES = 1024 * 1024;

export interface ParsedYaml {
  data?: unknown;
  findings: Finding[];
  /** The text, when it decoded; kept so positions can be computed lazily. */
  text?: string;
  /** The text is plain block YAML (read by the fast path): its comments are whole lines. */
  plain?: boolean;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function yamlFinding(path: string, position: Position, message: string): Finding {
  return { path, line: Math.max(1, position.line), column: Math.max(1, position.column), rule: 'yaml', message };
}

/** Offsets where each line starts, for positions in linear time however many are asked. */
export function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) out.push(i + 1);
  return out;
}

/** Line and column (1-based) of a character offset, given the text's lineStarts. */
export function positionIn(starts: readonly number[], offset: number): Position {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo + 1, column: offset - starts[lo]! + 1 };
}

/** Line and column (1-based) of a character offset. */
export function positionOfOffset(text: string, offset: number): Position {
  return positionIn(lineStarts(text.slice(0, offset)), offset);
}

/** A finding for a file that is too large, from its size alone: nothing is read or parsed. */
export function oversizedFinding(path: string, size: number, limit = MAX_RECORD_BYTES): Finding {
  return yamlFinding(
    path,
    { line: 1, column: 1 },
    `file is ${size} bytes; registry files may be at most ${limit} bytes (1 MiB)`,
  );
}

/** Decodes the bytes of a text file: binary (NUL bytes) and non-UTF-8 files are findings. */
export function decodeText(path: string, bytes: Buffer): { text?: string; findings: Finding[] } {
  const nul = bytes.indexOf(0);
  if (nul >= 0) {
    const before = bytes.subarray(0, nul).toString('utf8');
    return {
      findings: [yamlFinding(path, positionOfOffset(before, before.length), 'binary file (contains NUL bytes); registry files are UTF-8 YAML text')],
    };
  }
  try {
    return { text: utf8.decode(bytes), findings: [] };
  } catch {
    const lossy = bytes.toString('utf8');
    const at = Math.max(0, lossy.indexOf('\uFFFD'));
    return {
      findings: [yamlFinding(path, positionOfOffset(lossy, at), 'file is not valid UTF-8 text; save it as UTF-8')],
    };
  }
}

/**
 * A larger record must be plain block YAML (what medperf-git writes), which the fast path reads in
 * linear time; the general parsers are only given files up to this size, so no record costs more
 * than a fraction of a second to judge.
 */
export const GENERAL_YAML_BYTES = 64 * 1024;

interface CstToken {
  type?: string;
  offset?: number;
  source?: string;
}

/** Every token of a text's concrete syntax tree, walked without recursion. */
function* cstTokens(text: string): Generator<CstToken> {
  const stack: unknown[] = [...new Parser().parse(text)].reverse();
  while (stack.length) {
    const t = stack.pop();
    if (Array.isArray(t)) {
      for (let i = t.length - 1; i >= 0; i--) stack.push(t[i]);
      continue;
    }
    if (typeof t !== 'object' || t === null) continue;
    yield t as CstToken;
    const children = Object.values(t).filter((v) => typeof v === 'object' && v !== null);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]);
  }
}

/**
 * Offsets of the comments of a YAML text (of at most GENERAL_YAML_BYTES; plain block text is read
 * by lines). `plain`: whether the text is plain block YAML, when the caller knows.
 */
export function commentOffsets(text: string, plain = isPlainBlockYaml(text)): number[] {
  const out = new Set<number>();
  if (plain) {
    // Plain block YAML has comments on their own lines only.
    for (let start = 0; start < text.length; ) {
      let end = text.indexOf('\n', start);
      if (end < 0) end = text.length;
      let i = start;
      while (i < end && text.charCodeAt(i) === 0x20) i++;
      if (text.charCodeAt(i) === 0x23) out.add(i);
      start = end + 1;
    }
  } else {
    for (const t of cstTokens(text)) if (t.type === 'comment' && typeof t.offset === 'number') out.add(t.offset);
  }
  return [...out].sort((a, b) => a - b);
}


/** What a plain scalar that js-yaml reads as a number should be written as, or undefined when it is fine. */
function numberProblem(source: string): string | undefined {
  if (!intType.resolve(source) && !floatType.resolve(source)) return undefined;
  const value = Number(jsYaml.load(source, { schema: jsYaml.CORE_SCHEMA }));
  if (isCanonicalNumber(source, value)) return undefined;
  if (!Number.isFinite(value)) {
    return `${source} is not a finite number: numbers in records are finite decimals; write the number, or leave the field out`;
  }
  return (
    `number ${source.length > 40 ? source.slice(0, 40) + '...' : source} is not in plain decimal form: ` +
    `write ${String(Object.is(value, -0) ? 0 : value)} (numbers are written as JavaScript writes them back: no hex, octal, exponent of an integer, _ or extra digits)`
  );
}

/**
 * What a record may not contain whatever its kind, found in the source: directives, document
 * markers and more than one document, tags, anchors and aliases (an alias bomb costs nothing
 * here: nothing is expanded), and numbers not written in plain decimal form.
 */
function lexicalFindings(path: string, text: string): Finding[] {
  const starts = lineStarts(text);
  const at = (offset: number | undefined) => positionIn(starts, offset ?? 0);
  const findings: Finding[] = [];
  let documents = 0;
  for (const t of cstTokens(text)) {
    const source = t.source ?? '';
    switch (t.type) {
      case 'directive':
        findings.push(yamlFinding(path, at(t.offset), `directive ${source.split(/\s/)[0]} is not allowed: a record is one plain YAML document; remove the line`));
        break;
      case 'document':
        if (++documents === 2) findings.push(yamlFinding(path, at(t.offset), 'a second YAML document: a record file holds one document; remove everything from here'));
        break;
      case 'doc-start':
      case 'doc-end':
        findings.push(yamlFinding(path, at(t.offset), `document marker ${source} is not allowed: a record is one plain YAML document; remove it`));
        break;
      case 'tag':
        findings.push(yamlFinding(path, at(t.offset), `tag ${source} is not allowed: records hold plain values; remove the tag and write the value itself`));
        break;
      case 'anchor':
        findings.push(yamlFinding(path, at(t.offset), `anchor ${source} is not allowed: records use no anchors or aliases; write the value out`));
        break;
      case 'alias':
        findings.push(yamlFinding(path, at(t.offset), `alias ${source} is not allowed: records use no anchors or aliases; write the value out`));
        break;
      case 'scalar': {
        const problem = numberProblem(source);
        if (problem) findings.push(yamlFinding(path, at(t.offset), problem));
        break;
      }
    }
  }
  return findings;
}

/** Mapping keys named like a JavaScript object's own members, with their JSON pointers. */
function reservedKeyPointers(data: unknown): Array<{ pointer: string; key: string }> {
  const out: Array<{ pointer: string; key: string }> = [];
  const stack: Array<{ value: unknown; pointer: string }> = [{ value: data, pointer: '' }];
  while (stack.length) {
    const { value, pointer } = stack.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (Array.isArray(value)) {
      value.forEach((v, i) => stack.push({ value: v, pointer: `${pointer}/${i}` }));
      continue;
    }
    for (const key of Object.keys(value)) {
      const p = `${pointer}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      if (RESERVED_KEYS.has(key)) out.push({ pointer: p, key });
      stack.push({ value: (value as Record<string, unknown>)[key], pointer: p });
    }
  }
  return out;
}

/**
 * Parses one record file's bytes. Never throws: every problem is a finding located in the file.
 * The size check comes first, so an oversized file is refused without being decoded or parsed.
 */
export function parseRecordYaml(path: string, bytes: Buffer, limit = MAX_RECORD_BYTES): ParsedYaml {
  if (bytes.length > limit) return { findings: [oversizedFinding(path, bytes.length, limit)] };
  const decoded = decodeText(path, bytes);
  if (decoded.text === undefined) return { findings: decoded.findings };
  // YAML breaks lines at CR, LF and CRLF alike; every reader after this one sees LF only, so a line
  // no parser counts the same way (a comment hidden behind a lone CR) cannot exist.
  const text = decoded.text.includes('\r') ? decoded.text.replace(/\r\n?/g, '\n') : decoded.text;
  // Most records are in the small part of YAML the fast path reads; it agrees with js-yaml.
  const fast = readCanonicalYaml(text);
  if ('value' in fast) return { data: fast.value, findings: [], text, plain: true };
  if (fast.tooMany) {
    // However small the file, a mapping or list this long is no record's: it is not read further.
    return { findings: [yamlFinding(path, fast, `${fast.why}: no record needs that many; remove what does not belong`)], text };
  }
  if (bytes.length > GENERAL_YAML_BYTES) {
    return {
      findings: [
        yamlFinding(
          path,
          fast,
          `${fast.why}: a record over ${GENERAL_YAML_BYTES / 1024} KiB must be plain block YAML (fields, nested fields and lists of ` +
            'plain values, as medperf-git writes records); rewrite it in that form, or make it smaller',
        ),
      ],
      text,
    };
  }
  const lexical = lexicalFindings(path, text);
  if (lexical.length) return { findings: lexical, text };
  let data: unknown;
  try {
    // CORE_SCHEMA: YAML 1.2 scalars only (no timestamps turned into Dates, no `<<` merge keys).
    // js-yaml refuses duplicate keys by itself.
    data = jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA, filename: path });
  } catch (error) {
    return { findings: [jsYamlFinding(path, text, error)], text };
  }
  if (data === undefined || data === null) {
    return { findings: [yamlFinding(path, { line: 1, column: 1 }, 'file is empty; a record is a YAML mapping of fields')], text };
  }
  const reserved = reservedKeyPointers(data);
  if (reserved.length) {
    const map = new SourceMap(text);
    return {
      findings: reserved.map(({ pointer, key }) =>
        yamlFinding(path, map.locate(pointer), `${key} is a reserved name (a member of every JavaScript object) and cannot be a field or metric name; rename it`),
      ),
      text,
    };
  }
  return { data, findings: [], text };
}

function jsYamlFinding(path: string, text: string, error: unknown): Finding {
  if (error instanceof jsYaml.YAMLException) {
    const mark = (error as { mark?: { line: number; column: number; position: number } }).mark;
    const reason = error.reason || 'invalid YAML';
    const message = /duplicated mapping key/.test(reason) ? 'duplicate key: each field may appear once in a mapping' : reason;
    if (mark) {
      // js-yaml marks duplicate keys at the end of the mapping entry; point at the key itself.
      const pos = /duplicated mapping key/.test(reason) ? duplicateKeyPosition(text, mark.position) : undefined;
      return yamlFinding(path, pos ?? { line: mark.line + 1, column: mark.column + 1 }, message);
    }
    return yamlFinding(path, { line: 1, column: 1 }, message);
  }
  return yamlFinding(path, { line: 1, column: 1 }, `cannot parse YAML: ${String(error)}`);
}

/**
 * Finds the first duplicated key, where `yaml` says each key starts. Each mapping's keys are
 * compared through one Set, as js-yaml compares them (as text), so a mapping of n keys costs n
 * look-ups; `yaml`'s own uniqueKeys check compares each key with every earlier one.
 */
function duplicateKeyPosition(text: string, _fallbackOffset: number): Position | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false });
  let first: number | undefined;
  const stack: unknown[] = [doc.contents];
  while (stack.length) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key;
        if (isScalar(key) && key.range) {
          const name = String(key.value);
          if (seen.has(name)) first = Math.min(first ?? Infinity, key.range[0]);
          seen.add(name);
        }
        stack.push(pair.key, pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  if (first === undefined) return undefined;
  // The duplicate that comes first in the text, as js-yaml, which stops at it, reports it.
  const p = lineCounter.linePos(first);
  return { line: p.line, column: p.col };
}

/**
 * Source positions of a record, computed on first use from `yaml`'s parseDocument: JSON pointer ->
 * line and column. For a mapping entry the position is its key's (the field's line).
 */
export class SourceMap {
  private doc?: Document.Parsed;
  private lineCounter = new LineCounter();
  /** Plain block text: every key's and item's position, from the fast path in one pass. */
  private plain?: ReadonlyMap<string, Position> | null;
  private keys = new WeakMap<object, Map<string, unknown>>();

  constructor(private readonly text: string) {}

  locate(pointer: string): Position {
    if (this.plain === undefined) this.plain = plainPositions(this.text);
    if (this.plain) {
      // The deepest part of the pointer that exists (a missing field is reported at its parent).
      for (let p = pointer; p !== ''; p = p.slice(0, p.lastIndexOf('/'))) {
        const found = this.plain.get(p);
        if (found) return found;
      }
      return this.plain.get('') ?? { line: 1, column: 1 };
    }
    if (!this.doc) this.doc = parseDocument(this.text, { lineCounter: this.lineCounter, uniqueKeys: false, strict: false });
    const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const segment of segments) {
      if (isMap(node)) {
        let byKey = this.keys.get(node);
        if (!byKey) {
          byKey = new Map();
          for (const p of node.items) {
            const k = isScalar(p.key) ? String(p.key.value) : String(p.key);
            if (!byKey.has(k)) byKey.set(k, p);
          }
          this.keys.set(node, byKey);
        }
        const pair = byKey.get(segment) as { key: unknown; value: unknown } | undefined;
        if (!pair) break;
        offset = rangeStart(pair.key) ?? offset;
        node = pair.value;
      } else if (isSeq(node)) {
        const item = node.items[Number(segment)];
        if (item === undefined) break;
        offset = rangeStart(item) ?? offset;
        node = item;
      } else {
        break;
      }
    }
    const p = this.lineCounter.linePos(offset);
    return { line: Math.max(1, p.line), column: Math.max(1, p.col) };
  }
}

function rangeStart(node: unknown): number | undefined {
  if (isNode(node) || isAlias(node)) return (node as Node).range?.[0];
  return undefined;
}
