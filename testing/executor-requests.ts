// What an executor is asked to run in the executors' tests: the test cube (fixtures/slurm-cube, a
// model and evaluator whose infer behaves as its parameters.yaml says: ok, slow, hang, fail) as a
// data owner's machine has it, and a model's execution on a small prepared dataset.
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { materializeCube, type RegisteredCube } from '../cli/cube/materialize.ts';
import type { ChainRequest } from '../cli/executors/executor.ts';
import type { Execution } from '../cli/results.ts';
import type { CubeRecord } from '../registry/records.ts';

export const TEST_CUBE = fileURLToPath(new URL('./fixtures/slurm-cube/', import.meta.url));

const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

/** The test cube in mode `mode`, registered as `test/<prefix>-<mode>` with its image pinned to `digest`, materialized under `stateDir`. */
export async function testCube(work: string, stateDir: string, prefix: string, mode: string, digest: string): Promise<RegisteredCube> {
  const dir = join(work, `cube-${mode}`);
  cpSync(TEST_CUBE, dir, { recursive: true });
  writeFileSync(join(dir, 'workspace', 'parameters.yaml'), `mode: ${mode}\n`);
  const asset = (path: string) => ({ url: pathToFileURL(path).href, sha256: sha(readFileSync(path)) });
  const record: CubeRecord = {
    name: `${prefix}-${mode}`,
    kind: 'model',
    mlcube: asset(join(dir, 'mlcube.yaml')),
    parameters: asset(join(dir, 'workspace', 'parameters.yaml')),
    image: { digest },
    state: 'development',
  };
  return materializeCube(`test/${prefix}-${mode}`, record, { stateDir });
}

/** A model's execution on a small prepared dataset, as `run` asks an executor for it. */
export async function executionRequest(
  work: string,
  stateDir: string,
  cube: { prefix: string; mode: string; digest: string },
  extra: Partial<ChainRequest<'execute-model'>> = {},
): Promise<ChainRequest<'execute-model'>> {
  const data = join(stateDir, 'prepared', 'data');
  const labels = join(stateDir, 'prepared', 'labels');
  mkdirSync(data, { recursive: true });
  mkdirSync(labels, { recursive: true });
  writeFileSync(join(data, 'x.txt'), 'x');
  const model = await testCube(work, stateDir, cube.prefix, cube.mode, cube.digest);
  const evaluator = await testCube(work, stateDir, cube.prefix, 'ok', cube.digest);
  const execution: Execution = { benchmark: `${cube.prefix}-test`, dataset: 'test/ds', generatedUid: 'a'.repeat(64), preparedData: data, preparedLabels: labels, preparator: evaluator, model, evaluator };
  return {
    kind: 'execute-model',
    input: { execution, options: {} },
    label: model.id,
    key: `execute-${cube.mode}-${Date.now()}`,
    tasks: ['infer', 'evaluate'],
    resources: { cpus: 1, memoryBytes: 256 * 1024 ** 2, timeouts: {} },
    ...extra,
  };
}
