import { describe, expect, it, vi } from 'vitest';
import jsYaml from 'js-yaml';
import { formatFinding } from './findings.ts';
import { MAX_RECORD_BYTES, parseRecordYaml, SourceMap } from './yaml.ts';

const lines = (path: string, text: string | Buffer) =>
  parseRecordYaml(path, Buffer.isBuffer(text) ? text : Buffer.from(text)).findings.map(formatFinding);

describe('parseRecordYaml', () => {
  it('parses a plain mapping with YAML 1.2 core scalars (a timestamp stays text)', () => {
    const r = parseRecordYaml('a.yaml', Buffer.from('n: 1\nok: true\nat: 2024-05-01T12:00:00Z\n'));
    expect(r.findings).toEqual([]);
    expect(r.data).toEqual({ n: 1, ok: true, at: '2024-05-01T12:00:00Z' });
  });

  it('refuses a duplicate key at the key', () => {
    expect(lines('r.yaml', 'name: a\nkind: model\nname: b\n')).toEqual(['r.yaml:3:1 yaml duplicate key: each field may appear once in a mapping']);
  });

  it('refuses anchors and aliases where they are', () => {
    expect(lines('r.yaml', 'a: &x [1]\nb: *x\n')).toEqual([
      'r.yaml:1:4 yaml anchor &x is not allowed: records use no anchors or aliases; write the value out',
      'r.yaml:2:4 yaml alias *x is not allowed: records use no anchors or aliases; write the value out',
    ]);
  });

  it('refuses an alias bomb without expanding it', () => {
    const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      bomb.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const spy = vi.spyOn(jsYaml, 'load');
    const findings = parseRecordYaml('bomb.yaml', Buffer.from(bomb.join('\n') + '\n')).findings;
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
    expect(findings.length).toBeGreaterThan(10);
    expect(findings.every((f) => f.rule === 'yaml' && f.line >= 1)).toBe(true);
    expect(formatFinding(findings[0]!)).toBe('bomb.yaml:1:4 yaml anchor &a is not allowed: records use no anchors or aliases; write the value out');
  });

  it('refuses a binary file at its first NUL byte', () => {
    expect(lines('r.yaml', 'a: 1\nb: "x\0"\n')).toEqual(['r.yaml:2:6 yaml binary file (contains NUL bytes); registry files are UTF-8 YAML text']);
  });

  it('refuses text that is not UTF-8', () => {
    expect(lines('r.yaml', Buffer.concat([Buffer.from('a: 1\nb: '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]))).toEqual([
      'r.yaml:2:4 yaml file is not valid UTF-8 text; save it as UTF-8',
    ]);
  });

  it('refuses a file over 1 MiB from its size alone, without decoding or parsing it', () => {
    const decode = vi.spyOn(TextDecoder.prototype, 'decode');
    const load = vi.spyOn(jsYaml, 'load');
    const big = Buffer.alloc(20 * 1024 * 1024, 0x61);
    expect(lines('big.yaml', big)).toEqual([`big.yaml:1:1 yaml file is ${big.length} bytes; registry files may be at most ${MAX_RECORD_BYTES} bytes (1 MiB)`]);
    expect(decode).not.toHaveBeenCalled();
    expect(load).not.toHaveBeenCalled();
    decode.mockRestore();
    load.mockRestore();
  });

  it('says where the syntax breaks', () => {
    expect(lines('r.yaml', 'a: [1, 2\nb: 3\n')).toEqual(['r.yaml:2:1 yaml missed comma between flow collection entries']);
  });

  it('refuses an empty file, and one with comments only', () => {
    expect(lines('r.yaml', '')).toEqual(['r.yaml:1:1 yaml file is empty; a record is a YAML mapping of fields']);
    expect(lines('r.yaml', '# nothing\n')).toEqual(['r.yaml:1:1 yaml file is empty; a record is a YAML mapping of fields']);
  });
});

describe('SourceMap', () => {
  const text = '# comment\nname: x\nprovenance:\n  cubes:\n    model:\n      id: a/b\nlist:\n  - one\n  - two\n';
  it('turns JSON pointers into the line and column of the field', () => {
    const map = new SourceMap(text);
    expect(map.locate('')).toEqual({ line: 2, column: 1 });
    expect(map.locate('/name')).toEqual({ line: 2, column: 1 });
    expect(map.locate('/provenance/cubes/model/id')).toEqual({ line: 6, column: 7 });
    expect(map.locate('/list/1')).toEqual({ line: 9, column: 5 });
  });
  it('falls back to the deepest field that exists', () => {
    expect(new SourceMap(text).locate('/provenance/cubes/missing')).toEqual({ line: 4, column: 3 });
  });
});
