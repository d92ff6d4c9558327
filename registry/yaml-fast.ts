// A fast path for the YAML that records are made of. Records written by medperf-git (and by people
// following the examples) use one small part of YAML: block mappings, block sequences of scalars,
// plain or simply quoted scalars, and full-line comments. This reads exactly that part, several
// times faster than a general parser, and returns undefined for anything else: the caller then
// parses with js-yaml, so the result is always what js-yaml gives (tests check the two agree).
//
// Scalars resolve as in YAML 1.2's core schema (js-yaml CORE_SCHEMA); any scalar whose resolution
// is not plainly a string, a decimal integer, a decimal fraction, true/false or null goes to the
// general parser.

type Value = null | boolean | number | string | Value[] | { [k: string]: Value };

/**
 * Names a mapping key may not have: the members of every JavaScript object (`__proto__`,
 * `constructor`, `toString`, ...). A reader that indexes a plain object by such a key finds a
 * function, not the record's value; records never need them, so they are refused everywhere.
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(Object.getOwnPropertyNames(Object.prototype));

/**
 * Fields and list items in one record, all mappings and lists together: records hold a few dozen.
 * A record with more is refused where it passes the limit, whatever the file's size, so no file
 * of the 1 MiB allowed costs more than that many entries to read (and a file the general parser
 * reads is at most 64 KiB).
 */
export const MAX_ENTRIES = 10_000;
const TOO_MANY = `more than ${MAX_ENTRIES} fields and list items`;

/** Where and why the fast path stopped reading: 1-based line and column. */
export interface Stop {
  line: number;
  column: number;
  why: string;
  /** The stop is MAX_ENTRIES, not a YAML form: the general parser is not tried either. */
  tooMany?: true;
}

/** A number as JavaScript writes it back: plain decimals only (no 1e3, 0x1F, 1_000, 0.50, -0). */
export function isCanonicalNumber(source: string, value: number): boolean {
  return Number.isFinite(value) && String(value) === source && !Object.is(value, -0);
}

