import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import jsYaml from 'js-yaml';
import { describe, expect, it, vi } from 'vitest';
import { EXAMPLE_PATHS as P, EXAMPLE_REGISTRY, exampleFiles } from '../testing/example-registry.ts';
import { formatFinding, type Finding } from './findings.ts';
import { directoryTree, memoryTree } from './trees.ts';
import { validateChange, validateRegistry } from './validate.ts';

const RECORD_PATHS = Object.values(P);

function located(findings: Finding[], files: Record<string, unknown>): void {
  for (const f of findings) {
    expect(f.path in files, formatFinding(f)).toBe(true);
    expect(f.line, formatFinding(f)).toBeGreaterThanOrEqual(1);
    expect(f.column, formatFinding(f)).toBeGreaterThanOrEqual(1);
    expect(f.message.length).toBeGreaterThan(0);
  }
}

describe('validateRegistry', () => {
  it('finds nothing wrong with the example registry', async () => {
    expect((await validateRegistry(directoryTree(EXAMPLE_REGISTRY))).map(formatFinding)).toEqual([]);
  });

  it('reports every problem at once, sorted by file and line', async () => {
    const files = exampleFiles();
    files[P.cube] = files[P.cube]!.replace('kind: model', 'kind: modle');
    files[P.dataset] = files[P.dataset]!.replace('state: operational', 'state: operational\nstate: development');
    files['notes.txt'] = 'hello\n';
    const lines = (await validateRegistry(memoryTree(files))).map(formatFinding);
    expect(lines).toContain(`${P.dataset}:15:1 yaml duplicate key: each field may appear once in a mapping`);
    expect(lines).toContain(`${P.cube}:4:1 schema field \`kind\` must be one of data-preparator, model, metrics (got "modle")`);
    expect(lines.some((l) => l.startsWith('notes.txt:1:1 layout file is outside the registry layout'))).toBe(true);
    expect(lines).toEqual([...lines].sort((a, b) => (a.split(':')[0]! < b.split(':')[0]! ? -1 : a.split(':')[0]! > b.split(':')[0]! ? 1 : 0)));
  });

  it('rejects a result with an extra free-text field', async () => {
    const files = exampleFiles();
    files[P.result] = files[P.result]!.replace('partial: false', 'partial: false\nnotes: "patient 0042 of St. Mary, born 1961"');
    const findings = await validateRegistry(memoryTree(files));
    const at = findings.filter((f) => f.path === P.result);
    expect(at.map((f) => `${f.line} ${f.rule}`)).toEqual(expect.arrayContaining(['10 schema', '10 privacy']));
    expect(at.find((f) => f.rule === 'schema')?.message).toBe(
      'unknown field `notes` (result records allow only benchmark, model, dataset, metrics, encrypted_metrics, partial, version, provenance, signature)',
    );
  });

  it('rejects an alias bomb in a record', async () => {
    const files = exampleFiles();
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 12; i++) levels.push(`l${i}: &l${i} [${Array(9).fill(i === 1 ? '*a' : `*l${i - 1}`).join(',')}]`);
    files[P.dataset] = levels.join('\n') + '\n';
    const findings = (await validateRegistry(memoryTree(files))).filter((f) => f.path === P.dataset);
    expect(findings.length).toBeGreaterThan(0);
    expect(findings.every((f) => f.rule === 'yaml')).toBe(true);
  });

  it('rejects a 20 MB record file from its size, without parsing it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medperf-git-validate-'));
    try {
      const files = exampleFiles();
      for (const [p, text] of Object.entries(files)) {
        mkdirSync(join(dir, p, '..'), { recursive: true });
        writeFileSync(join(dir, p), text);
      }
      const big = Buffer.alloc(20 * 1024 * 1024, 0x20);
      big.write('name: huge\n');
      writeFileSync(join(dir, P.dataset), big);
      const load = vi.spyOn(jsYaml, 'load');
      const findings = await validateRegistry(directoryTree(dir));
      const parsed = load.mock.calls.map((c) => String(c[1]?.filename));
      load.mockRestore();
      expect(parsed).not.toContain(P.dataset);
      expect(findings.filter((f) => f.path === P.dataset).map(formatFinding)).toEqual([
        `${P.dataset}:1:1 yaml file is ${big.length} bytes; registry files may be at most 1048576 bytes (1 MiB)`,
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('validateChange', () => {
  it('checks a new result against the merge base, with its author', async () => {
    const head = exampleFiles();
    const base = { ...head };
    delete base[P.result];
    const findings = await validateChange({ base: memoryTree(base), head: memoryTree(head), author: 'data-owner' });
    expect(findings.map(formatFinding)).toEqual([]);
    const byOther = await validateChange({ base: memoryTree(base), head: memoryTree(head), author: 'model-owner' });
    expect(byOther.map((f) => `${f.path} ${f.rule}`)).toEqual([`${P.result} ownership`]);
  });

  it('looks only at the changed paths it is given', async () => {
    const head = exampleFiles();
    head[P.cube] = head[P.cube]!.replace('kind: model', 'kind: modle');
    const findings = await validateChange({ base: memoryTree(exampleFiles()), head: memoryTree(head), changed: [P.registry], author: 'medperf-admin' });
    expect(findings).toEqual([]);
  });
});

describe('bad input never crashes validation, and every rejection is located', () => {
  const YAML_BITS = [':', ': ', '- ', '&a ', '*a', '{', '}', '[', ']', '"', "'", '#', '\n', '\t', '  ', '\0', '\uFFFD', 'é', '|', '>', '!!str ', '? ', '%YAML 1.2\n', '---\n', '...\n', '0x1F', '1e400', 'null', '~'];
  const textEdit = fc.record({
    path: fc.constantFrom(...RECORD_PATHS),
    at: fc.nat(),
    cut: fc.nat({ max: 40 }),
    insert: fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom(...YAML_BITS), fc.array(fc.constantFrom(...YAML_BITS), { maxLength: 6 }).map((a) => a.join(''))),
  });

  it('survives random edits of the YAML text', async () => {
    const original = exampleFiles();
    await fc.assert(
      fc.asyncProperty(textEdit, async ({ path, at, cut, insert }) => {
        const files: Record<string, string> = { ...original };
        const text = files[path]!;
        const i = at % (text.length + 1);
        files[path] = text.slice(0, i) + insert + text.slice(i + cut);
        const findings = await validateRegistry(memoryTree(files));
        located(findings, files);
      }),
      { numRuns: 1500 },
    );
  });

  type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
  const valueEdit = fc.record({
    path: fc.constantFrom(...RECORD_PATHS),
    pick: fc.nat(),
    action: fc.constantFrom('replace', 'delete', 'add-key', 'rename-key'),
    value: fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
    key: fc.oneof(fc.string({ maxLength: 10 }), fc.constantFrom('notes', 'kind', 'state', 'metrics', 'url', '__proto__', 'constructor')),
  });

  /** Every object (mapping) in a parsed record, with the keys it holds. */
  function mappings(node: Json, out: Array<Record<string, Json>> = []): Array<Record<string, Json>> {
    if (Array.isArray(node)) for (const n of node) mappings(n, out);
    else if (node && typeof node === 'object') {
      out.push(node);
      for (const v of Object.values(node)) mappings(v, out);
    }
    return out;
  }

  it('survives random changes of values and keys', async () => {
    const original = exampleFiles();
    await fc.assert(
      fc.asyncProperty(valueEdit, async ({ path, pick, action, value, key }) => {
        const data = jsYaml.load(original[path]!) as Json;
        const maps = mappings(data);
        const target = maps[pick % maps.length]!;
        const keys = Object.keys(target);
        const k = keys[pick % keys.length]!;
        if (action === 'replace') target[k] = value;
        else if (action === 'delete') delete target[k];
        else if (action === 'add-key') Object.defineProperty(target, key, { value, enumerable: true, configurable: true, writable: true });
        else {
          const v = target[k]!;
          delete target[k];
          Object.defineProperty(target, key, { value: v, enumerable: true, configurable: true, writable: true });
        }
        const files: Record<string, string> = { ...original, [path]: jsYaml.dump(data) };
        const findings = await validateRegistry(memoryTree(files));
        located(findings, files);
      }),
      { numRuns: 1500 },
    );
  });
});
