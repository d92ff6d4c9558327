import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatFinding } from '../findings.ts';
import { directoryTree, memoryTree } from '../trees.ts';
import { validateChange, validateRegistry } from '../validate.ts';
import { rules } from './index.ts';
import { P, SCHEMA_LINE, cube, result, tutorialRegistry, yaml } from '../../testing/records.ts';

describe('the rules the Action runs', () => {
  it('run in a fixed order: what a file is, how it relates, who may change it, what it publishes', () => {
    expect(rules.map((r) => r.id)).toEqual([
      'schema',
      'layout',
      'references',
      'ownership',
      'immutability',
      'privacy',
      'declared-names',
      'confidential',
      'signature',
      'result-preconditions',
    ]);
  });

  it('pass the example registry and the tutorial fixture', async () => {
    const examples = fileURLToPath(new URL('../../examples/registry/', import.meta.url));
    expect(await validateRegistry(directoryTree(examples))).toEqual([]);
    expect(await validateRegistry(memoryTree(tutorialRegistry()))).toEqual([]);
  });

  it('report every problem of a change at once, sorted, as a user sees them', async () => {
    const base = tutorialRegistry();
    const head = { ...base };
    // mallory edits bob's operational cube and rewrites dora's result with a note in it.
    head[P.model] = yaml({ ...cube('model', 'operational', 'f'), image: { digest: `sha256:${'0'.repeat(64)}` } });
    head[P.result] = yaml(result({ metrics: { AUC: 0.99 } }), SCHEMA_LINE('result')).replace('AUC: 0.99', 'AUC: 0.99 # after relabelling case 17');
    const findings = await validateChange({ base: memoryTree(base), head: memoryTree(head), author: 'mallory' });
    expect(findings.map(formatFinding)).toEqual([
      `${P.result}:1:1 ownership mallory may not change ${P.result}: it belongs to the data owner dora`,
      `${P.result}:2:1 signature the result is not signed: every result is signed by its data owner; dora runs \`medperf-git keys init\` and \`medperf-git keys publish\` once (merged), then \`medperf-git result submit -b chestxray\`, which signs it`,
      `${P.result}:6:13 privacy comments are not allowed in a result: a comment could carry data out of the hospital; remove it (only the leading \`# yaml-language-server: $schema=...\` line may stay)`,
      `${P.result}:8:1 immutability results are append-only: a rerun of version 1 must be version 2, not 1`,
      `${P.result}:20:7 references provenance.cubes.model.image is sha256:${'c'.repeat(64)}, but the registry's bob/resnet has sha256:${'0'.repeat(64)}: the result was not produced by the registered cube; run the benchmark again with \`medperf-git run\``,
      `${P.result}:28:3 immutability results are append-only: a new version needs the time of its new run, but provenance.executed_at is still 2026-11-20T10:00:00Z`,
      `${P.model}:1:1 ownership mallory may not change ${P.model}: it belongs to bob`,
      `${P.model}:10:3 immutability image.digest of an operational cube never changes (was sha256:${'c'.repeat(64)}, now sha256:${'0'.repeat(64)}): submit a new cube instead`,
    ]);
  });
});
