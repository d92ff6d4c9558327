// What a record may not hold whatever its kind, found in its source: numbers not in plain decimal
// form, tags, directives, document markers, a second document, names of JavaScript object members.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFinding } from './findings.ts';
import { RESERVED_KEYS } from './yaml-fast.ts';
import { parseRecordYaml } from './yaml.ts';

const lines = (text: string) => parseRecordYaml('r.yaml', Buffer.from(text)).findings.map(formatFinding);
const HOW = '(numbers are written as JavaScript writes them back: no hex, octal, exponent of an integer, _ or extra digits)';

describe('numbers in records', () => {
  it('refuses hex, octal, signs, exponents, extra digits and huge literals, saying what to write', () => {
    const cases: Array<[string, string]> = [
      ['0x4a6f', '19055'],
      ['0o17', '15'],
      ['017', '17'],
      ['+1', '1'],
      ['-0', '0'],
      ['0.0', '0'],
      ['1e5', '100000'],
      ['1.50', '1.5'],
      ['1.', '1'],
      ['.5', '0.5'],
      ['1E-7', '1e-7'],
    ];
    for (const [written, canonical] of cases) {
      expect(lines(`name: x\nvalue: ${written}\n`), written).toEqual([`r.yaml:2:8 yaml number ${written} is not in plain decimal form: write ${canonical} ${HOW}`]);
    }
    const huge = '123456789012345678901234567890123456789012345678901234567890';
    expect(lines(`value: ${huge}\n`)).toEqual([`r.yaml:1:8 yaml number ${huge.slice(0, 40)}... is not in plain decimal form: write 1.2345678901234567e+59 ${HOW}`]);
  });

  it('refuses infinities and not-a-number in every spelling', () => {
    for (const v of ['.inf', '.Inf', '.INF', '-.inf', '+.inf', '.nan', '.NaN', '.NAN']) {
      expect(lines(`m:\n  AUC: ${v}\n`), v).toEqual([`r.yaml:2:8 yaml ${v} is not a finite number: numbers in records are finite decimals; write the number, or leave the field out`]);
    }
  });

  it('finds a number in any place: flow lists, nested mappings, keys', () => {
    expect(lines('a: [1, 0x1]\n')).toEqual([`r.yaml:1:8 yaml number 0x1 is not in plain decimal form: write 1 ${HOW}`]);
    expect(lines('a: {b: {c: 1e3}}\n')).toEqual([`r.yaml:1:12 yaml number 1e3 is not in plain decimal form: write 1000 ${HOW}`]);
    expect(lines('m:\n  0x10: 1\n')).toEqual([`r.yaml:2:3 yaml number 0x10 is not in plain decimal form: write 16 ${HOW}`]);
  });

  it('accepts every finite double written as JavaScript writes it, and refuses it written any other way', () => {
    const rewrite = fc.constantFrom(
      (s: string) => `+${s}`,
      (s: string) => {
        const [mantissa, exponent] = s.split('e');
        const longer = mantissa!.includes('.') ? `${mantissa}0` : `${mantissa}.0`;
        return exponent === undefined ? longer : `${longer}e${exponent}`;
      },
      (s: string) => (s.includes('e') ? s.replace('e', 'E') : `${s}e0`),
      (s: string) => (s.startsWith('-') ? `-0${s.slice(1)}` : `0${s}`),
    );
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }).filter((n) => !Object.is(n, -0)), rewrite, (n, change) => {
        const canonical = String(n);
        expect(lines(`value: ${canonical}\n`)).toEqual([]);
        expect(parseRecordYaml('r.yaml', Buffer.from(`value: ${canonical}\n`)).data).toEqual({ value: n });
        const other = change(canonical);
        const found = lines(`value: ${other}\n`);
        // A rewrite YAML reads as text is not a number at all (the schema and privacy rules say so).
        if (found.length) expect(found).toEqual([`r.yaml:1:8 yaml number ${other.length > 40 ? other.slice(0, 40) + '...' : other} is not in plain decimal form: write ${canonical} ${HOW}`]);
        else expect(typeof (parseRecordYaml('r.yaml', Buffer.from(`value: ${other}\n`)).data as { value: unknown }).value).toBe('string');
      }),
      { numRuns: 300 },
    );
  });
});

describe('YAML beyond one plain document', () => {
  it('refuses tags, whatever they are', () => {
    for (const tag of ['!!float', '!!int', '!!str', '!!binary', '!custom', '!<tag:yaml.org,2002:float>']) {
      expect(lines(`name: x\nvalue: ${tag} "1"\n`), tag).toEqual([`r.yaml:2:8 yaml tag ${tag} is not allowed: records hold plain values; remove the tag and write the value itself`]);
    }
  });

  it('refuses directives, document markers and a second document', () => {
    expect(lines('%YAML 1.2\n---\na: 1\n')).toEqual([
      'r.yaml:1:1 yaml directive %YAML is not allowed: a record is one plain YAML document; remove the line',
      'r.yaml:2:1 yaml document marker --- is not allowed: a record is one plain YAML document; remove it',
    ]);
    expect(lines('%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n')).toContain('r.yaml:1:1 yaml directive %TAG is not allowed: a record is one plain YAML document; remove the line');
    expect(lines('a: 1\n---\nnote: Jane Roe, MRN 88123\n')).toEqual([
      'r.yaml:2:1 yaml a second YAML document: a record file holds one document; remove everything from here',
      'r.yaml:2:1 yaml document marker --- is not allowed: a record is one plain YAML document; remove it',
    ]);
    expect(lines('a: 1\n...\nJane Roe\n')).toContain('r.yaml:2:1 yaml document marker ... is not allowed: a record is one plain YAML document; remove it');
    expect(lines('---\na: 1\n')).toEqual(['r.yaml:1:1 yaml document marker --- is not allowed: a record is one plain YAML document; remove it']);
  });

  it('refuses the name of any JavaScript object member as a key, at any depth and in any style', () => {
    fc.assert(
      fc.property(fc.constantFrom(...RESERVED_KEYS), fc.nat({ max: 3 }), fc.boolean(), (key, depth, flow) => {
        const nest = (inner: string) => Array.from({ length: depth }).reduce<string>((acc, _v, i) => `k${i}: {${acc}}`, inner);
        const text = flow ? `name: x\n${nest(`${key}: 1`)}\n` : `name: x\n${'  '.repeat(0)}${Array.from({ length: depth }, (_v, i) => `${'  '.repeat(i)}k${i}:\n`).join('')}${'  '.repeat(depth)}${key}: 1\n`;
        const found = lines(text);
        expect(found).toHaveLength(1);
        expect(found[0]).toMatch(new RegExp(`^r\\.yaml:\\d+:\\d+ yaml ${key.replace(/[$]/g, '\\$&')} is a reserved name \\(a member of every JavaScript object\\) and cannot be a field or metric name; rename it$`));
      }),
      { numRuns: 100 },
    );
  });
});
