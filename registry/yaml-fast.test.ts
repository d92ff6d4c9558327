// The fast path must never disagree with js-yaml: whenever it returns a value, js-yaml returns
// the same; whenever js-yaml refuses a text, the fast path leaves it to js-yaml.
import fc from 'fast-check';
import jsYaml from 'js-yaml';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { exampleFiles } from '../testing/example-registry.ts';
import { parseCanonicalYaml } from './yaml-fast.ts';

function jsYamlOf(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }) };
  } catch {
    return { ok: false };
  }
}

function agrees(text: string): void {
  const fast = parseCanonicalYaml(text);
  if (fast === undefined) return;
  const reference = jsYamlOf(text);
  expect(reference.ok, JSON.stringify(text)).toBe(true);
  // isDeepStrictEqual, not toStrictEqual: a record may have a key named `constructor`.
  if (reference.ok) expect(isDeepStrictEqual(fast, reference.value), JSON.stringify(text)).toBe(true);
}

const TRICKY = [
  'true', 'True', 'FALSE', 'null', 'Null', '~', 'yes', 'no', 'on', '0', '-0', '007', '1_000', '1e3', '1E-3', '.5', '-.5', '+1', '+.5', '+1e3', '+.inf', '+.INF', '+0x1F', '+0b1', '+_1', '+a', '+9YrU/eo==', '+ a', '+a: b', '+a #b', '0x1F', '0o17', '0b101',
  '0bfd', '0.1.0', '1.', '1.50', '.inf', '-.Inf', '.nan', '2024-05-01', '2024-05-01T12:00:00Z', 'a: b', 'a:b', 'a #b', 'a#b', '#a', '- a', '-a', '&a', '*a', '!a', '|', '>',
  '@a', '`a', '%a', '"a"', "'a'", 'a"b', "a'b", 'a\\b', ' a', 'a ', '', ':', '?', '[a]', '{a}', 'é', '日本', '__proto__', 'constructor', 'toString', '12345678901234567890',
  '3.141592653589793238', 'sha256:abc', 'https://example.org/a?b=c#d',
];
const scalarArb = fc.oneof(fc.constantFrom(...TRICKY), fc.string({ maxLength: 12 }), fc.integer(), fc.double({ noNaN: true }), fc.boolean(), fc.constant(null));
const keyArb = fc.oneof(fc.constantFrom(...TRICKY), fc.stringMatching(/^[a-z_][a-z0-9_]{0,8}$/), fc.string({ maxLength: 6 }));
const recordArb = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, scalarArb, fc.array(scalarArb, { maxLength: 4 }), tie('map')),
  map: fc.dictionary(keyArb, tie('node'), { maxKeys: 5 }),
})).map;

describe('parseCanonicalYaml', () => {
  it('reads every example record, as js-yaml does', () => {
    for (const [path, text] of Object.entries(exampleFiles())) {
      const fast = parseCanonicalYaml(text);
      expect(fast, path).toBeDefined();
      expect(fast).toStrictEqual(jsYaml.load(text, { schema: jsYaml.CORE_SCHEMA }));
    }
  });

  it('leaves to js-yaml what it does not read', () => {
    for (const text of ['a: [1, 2]\n', 'a: &x 1\nb: *x\n', 'a: |\n  text\n', 'a: 1 # note\n', 'a: 1\na: 2\n', '---\na: 1\n', '- a\n', 'a:\n  - b: 1\n', '1.0: x\n', 'True: x\n', 'a: 0x1F\n', 'a: "\\n"\n', 'a:\tb\n', '']) {
      expect(parseCanonicalYaml(text), JSON.stringify(text)).toBeUndefined();
    }
  });

  it('agrees with js-yaml on random records, however they are written', () => {
    fc.assert(
      fc.property(recordArb, (record) => {
        agrees(jsYaml.dump(record));
        agrees(stringify(record));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with js-yaml on random edits of the example records', () => {
    const texts = Object.values(exampleFiles());
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.nat({ max: 30 }), fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(...TRICKY, '\n', '\n  ', '\n- ', ': ', '  ')), (which, at, cut, insert) => {
        const text = texts[which % texts.length]!;
        const i = at % (text.length + 1);
        agrees(text.slice(0, i) + insert + text.slice(i + cut));
      }),
      { numRuns: 5000 },
    );
  });
});
