// The example registry (examples/registry/) as files in memory, for tests that change one record
// and check what validation says.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const EXAMPLE_REGISTRY = fileURLToPath(new URL('../examples/registry/', import.meta.url));

export const EXAMPLE_PATHS = {
  registry: 'registry.yaml',
  benchmark: 'benchmarks/chestxray/benchmark.yaml',
  cube: 'mlcubes/model-owner/chestxray-mobilenet.yaml',
  dataset: 'datasets/data-owner/hospital-a.yaml',
  modelAssociation: 'benchmarks/chestxray/models/model-owner/chestxray-mobilenet.yaml',
  datasetAssociation: 'benchmarks/chestxray/datasets/data-owner/hospital-a.yaml',
  result: 'benchmarks/chestxray/results/data-owner/hospital-a/model-owner/chestxray-mobilenet.yaml',
} as const;

/** Every file of examples/registry/, by registry path. */
export function exampleFiles(): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (rel: string) => {
    for (const name of readdirSync(join(EXAMPLE_REGISTRY, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      if (statSync(join(EXAMPLE_REGISTRY, p)).isDirectory()) walk(p);
      else out[p] = readFileSync(join(EXAMPLE_REGISTRY, p), 'utf8');
    }
  };
  walk('');
  return out;
}
