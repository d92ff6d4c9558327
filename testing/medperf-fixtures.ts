// Real responses of MedPerf's server (fixtures/medperf-api/, see its NOTICE.md), as the lists an
// import reads: for the pure tests here and the loopback server the CLI's tests start.
import { readFileSync } from 'node:fs';

export const FIXTURES = new URL('./fixtures/medperf-api/', import.meta.url);

type Json = Record<string, unknown>;

/** The lists a MedPerf server holds, keyed by endpoint. */
export interface MedperfData {
  users: Json[];
  mlcubes: Json[];
  models: Json[];
  datasets: Json[];
  benchmarks: Json[];
  results: Json[];
  /** BenchmarkDatasetList entries (what /datasets/{id}/benchmarks/ lists). */
  datasetAssociations: Json[];
  /** BenchmarkModelList entries (what /models/{id}/benchmarks/ lists). */
  modelAssociations: Json[];
}

const read = (name: string) => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8')) as { results: Json[] };

/** The real responses, as fetched from MedPerf's server. */
export function fixtureData(): MedperfData {
  return {
    users: read('users.json').results,
    mlcubes: read('mlcubes.json').results,
    models: read('models.json').results,
    datasets: read('datasets.json').results,
    benchmarks: read('benchmarks.json').results,
    results: read('results.json').results,
    datasetAssociations: read('me_datasets_associations.testdo.json').results,
    modelAssociations: read('me_models_associations.testbo.json').results,
  };
}

