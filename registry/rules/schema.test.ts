// The schema rule: a file that must pass and files that must fail with their exact messages.
import { describe, expect, it } from 'vitest';
import { EXAMPLE_PATHS as P, exampleFiles } from '../../testing/example-registry.ts';
import { ruleFindings } from '../../testing/records.ts';
import { rule } from './schema.ts';

const { check } = ruleFindings(rule, { sorted: true });

function edit(path: string, from: string | RegExp, to: string): Record<string, string> {
  const files = exampleFiles();
  const before = files[path]!;
  files[path] = before.replace(from, to);
  if (files[path] === before) throw new Error(`edit did not apply to ${path}`);
  return files;
}

describe('schema rule', () => {
  it('passes every record of the example registry', async () => {
    expect(await check(exampleFiles())).toEqual([]);
  });

  it('names the allowed values of an enum, at the field', async () => {
    expect(await check(edit(P.cube, 'kind: model', 'kind: modle'))).toEqual([
      `${P.cube}:4:1 schema field \`kind\` must be one of data-preparator, model, metrics (got "modle")`,
    ]);
  });

  it('names an unknown field and the fields the record allows, at its line', async () => {
    expect(await check(edit(P.result, 'partial: false', 'partial: false\nnotes: "seen at St. Mary"'))).toEqual([
      `${P.result}:10:1 schema unknown field \`notes\` (result records allow only benchmark, model, dataset, metrics, encrypted_metrics, partial, version, provenance, signature)`,
    ]);
  });

  it('says which required field is missing', async () => {
    expect(await check(edit(P.dataset, /generated_uid: .*\n/, ''))).toEqual([`${P.dataset}:2:1 schema missing required field \`generated_uid\``]);
  });

  it('says a metric must be a number, at the metric', async () => {
    expect(await check(edit(P.result, 'AUC: 0.726', 'AUC: high'))).toEqual([
      `${P.result}:6:3 schema field \`metrics.AUC\` must be a number or a mapping (metrics are numbers only)`,
    ]);
  });

  it('describes a malformed hash with the schema\'s words', async () => {
    expect(await check(edit(P.cube, /sha256: 5ed7\w+/, 'sha256: abc12345'))).toEqual([
      `${P.cube}:7:3 schema field \`mlcube.sha256\` must be a sha256 digest, 64 lower-case hex digits (got "abc12345")`,
    ]);
  });

  it('asks for exactly one of mlcube and container_config', async () => {
    expect(await check(edit(P.cube, /mlcube:\n.*\n.*\n/, ''))).toEqual([`${P.cube}:2:1 schema exactly one of \`mlcube\` or \`container_config\` is required`]);
  });

  it('checks registry.yaml too', async () => {
    expect(await check(edit(P.registry, /admins:\n  - medperf-admin\n/, 'admins: []\n'))).toEqual([
      `${P.registry}:4:1 schema field \`admins\` must NOT have fewer than 1 items`,
    ]);
  });

  it('reports YAML problems of record files, and nothing for files it does not own', async () => {
    const files = { ...exampleFiles(), [P.dataset]: 'name: a\nname: b\n', 'README.md': '# hi\n' };
    expect(await check(files)).toEqual([`${P.dataset}:2:1 yaml duplicate key: each field may appear once in a mapping`]);
  });

  it('checks only the paths it is given, and says nothing of deleted ones', async () => {
    const files = edit(P.cube, 'kind: model', 'kind: modle');
    expect(await check(files, [P.dataset, 'mlcubes/someone/deleted.yaml'])).toEqual([]);
  });
});
