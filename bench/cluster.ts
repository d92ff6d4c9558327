// What the Slurm executor costs: 8 trivial executions (a model's infer and evaluate each) through
// the single-node Slurm cluster of examples/slurm/start.sh, two at a time, against the same
// executions with the local executor two at a time (`run --jobs 2`), on the same node, in the same
// run. Beside the ratio: how long each job waited between sbatch and running (scheduling latency).
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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
const ROUNDS = 3;
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

  // Local and Slurm rounds alternate, so a load that comes and goes on a shared machine weighs on
  // both alike; each round is a first command on a fresh state directory (the Slurm one runs its
  // probe job too). The medians are compared.
  const cluster = await startSlurm();
  try {
    const locals: number[] = [];
    const slurms: number[] = [];
    const latencies: number[] = [];
    const inJob: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const localState = join(root, `local-${round}`);
      locals.push(await wall(new LocalExecutor(localState, new DockerRunner(localState)), await requests(localState)));
      const slurmState = join(root, `slurm-${round}`);
      const all = await requests(slurmState);
      slurms.push(await wall(new SlurmExecutor(slurmState, 'docker', { env: { ...process.env, SLURM_CONF: cluster.conf } }), all));
      // Where each job's time went, from its files: sbatch to the job script starting on the node
      // (scheduling latency), then the script to the chain's outcome (medperf-git starting on the node, and the tasks).
      for (const r of all) {
        const dir = join(slurmState, 'jobs', r.key);
        const submitted = Date.parse((JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { submitted_at: string }).submitted_at);
        const started = statSync(join(dir, 'started.json')).mtimeMs;
        latencies.push(Math.round(started - submitted));
        inJob.push(Math.round(statSync(join(dir, 'outcome.json')).mtimeMs - started));
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const [local, slurm, latency] = [median(locals), median(slurms), median(latencies)];
    console.log(`cluster: ${EXECUTIONS} executions, ${AT_ONCE} at a time, ${ROUNDS} rounds; local ${locals.join('/')} ms, slurm ${slurms.join('/')} ms (each with its probe job)`);
    console.log(`cluster: per job, sbatch to the job starting on its node (scheduling latency) median ${latency} ms, max ${Math.max(...latencies)} ms; the job's script to its outcome (medperf-git starting there, then infer and evaluate) median ${median(inJob)} ms; a local execution ${Math.round((local * AT_ONCE) / EXECUTIONS)} ms`);
    console.log(`BENCH cluster-overhead ratio=${(slurm / local).toFixed(2)} target<=1.5 scheduling-latency-ms=${latency}`);
  } finally {
    cluster.stop();
  }
}
