// The demo registry written for this machine is valid, and its benchmark runs from its records:
// cubes fetched through the verified cache, images pinned, demo dataset prepared to the
// generated_uid the benchmark records.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { benchmarkCubes, runCompatibilityTest } from '../cli/compatibility.ts';
import { DockerRunner } from '../cli/runners/docker.ts';
import { createView } from '../registry/load.ts';
import { directoryTree } from '../registry/trees.ts';
import { validateRegistry } from '../registry/validate.ts';
import { DEMO_BENCHMARK, writeDemoRegistry } from './demo-registry.ts';

const tmp = mkdtempSync(join(tmpdir(), 'demo-registry-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('the demo registry', () => {
  it('validates, and its benchmark runs from its records in Docker', async () => {
    const dir = join(tmp, 'registry');
    const stateDir = join(tmp, 'state');
    const { benchmark } = await writeDemoRegistry(dir, stateDir);
    expect(await validateRegistry(directoryTree(dir))).toEqual([]);
    const cubes = await benchmarkCubes(createView(directoryTree(dir)), DEMO_BENCHMARK, { stateDir });
    expect(cubes.model.label).toBe('bench-committee/chestxray-cnn');
    const result = await runCompatibilityTest({ stateDir, runner: new DockerRunner(stateDir), ...cubes });
    expect(result.hashes.generated_uid).toBe(benchmark.demo_dataset.generated_uid);
    expect((result.metrics.AUC as Record<string, number>).mean).toBeGreaterThan(0.8);
    const mobilenet = await benchmarkCubes(createView(directoryTree(dir)), DEMO_BENCHMARK, { stateDir, model: 'model-owner/chestxray-mobilenet' });
    expect(mobilenet.model.label).toBe('model-owner/chestxray-mobilenet');
    await expect(benchmarkCubes(createView(directoryTree(dir)), 'nope', { stateDir })).rejects.toThrow('no benchmark nope in the registry (benchmarks/nope/benchmark.yaml)');
  });
});
