// The layout rule: a file that must pass and files that must fail with their exact messages.
import { describe, expect, it } from 'vitest';
import { EXAMPLE_PATHS as P, exampleFiles } from '../../testing/example-registry.ts';
import { formatFinding, sortFindings } from '../findings.ts';
import { createView } from '../load.ts';
import { memoryTree } from '../trees.ts';
import { ruleFindings } from '../../testing/records.ts';
import { rule } from './layout.ts';

const { check } = ruleFindings(rule, { sorted: true });

const LAYOUT =
  'records live at registry.yaml, mlcubes/<owner>/<name>.yaml, datasets/<owner>/<name>.yaml, benchmarks/<name>/benchmark.yaml, ' +
  'benchmarks/<name>/{models,datasets}/<owner>/<name>.yaml, benchmarks/<name>/results/<data-owner>/<dataset>/<model-owner>/<model>.yaml, and people/<login>.yaml';

describe('layout rule', () => {
  it('passes the example registry with its README and workflows', async () => {
    expect(await check({ ...exampleFiles(), 'README.md': '# registry\n', '.github/workflows/validate.yml': 'on: pull_request\n' })).toEqual([]);
  });

  it('refuses files outside the layout, with a hint when one helps', async () => {
    const cube = exampleFiles()[P.cube]!;
    expect(await check({ 'notes.txt': 'hello\n', 'mlcubes/model-owner/cnn.yml': cube, 'mlcubes/model-owner/CNN.yaml': cube, 'mlcubes/cnn.yaml': cube })).toEqual([
      'mlcubes/cnn.yaml:1:1 layout file is outside the registry layout: ' + LAYOUT,
      'mlcubes/model-owner/CNN.yaml:1:1 layout file is outside the registry layout: record names are lower case',
      'mlcubes/model-owner/cnn.yml:1:1 layout file is outside the registry layout: records end in .yaml, not .yml',
      'notes.txt:1:1 layout file is outside the registry layout: ' + LAYOUT,
    ]);
  });

  it('refuses binary and oversized files anywhere, documentation included', async () => {
    const big = Buffer.alloc(2 * 1024 * 1024, 0x61);
    expect(await check({ 'README.md': Buffer.from('# logo\n\0\0'), '.github/big.md': big })).toEqual([
      `.github/big.md:1:1 layout file is ${big.length} bytes; registry files may be at most 1048576 bytes (1 MiB)`,
      'README.md:2:1 layout binary file (contains NUL bytes); registry files are UTF-8 YAML text',
    ]);
  });

  it('checks that a result says what its path says', async () => {
    const files = exampleFiles();
    files[P.result] = files[P.result]!.replace('model: model-owner/chestxray-mobilenet', 'model: bench-committee/chestxray-cnn');
    expect(await check(files)).toEqual([
      `${P.result}:3:1 layout field \`model\` is "bench-committee/chestxray-cnn" but the file's path says "model-owner/chestxray-mobilenet"; move the file or fix the field`,
    ]);
  });
});

describe('layout rule over a folder', () => {
  it('refuses symbolic links, and never reads through them', async () => {
    const { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { directoryTree } = await import('../trees.ts');
    const dir = mkdtempSync(join(tmpdir(), 'medperf-git-layout-'));
    try {
      const files = exampleFiles();
      for (const [p, text] of Object.entries(files)) {
        mkdirSync(join(dir, p, '..'), { recursive: true });
        writeFileSync(join(dir, p), text);
      }
      writeFileSync(join(dir, '..', 'secret-' + dir.split('/').pop()), 'name: secret\n');
      symlinkSync(join(dir, '..', 'secret-' + dir.split('/').pop()), join(dir, 'mlcubes/model-owner/linked.yaml'));
      symlinkSync('/etc/hostname', join(dir, 'README.md'));
      const tree = directoryTree(dir);
      expect(await tree.read('mlcubes/model-owner/linked.yaml')).toBeUndefined();
      const findings = await rule.check({ head: createView(tree), changed: await tree.list() });
      const message = 'a symbolic link: registry files are regular files, never links (a link is not followed); commit the file itself or remove the link';
      expect(sortFindings(findings).map(formatFinding)).toEqual([`README.md:1:1 layout ${message}`, `mlcubes/model-owner/linked.yaml:1:1 layout ${message}`]);
      rmSync(join(dir, '..', 'secret-' + dir.split('/').pop()));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
