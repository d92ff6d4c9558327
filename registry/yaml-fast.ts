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
  if (NUMBERISH.test(s)) {
    // js-yaml reads the integer -0 as 0, and the float -0.0 as -0.
    if (INT.test(s)) return Number(s) || 0;
    if (FLOAT.test(s)) return Number(s);
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
}

/** Parses a record's text, or returns undefined when it uses more YAML than the fast path reads. */
export function parseCanonicalYaml(text: string): Value | undefined {
  if (text.includes('\r') || text.includes('\t')) return undefined;
  const lines: Line[] = [];
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    let i = start;
    while (i < end && text.charCodeAt(i) === 0x20) i++;
    if (i < end && text.charCodeAt(i) !== 0x23 /* # */) {
      const line = text.slice(i, end);
      // Document markers and directives belong to the general parser.
      if (i === start && (line.startsWith('---') || line.startsWith('...') || line.startsWith('%'))) return undefined;
      lines.push({ indent: i - start, text: line });
    }
    start = end + 1;
  }
  if (lines.length === 0 || lines[0]!.indent !== 0) return undefined;
  let pos = 0;

  function mapping(indent: number): { [k: string]: Value } | undefined {
    const out: { [k: string]: Value } = {};
    while (pos < lines.length && lines[pos]!.indent === indent) {
      const line = lines[pos]!.text;
      if (line.startsWith('- ') || line === '-') return undefined;
      const colon = line.indexOf(':');
      if (colon <= 0) return undefined;
      const key = line.slice(0, colon);
      if (!KEY.test(key) || key === '__proto__' || BOOL_NULL.has(key) || Object.prototype.hasOwnProperty.call(out, key)) return undefined;
      const rest = line.slice(colon + 1);
      pos++;
      if (rest === '' || rest.trim() === '') {
        const next = lines[pos];
        if (next && next.indent > indent) {
          const child = next.text.startsWith('- ') ? sequence(next.indent) : mapping(next.indent);
          if (child === undefined) return undefined;
          out[key] = child;
        } else if (next && next.indent === indent && next.text.startsWith('- ')) {
          const child = sequence(indent);
          if (child === undefined) return undefined;
          out[key] = child;
        } else {
          out[key] = null;
        }
        continue;
      }
      if (rest.charCodeAt(0) !== 0x20) return undefined;
      const value = scalar(rest.slice(1).trimStart());
      if (value === undefined) return undefined;
      out[key] = value;
    }
    if (pos < lines.length && lines[pos]!.indent > indent) return undefined;
    return out;
  }

  function sequence(indent: number): Value[] | undefined {
    const out: Value[] = [];
    while (pos < lines.length && lines[pos]!.indent === indent && lines[pos]!.text.startsWith('- ')) {
      const item = lines[pos]!.text.slice(2).trimStart();
      // Items that are mappings or nested sequences go to the general parser.
      if (item.startsWith('- ') || /^[^"'][^:]*:(?: |$)/.test(item)) return undefined;
      const value = scalar(item);
      if (value === undefined) return undefined;
      out.push(value);
      pos++;
    }
    if (pos < lines.length && lines[pos]!.indent > indent) return undefined;
    return out;
  }

  const root = mapping(0);
  return root !== undefined && pos === lines.length ? root : undefined;
}