/** Keys the fast path reads: they resolve to themselves (never a number, boolean or null). */
const KEY = /^[A-Za-z_][A-Za-z0-9_.+-]*$/;
const INT = /^-?(?:0|[1-9][0-9]{0,14})$/;
const FLOAT = /^-?(?:0|[1-9][0-9]{0,14})\.[0-9]{1,17}$/;
const NUMBERISH = /^[0-9._eE+-]*$/;
/** What js-yaml's core schema reads as a number (its int and float patterns, underscores included). */
const CORE_NUMBER = /^(?:[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|[-+]?\.[0-9_]+(?:[eE][-+]?[0-9]+)?)$/;
/** Characters a plain scalar may not start with (YAML indicators), plus quotes handled apart. */
const INDICATOR = /^[-?:,[\]{}#&*!|>'"%@`.+~ ]/;
/** Hexadecimal, octal and binary integers; `0bfd...` (a hash) is text. */
const PREFIXED_INT = /^(?:0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)$/;
const BOOL_NULL = new Map<string, Value>([
  ['true', true],
  ['True', true],
  ['TRUE', true],
  ['false', false],
  ['False', false],
  ['FALSE', false],
  ['null', null],
  ['Null', null],
  ['NULL', null],
]);

const isLetter = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a);

/** A plain scalar's text is all its own: no comment, no mapping indicator inside or at its end. */
const plainText = (s: string) => s.indexOf(' #') < 0 && s.indexOf(': ') < 0 && s.charCodeAt(s.length - 1) !== 0x3a;

/** A scalar's value, or undefined when it needs the general parser. */
function scalar(raw: string): Value | undefined {
  const s = raw.trimEnd();
  if (s === '') return undefined;
  const c = s.charCodeAt(0);
  // The common case first: text that starts with a letter (names, ids, URLs, digests, enums).
  if (isLetter(c)) {
    if (s.length <= 5) {
      const v = BOOL_NULL.get(s);
      if (v !== undefined) return v;
    }
    return plainText(s) ? s : undefined;
  }
  if (c === 0x22 /* " */) {
    if (s.length < 2 || s.charCodeAt(s.length - 1) !== 0x22) return undefined;
    const inner = s.slice(1, -1);
    return inner.includes('"') || inner.includes('\\') ? undefined : inner;
  }
  if (c === 0x27 /* ' */) {
    if (s.length < 2 || s.charCodeAt(s.length - 1) !== 0x27) return undefined;
    const inner = s.slice(1, -1);
    return inner.includes("'") ? undefined : inner;
  }
  if (c === 0x2b /* + */) {
    // `+` is no indicator: a signed number (`+5`, `+.5`, `+0x1F`, `+.inf`) is the general parser's, the rest is text.
    const rest = s.slice(1);
    if (CORE_NUMBER.test(s) || PREFIXED_INT.test(rest) || /^\.(?:inf|Inf|INF)$/.test(rest)) return undefined;
    return plainText(s) ? s : undefined;
  }
  if (NUMBERISH.test(s)) {
    // Only numbers in the form JavaScript writes them back; the general path says what to write.
    if (INT.test(s) || FLOAT.test(s)) {
      const n = Number(s);
      return isCanonicalNumber(s, n) ? n : undefined;
    }
    // Anything else a number could be is the general parser's; the rest (0.1.0) is text.
    if (CORE_NUMBER.test(s) || !/^[0-9]/.test(s)) return undefined;
    return s;
  }
  if (INDICATOR.test(s) || PREFIXED_INT.test(s)) return undefined;
  return plainText(s) ? s : undefined;
}

interface Line {
  indent: number;
  text: string;
  /** 1-based line number. */
  no: number;
}

/** What a line starting with this character would be, for a stop's message. */
function whyNot(text: string): string {
  const c = text.trimStart()[0];
  if (c === '&') return 'anchor';
  if (c === '*') return 'alias';
  if (c === '!') return 'tag';
  if (c === '[' || c === '{') return 'flow collection';
  if (c === '|' || c === '>') return 'block scalar';
  if (c === '"' || c === "'") return 'quoted text with quotes or escapes inside';
  return 'YAML beyond plain block mappings and lists';
}

/**
 * Parses a record's text, or says where it uses more YAML than the fast path reads. With
 * `positions`, records where each mapping key and list item is (JSON pointer -> line and column).
 */
export function readCanonicalYaml(text: string, positions?: Map<string, { line: number; column: number }>): { value: Value } | Stop {
  const result = readUncached(text, positions);
  // The privacy rule and a finding's position ask about the same text right after the loader: the
  // verdict is kept, so a large file is parsed once (twice when a finding is placed in it). The
  // value itself is never shared: each caller that wants it parses.
  last = { text, plain: 'value' in result, positions };
  return result;
}

let last: { text: string; plain: boolean; positions?: Map<string, { line: number; column: number }> } | undefined;

/** Whether a text is the plain block YAML this module reads (without parsing it again when it was just read). */
export function isPlainBlockYaml(text: string): boolean {
  if (last?.text === text) return last.plain;
  return 'value' in readCanonicalYaml(text);
}

/** Where each key and item of a plain block text is (JSON pointer -> position), or null when the text is not plain. */
export function plainPositions(text: string): ReadonlyMap<string, { line: number; column: number }> | null {
  if (last?.text === text && last.positions) return last.plain ? last.positions : null;
  const positions = new Map<string, { line: number; column: number }>();
  return 'value' in readCanonicalYaml(text, positions) ? positions : null;
}

/**
 * Field names already read and found valid, each kept as one string: records repeat the same few
 * dozen names, and a name seen before is then one lookup, not the checks below and a new string for
 * the object's key. Bounded, so a file of random names cannot grow it past KNOWN_KEYS.
 */
const knownKeys = new Map<string, string>();
const KNOWN_KEYS = 4096;

/**
 * The block reader over a text's content lines: one object per file, its methods shared (no
 * closures made per file).
 */
class BlockReader {
  pos = 0;
  entries = 0;
  stop: Stop | undefined;
  constructor(
    private readonly lines: Line[],
    private readonly positions: Map<string, { line: number; column: number }> | undefined,
  ) {}

  private halt(line: Line, column: number, why: string, tooMany?: true): undefined {
    this.stop ??= { line: line.no, column: line.indent + column, why, ...(tooMany && { tooMany }) };
    return undefined;
  }

  mapping(indent: number, pointer: string): { [k: string]: Value } | undefined {
    const out: { [k: string]: Value } = {};
    while (this.pos < this.lines.length && this.lines[this.pos]!.indent === indent) {
      const at = this.lines[this.pos]!;
      if (++this.entries > MAX_ENTRIES) return this.halt(at, 1, TOO_MANY, true);
      const line = at.text;
      if (line.startsWith('- ') || line === '-') return this.halt(at, 1, 'list item where a field was expected');
      const colon = line.indexOf(':');
      if (colon <= 0) return this.halt(at, 1, 'line without `field: value`');
      let key = knownKeys.get(line.slice(0, colon));
      if (key === undefined) {
        key = line.slice(0, colon);
        if (RESERVED_KEYS.has(key)) return this.halt(at, 1, `reserved name ${key}`);
        if (!KEY.test(key) || BOOL_NULL.has(key)) return this.halt(at, 1, 'field name beyond letters, digits and _ . + -');
        if (knownKeys.size < KNOWN_KEYS) knownKeys.set(key, key);
      }
      if (Object.prototype.hasOwnProperty.call(out, key)) return this.halt(at, 1, 'duplicate key');
      const here = this.positions ? `${pointer}/${key}` : '';
      this.positions?.set(here, { line: at.no, column: at.indent + 1 });
      this.pos++;
      // The common line, `field: value` with one space and a printable ASCII character after it,
      // takes no trimming; the rest goes through it.
      const first = line.charCodeAt(colon + 2);
      let raw: string;
      if (line.charCodeAt(colon + 1) === 0x20 && first > 0x20 && first < 0x7f) raw = line.slice(colon + 2);
      else {
        const rest = line.slice(colon + 1);
        if (rest === '' || rest.trim() === '') {
          const next = this.lines[this.pos];
          if (next && next.indent > indent) {
            const child = next.text.startsWith('- ') ? this.sequence(next.indent, here) : this.mapping(next.indent, here);
            if (child === undefined) return undefined;
            out[key] = child;
          } else if (next && next.indent === indent && next.text.startsWith('- ')) {
            const child = this.sequence(indent, here);
            if (child === undefined) return undefined;
            out[key] = child;
          } else {
            out[key] = null;
          }
          continue;
        }
        if (rest.charCodeAt(0) !== 0x20) return this.halt(at, colon + 1, 'no space after `:`');
        raw = rest.slice(1).trimStart();
      }
      const value = scalar(raw);
      if (value === undefined) return this.halt(at, line.length - raw.length + 1, whyNot(raw));
      out[key] = value;
    }
    if (this.pos < this.lines.length && this.lines[this.pos]!.indent > indent) return this.halt(this.lines[this.pos]!, 1, 'unexpected indentation');
    return out;
  }

  sequence(indent: number, pointer: string): Value[] | undefined {
    const out: Value[] = [];
    while (this.pos < this.lines.length && this.lines[this.pos]!.indent === indent && this.lines[this.pos]!.text.startsWith('- ')) {
      const at = this.lines[this.pos]!;
      if (++this.entries > MAX_ENTRIES) return this.halt(at, 1, TOO_MANY, true);
      const item = at.text.slice(2).trimStart();
      const column = at.text.length - item.length + 1;
      // Items that are mappings or nested sequences go to the general parser.
      if (item.startsWith('- ') || /^[^"'][^:]*:(?: |$)/.test(item)) return this.halt(at, column, 'list of mappings or lists');
      const value = scalar(item);
      if (value === undefined) return this.halt(at, column, whyNot(item));
      this.positions?.set(`${pointer}/${out.length}`, { line: at.no, column: at.indent + column });
      out.push(value);
      this.pos++;
    }
    if (this.pos < this.lines.length && this.lines[this.pos]!.indent > indent) return this.halt(this.lines[this.pos]!, 1, 'unexpected indentation');
    return out;
  }
}

function readUncached(text: string, positions?: Map<string, { line: number; column: number }>): { value: Value } | Stop {
  // A carriage return breaks lines for YAML, even inside what looks like a comment line here.
  const cr = text.indexOf('\r');
  if (cr >= 0) {
    const before = text.slice(0, cr);
    const nl = before.lastIndexOf('\n');
    return { line: before.split('\n').length, column: cr - nl, why: 'carriage return' };
  }
  const lines: Line[] = [];
  let start = 0;
  let no = 0;
  while (start < text.length) {
    no++;
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let i = start;
    while (i < end && text.charCodeAt(i) === 0x20) i++;
    if (i < end && text.charCodeAt(i) !== 0x23 /* # */) {
      const line = text.slice(i, end);
      // Document markers and directives belong to the general parser.
      if (i === start && (line.startsWith('---') || line.startsWith('...') || line.startsWith('%'))) {
        return { line: no, column: 1, why: line.startsWith('%') ? 'directive' : 'document marker' };
      }
      const tab = line.indexOf('\t');
      if (tab >= 0) return { line: no, column: i - start + 1 + tab, why: 'tab' };
      lines.push({ indent: i - start, text: line, no });
    }
    start = end + 1;
  }
  if (lines.length === 0) return { line: 1, column: 1, why: 'empty file' };
  if (lines[0]!.indent !== 0) return { line: lines[0]!.no, column: 1, why: 'indented first line' };
  positions?.set('', { line: lines[0]!.no, column: 1 });
  const reader = new BlockReader(lines, positions);
  const root = reader.mapping(0, '');
  if (root !== undefined && reader.pos === lines.length) return { value: root };
  return reader.stop ?? { line: lines[reader.pos]?.no ?? 1, column: 1, why: 'YAML beyond plain block mappings and lists' };
}

/** Parses a record's text, or returns undefined when it uses more YAML than the fast path reads. */
export function parseCanonicalYaml(text: string): Value | undefined {
  const r = readCanonicalYaml(text);
  return 'value' in r ? r.value : undefined;
}
