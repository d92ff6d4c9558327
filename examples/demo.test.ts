// The demo benchmark end to end: the same cubes in Docker (real engine) and under the process
// runner give the same metrics, and a rerun reuses every finished task.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCompatibilityTest } from '../cli/compatibility.ts';
import { DockerRunner } from '../cli/runners/docker.ts';
import { ProcessRunner } from '../cli/runners/process.ts';
import { generateDataset } from '../cli/demo/dataset.ts';
import { buildDemoImages, CUBES_DIR, DEMO_CUBES } from '../cli/demo/images.ts';

const tmp = mkdtempSync(join(tmpdir(), 'demo-test-'));
let images: Awaited<ReturnType<typeof buildDemoImages>>;
beforeAll(async () => {
  images = await buildDemoImages();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const cube = (id: keyof typeof DEMO_CUBES, pin = true) => ({
  dir: join(CUBES_DIR, DEMO_CUBES[id].dir),
  label: id,
  ...(pin ? { imageDigest: images[id] } : {}),
});

describe('the demo benchmark', () => {
  const data = generateDataset(join(tmp, 'hospital'), { count: 40, seed: 3 });
  const warnings: string[] = [];
  const run = (runner: 'docker' | 'process', stateDir: string, model: keyof typeof DEMO_CUBES = 'bench-committee/chestxray-cnn') =>
    runCompatibilityTest({
      stateDir,
      runner: runner === 'docker' ? new DockerRunner(stateDir) : new ProcessRunner(stateDir, (w) => warnings.push(w)),
      dataPreparator: cube('bench-committee/chestxray-prep'),
      model: cube(model),
      evaluator: cube('bench-committee/chestxray-metrics'),
      dataPath: data.dataPath,
      labelsPath: data.labelsPath,
      limits: { timeoutMs: 120_000 },
    });

  it('gives the same metrics in Docker and in the process runner', async () => {
    const docker = await run('docker', join(tmp, 'state-docker'));
    const processRun = await run('process', join(tmp, 'state-process'));
    expect(docker.ran).toEqual(['prepare', 'sanity_check', 'statistics', 'infer', 'evaluate']);
    expect(docker.metrics).toEqual(processRun.metrics);
    expect(docker.hashes.generated_uid).toBe(processRun.hashes.generated_uid);
    expect(docker.hashes.input_data_hash).toBe(processRun.hashes.input_data_hash);
    expect(docker.hashes.model.image).toBe(images['bench-committee/chestxray-cnn']);
    const auc = docker.metrics.AUC as Record<string, number>;
    expect(Object.keys(auc)).toEqual(['cardiomegaly', 'effusion', 'pneumonia', 'mean']);
    expect(auc.mean).toBeGreaterThan(0.8);
    expect(docker.statistics.num_samples).toBe(40);
    expect(warnings[0]).toMatch(/NO isolation/);
    // Outputs belong to whoever ran the CLI, not to the container's user.
    expect(statSync(join(docker.paths.predictions, 'predictions.csv')).uid).toBe(process.getuid!());
  });

  it('reuses every finished task on a rerun, and reruns them all with noCache', async () => {
    const stateDir = join(tmp, 'state-docker');
    const again = await run('docker', stateDir);
    expect(again.ran).toEqual([]);
    expect(again.reused).toEqual(['prepare', 'sanity_check', 'statistics', 'infer', 'evaluate']);
    const other = await run('docker', stateDir, 'model-owner/chestxray-mobilenet');
    // A different model: the data preparation is a different run folder, so everything runs once.
    expect(other.ran).toContain('infer');
    expect((other.metrics.AUC as Record<string, number>).mean!).toBeLessThan((again.metrics.AUC as Record<string, number>).mean!);
    expect(readdirSync(join(stateDir, 'logs')).length).toBeGreaterThanOrEqual(10);
    const fresh = await runCompatibilityTest({
      stateDir,
      runner: new DockerRunner(stateDir),
      dataPreparator: cube('bench-committee/chestxray-prep'),
      model: cube('bench-committee/chestxray-cnn'),
      evaluator: cube('bench-committee/chestxray-metrics'),
      dataPath: data.dataPath,
      labelsPath: data.labelsPath,
      noCache: true,
    });
    expect(fresh.ran).toEqual(['prepare', 'sanity_check', 'statistics', 'infer', 'evaluate']);
    expect(fresh.metrics).toEqual(again.metrics);
  });
});
