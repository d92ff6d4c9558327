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
import { isAlias, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import type { Finding } from './findings.ts';
import { parseCanonicalYaml } from './yaml-fast.ts';
import type { Position } from './view.ts';

/** Records are small; anything larger is refused before it is read or parsed. */
export const MAX_RECORD_BYTES = 1024 * 1024;

export interface ParsedYaml {
  data?: unknown;
  findings: Finding[];
  /** The text, when it decoded; kept so positions can be computed lazily. */
  text?: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const AMPERSAND = 0x26;
const STAR = 0x2a;

function yamlFinding(path: string, position: Position, message: string): Finding {
  return { path, line: Math.max(1, position.line), column: Math.max(1, position.column), rule: 'yaml', message };
}

/** Line and column (1-based) of a character offset. */
export function positionOfOffset(text: string, offset: number): Position {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { line, column: offset - lineStart + 1 };
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

/** Anchors and aliases, found in the source without expanding anything (an alias bomb costs nothing here). */
function anchorFindings(path: string, text: string): Finding[] {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: false, strict: false });
  const findings: Finding[] = [];
  const at = (offset: number | undefined) => {
    const p = lineCounter.linePos(offset ?? 0);
    return { line: p.line, column: p.col };
  };
  visit(doc, {
    Alias(_key, node) {
      findings.push(yamlFinding(path, at(node.range?.[0]), `alias *${node.source} is not allowed: records use no anchors or aliases; write the value out`));
    },
    Node(_key, node) {
      if (node.anchor) {
        // The node's range starts at its value; the anchor is written just before it.
        const start = node.range?.[0] ?? 0;
        const anchorAt = text.lastIndexOf(`&${node.anchor}`, start);
        findings.push(yamlFinding(path, at(anchorAt >= 0 ? anchorAt : start), `anchor &${node.anchor} is not allowed: records use no anchors or aliases; write the value out`));
      }
    },
  });
  return findings;
}

/**
 * Parses one record file's bytes. Never throws: every problem is a finding located in the file.
 * The size check comes first, so an oversized file is refused without being decoded or parsed.
 */
export function parseRecordYaml(path: string, bytes: Buffer, limit = MAX_RECORD_BYTES): ParsedYaml {
  if (bytes.length > limit) return { findings: [oversizedFinding(path, bytes.length, limit)] };
  const decoded = decodeText(path, bytes);
  if (decoded.text === undefined) return { findings: decoded.findings };
  const text = decoded.text;
  // `&` and `*` are rare in records; only when present is the source checked for anchors and aliases.
  if (bytes.indexOf(AMPERSAND) >= 0 || bytes.indexOf(STAR) >= 0) {
    const anchors = anchorFindings(path, text);
    if (anchors.length) return { findings: anchors, text };
  }
  // Most records are in the small part of YAML the fast path reads; it agrees with js-yaml.
  const fast = parseCanonicalYaml(text);
  if (fast !== undefined) return { data: fast, findings: [], text };
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

/** Finds the first duplicated key with `yaml`, which knows where each key starts. */
function duplicateKeyPosition(text: string, _fallbackOffset: number): Position | undefined {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  const err = doc.errors.find((e) => e.code === 'DUPLICATE_KEY');
  if (!err) return undefined;
  const p = lineCounter.linePos(err.pos[0]);
  return { line: p.line, column: p.col };
}

/**
 * Source positions of a record, computed on first use from `yaml`'s parseDocument: JSON pointer ->
 * line and column. For a mapping entry the position is its key's (the field's line).
 */
export class SourceMap {
  private doc?: Document.Parsed;
  private lineCounter = new LineCounter();

  constructor(private readonly text: string) {}

  locate(pointer: string): Position {
    if (!this.doc) this.doc = parseDocument(this.text, { lineCounter: this.lineCounter, uniqueKeys: false, strict: false });
    const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: unknown = this.doc.contents;
    let offset = rangeStart(node) ?? 0;
    for (const segment of segments) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === segment);
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
