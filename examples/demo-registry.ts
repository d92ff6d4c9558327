// The demo benchmark as a registry that runs on this machine, offline: examples/registry with its
// four cube records pointing at the cubes of examples/cubes (file:// URLs, their sha256s and the
// ids of images built here) and its demo dataset at the tarball cli/demo/dataset.ts makes, with the
// generated_uid its preparation gives. Image ids differ between machines, so this is written (or
// refreshed) per machine rather than committed. The example results are left out: their provenance
// names the committed cubes' hashes, not those of the cubes pinned here, so they were not produced
// by these records. The associations stay, their compatibility tests naming no cube hashes (as
// tests imported from a MedPerf server name none) and the models' naming this demo data.
//
//   npx tsx examples/demo-registry.ts <folder>
import { cpSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import yaml from 'js-yaml';
import { sha256Hex } from '../registry/hash.ts';
import type { BenchmarkRecord, CompatibilityTest, CubeRecord } from '../registry/records.ts';
import { paths } from '../registry/layout.ts';
import { runCompatibilityTest } from '../cli/compatibility.ts';
import { computeCubeAssets, cubeRecord } from '../cli/cube/assets.ts';
import { recordYaml } from '../registry/record-yaml.ts';
import { ProcessRunner } from '../cli/runners/process.ts';
import { buildDemoTarball } from '../cli/demo/dataset.ts';
import { buildDemoImages, CUBES_DIR, DEMO_CUBES } from '../cli/demo/images.ts';

export const EXAMPLE_REGISTRY = fileURLToPath(new URL('./registry/', import.meta.url));
export const DEMO_BENCHMARK = 'chestxray';

const KINDS: Record<keyof typeof DEMO_CUBES, CubeRecord['kind']> = {
  'bench-committee/chestxray-prep': 'data-preparator',
  'bench-committee/chestxray-cnn': 'model',
  'model-owner/chestxray-mobilenet': 'model',
  'bench-committee/chestxray-metrics': 'metrics',
};

/** The demo cubes' records, pinned to this machine's files and images (built if needed). */
export async function demoCubeRecords(stateDir: string): Promise<Record<keyof typeof DEMO_CUBES, CubeRecord>> {
  const images = await buildDemoImages();
  const records = {} as Record<keyof typeof DEMO_CUBES, CubeRecord>;
  for (const id of Object.keys(DEMO_CUBES) as Array<keyof typeof DEMO_CUBES>) {
    const assets = await computeCubeAssets({ dir: join(CUBES_DIR, DEMO_CUBES[id].dir), imageDigest: images[id] }, { stateDir, inspectImage: async () => ({ id: images[id], repoDigests: [] }) });
    records[id] = cubeRecord(assets, { name: assets.configName ?? id, description: `medperf-git demo cube ${id}`, kind: KINDS[id] });
    records[id].image = { digest: images[id] };
  }
  return records;
}

/**
 * Copies examples/registry to `dir` (replacing it) with the demo cubes and dataset made runnable
 * here. The demo dataset's generated_uid is what the data preparator makes of it (run once, without
 * a container: the same code gives the same bytes in Docker).
 */
export async function writeDemoRegistry(dir: string, stateDir: string): Promise<{ benchmark: BenchmarkRecord; cubes: Record<string, CubeRecord> }> {
  await rm(dir, { recursive: true, force: true });
  cpSync(EXAMPLE_REGISTRY, dir, { recursive: true });
  await rm(join(dir, 'benchmarks', DEMO_BENCHMARK, 'results'), { recursive: true, force: true });
  const cubes = await demoCubeRecords(stateDir);
  for (const [id, record] of Object.entries(cubes)) {
    const path = paths.cube(id);
    writeFileSync(join(dir, path), recordYaml('cube', path, record));
  }
  const assetsDir = join(stateDir, 'demo-source');
  await mkdir(assetsDir, { recursive: true });
  const tarball = join(assetsDir, 'demo_data.tar.gz');
  await buildDemoTarball(tarball);
  const demoDataset = { url: pathToFileURL(tarball).href, sha256: sha256Hex(readFileSync(tarball)) };
  const cube = (id: keyof typeof DEMO_CUBES) => ({ dir: join(CUBES_DIR, DEMO_CUBES[id].dir), label: id });
  const prepared = await runCompatibilityTest({
    stateDir,
    runner: new ProcessRunner(stateDir, () => {}),
    dataPreparator: cube('bench-committee/chestxray-prep'),
    model: cube('bench-committee/chestxray-cnn'),
    evaluator: cube('bench-committee/chestxray-metrics'),
    demoDataset,
  });
  const benchmarkPath = paths.benchmark(DEMO_BENCHMARK);
  const benchmark = yaml.load(readFileSync(join(dir, benchmarkPath), 'utf8')) as BenchmarkRecord;
  benchmark.demo_dataset = { ...demoDataset, generated_uid: prepared.hashes.generated_uid };
  writeFileSync(join(dir, benchmarkPath), recordYaml('benchmark', benchmarkPath, benchmark));
  for (const kind of ['model-association', 'dataset-association'] as const) {
    const folder = kind === 'model-association' ? 'models' : 'datasets';
    for (const owner of readdirSync(join(dir, 'benchmarks', DEMO_BENCHMARK, folder))) {
      for (const name of readdirSync(join(dir, 'benchmarks', DEMO_BENCHMARK, folder, owner))) {
        const path = `benchmarks/${DEMO_BENCHMARK}/${folder}/${owner}/${name}`;
        const record = yaml.load(readFileSync(join(dir, path), 'utf8')) as { compatibility_test: CompatibilityTest };
        delete record.compatibility_test.cubes;
        if (kind === 'model-association') record.compatibility_test.dataset_generated_uid = benchmark.demo_dataset.generated_uid;
        writeFileSync(join(dir, path), recordYaml(kind, path, record));
      }
    }
  }
  return { benchmark, cubes };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = resolve(process.argv[2] ?? 'demo-registry');
  const { stateDir } = await import('../cli/state.ts');
  await writeDemoRegistry(dir, stateDir());
  console.log(`demo registry written to ${dir}`);
}
