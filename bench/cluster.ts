// What the Slurm executor costs: 8 trivial executions (a model's infer and evaluate each) through
// the single-node Slurm cluster of examples/slurm/start.sh, two at a time, against the same
// executions with the local executor two at a time (`run --jobs 2`), on the same node, in the same
// run. Beside the ratio: how long each job waited between sbatch and running (scheduling latency).
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildCubeImage } from '../cli/demo/images.ts';
import type { CubeRecord } from '../registry/records.ts';
import { materializeCube } from '../cli/cube/materialize.ts';
import type { ChainRequest, Executor } from '../cli/executors/executor.ts';
import { LocalExecutor } from '../cli/executors/local.ts';
import { SlurmExecutor } from '../cli/executors/slurm.ts';
import { DockerRunner } from '../cli/runners/docker.ts';
import { startSlurm } from '../testing/slurm-cluster.ts';

const EXECUTIONS = 8;
const AT_ONCE = 2;
const FIXTURE = fileURLToPath(new URL('../testing/fixtures/slurm-cube/', import.meta.url));

export async function main(): Promise<void> {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '.cache', 'cluster');
  rmSync(root, { recursive: true, force: true });
  const imageId = await buildCubeImage(FIXTURE, 'medperf-git-test/slurm-cube:2');
  const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
  /** EXECUTIONS distinct trivial models (their parameters differ), materialized under stateDir. */
  const requests = async (stateDir: string): Promise<Array<ChainRequest<'execute-model'>>> => {
    const data = join(stateDir, 'prepared', 'data');
    mkdirSync(data, { recursive: true });
    writeFileSync(join(data, 'x.txt'), 'x');
    const out: Array<ChainRequest<'execute-model'>> = [];
    for (let i = 0; i < EXECUTIONS; i++) {
      const dir = join(root, `cube-${i}`);
      cpSync(FIXTURE, dir, { recursive: true });
      writeFileSync(join(dir, 'workspace', 'parameters.yaml'), `mode: trivial${i}\n`);
      const asset = (path: string) => ({ url: pathToFileURL(path).href, sha256: sha(path) });
      const record: CubeRecord = { name: `trivial-${i}`, kind: 'model', mlcube: asset(join(dir, 'mlcube.yaml')), parameters: asset(join(dir, 'workspace', 'parameters.yaml')), image: { digest: imageId }, state: 'development' };
      const cube = await materializeCube(`bench/trivial-${i}`, record, { stateDir });
      const execution = { benchmark: 'bench', dataset: 'bench/ds', generatedUid: 'b'.repeat(64), preparedData: data, preparedLabels: data, preparator: cube, model: cube, evaluator: cube };
      out.push({ kind: 'execute-model', input: { execution, options: {} }, label: cube.id, key: `bench-${i}`, tasks: ['infer', 'evaluate'], resources: { cpus: 1, timeouts: {} } });
    }
    return out;
  };
  /** Wall time of every request, AT_ONCE at a time. */
  const wall = async (executor: Executor, all: Array<ChainRequest<'execute-model'>>) => {
    const started = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: AT_ONCE }, async () => {
      while (next < all.length) await executor.run(all[next++]!);
    }));
    return Date.now() - started;
  };

  const localState = join(root, 'local');
  const local = await wall(new LocalExecutor(localState, new DockerRunner(localState)), await requests(localState));
  const cluster = await startSlurm();
  try {
    const slurmState = join(root, 'slurm');
    const submitted = new Map<string, number>();
    const latencies: number[] = [];
    const all = (await requests(slurmState)).map((r) => ({
      ...r,
      onStatus: (line: string) => {
        if (line.includes('submitted as Slurm job')) submitted.set(r.label, Date.now());
        else if (line.includes('running on') && submitted.has(r.label)) latencies.push(Date.now() - submitted.get(r.label)!);
      },
    }));
    const slurm = await wall(new SlurmExecutor(slurmState, 'docker', { env: { ...process.env, SLURM_CONF: cluster.conf }, pollMs: 100 }), all);
    const median = latencies.sort((a, b) => a - b)[Math.floor(latencies.length / 2)] ?? NaN;
    console.log(`cluster: ${EXECUTIONS} executions, ${AT_ONCE} at a time; local ${local} ms, slurm ${slurm} ms; scheduling latency per job: median ${median} ms, max ${Math.max(...latencies)} ms`);
    console.log(`BENCH cluster-overhead ratio=${(slurm / local).toFixed(2)} target<=1.5 scheduling-latency-ms=${median}`);
  } finally {
    cluster.stop();
  }
}
