// What the Slurm executor costs: 8 trivial executions (a model's infer and evaluate each) through
// the single-node Slurm cluster of examples/slurm/start.sh, two at a time, against the same
// executions with the local executor two at a time (`run --jobs 2`), on the same node, in the same
// run. Slurm keeps to two at a time itself (`run --jobs 2`: every job is queued at once, each behind
// the one two places before it, the first ones behind the probe job). Beside the ratio: where each
// job's time went, from its files and the engine's container events.
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
import Docker from 'dockerode';

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
  /** Wall time of every request, AT_ONCE at a time (an executor that queues ahead is handed all, and keeps to AT_ONCE itself); when each one's outcome was back. */
  const wall = async (executor: Executor, all: Array<ChainRequest<'execute-model'>>) => {
    const started = Date.now();
    const back = new Map<string, number>();
    let next = 0;
    await Promise.all(Array.from({ length: executor.queuesAhead ? all.length : AT_ONCE }, async () => {
      while (next < all.length) {
        const request = all[next++]!;
        await executor.run(request);
        back.set(request.key, Date.now());
      }
    }));
    return { ms: Date.now() - started, back };
  };
  const docker = new Docker();
  /** The engine's container events (create, destroy) of Slurm jobs from now on, by job id. */
  const containerEvents = async () => {
    const events = new Map<string, Array<{ action: string; at: number }>>();
    const stream = (await docker.getEvents({ filters: { type: ['container'], event: ['create', 'destroy'], label: ['org.medperf-git.job'] } })) as NodeJS.ReadableStream & { destroy: () => void };
    let buffered = '';
    stream.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const e = JSON.parse(buffered.slice(0, nl)) as { Action: string; timeNano: number; Actor: { Attributes: Record<string, string> } };
        buffered = buffered.slice(nl + 1);
        const job = e.Actor.Attributes['org.medperf-git.job']!;
        events.set(job, [...(events.get(job) ?? []), { action: e.Action, at: e.timeNano / 1e6 }]);
      }
    });
    return { events, stop: () => stream.destroy() };
  };

  // Local and Slurm rounds alternate, so a load that comes and goes on a shared machine weighs on
  // both alike; each round is a first command on a fresh state directory (the Slurm one runs its
  // probe job too). The medians are compared.
  const cluster = await startSlurm();
  try {
    const locals: number[] = [];
    const slurms: number[] = [];
    const phases: Record<string, number[]> = { firstStart: [], nextStart: [], toFirstContainer: [], containers: [], notice: [] };
    for (let round = 0; round < ROUNDS; round++) {
      const localState = join(root, `local-${round}`);
      locals.push((await wall(new LocalExecutor(localState, new DockerRunner(localState)), await requests(localState))).ms);
      const slurmState = join(root, `slurm-${round}`);
      const all = await requests(slurmState);
      const watch = await containerEvents();
      const began = Date.now();
      const { ms, back } = await wall(new SlurmExecutor(slurmState, 'docker', { env: { ...process.env, SLURM_CONF: cluster.conf }, atOnce: AT_ONCE }), all);
      slurms.push(ms);
      await new Promise((r) => setTimeout(r, 200));
      watch.stop();
      // Where each job's time went, from its files: sbatch (job.json), the job script starting on the
      // node (started.json), the chain's outcome (outcome.json), and the engine's container events.
      const jobs = all.map((r) => {
        const dir = join(slurmState, 'jobs', r.key);
        const record = JSON.parse(readFileSync(join(dir, 'job.json'), 'utf8')) as { id: string; submitted_at: string; after: string[] };
        return { key: r.key, ...record, submitted: Date.parse(record.submitted_at), started: statSync(join(dir, 'started.json')).mtimeMs, outcome: statSync(join(dir, 'outcome.json')).mtimeMs };
      });
      for (const job of jobs) {
        const before = jobs.find((j) => job.after.includes(j.id));
        // A job behind another starts once that one ends; the first ones, once the probe job (submitted at the start) ends.
        if (before) phases.nextStart!.push(job.started - before.outcome);
        else phases.firstStart!.push(job.started - began);
        const events = watch.events.get(job.id) ?? [];
        const first = Math.min(...events.filter((e) => e.action === 'create').map((e) => e.at));
        const last = Math.max(...events.filter((e) => e.action === 'destroy').map((e) => e.at));
        phases.toFirstContainer!.push(first - job.started);
        phases.containers!.push(last - first);
        phases.notice!.push(back.get(job.key)! - job.outcome);
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
    const [local, slurm] = [median(locals), median(slurms)];
    const ms = (xs: number[]) => `median ${Math.round(median(xs))} ms (max ${Math.round(Math.max(...xs))})`;
    console.log(`cluster: ${EXECUTIONS} executions, ${AT_ONCE} at a time, ${ROUNDS} rounds; local ${locals.join('/')} ms, slurm ${slurms.join('/')} ms (each with its probe job)`);
    console.log(`cluster: per Slurm job: the first ${AT_ONCE}, from the command's start (probe job submitted, run, ended) to starting on the node ${ms(phases.firstStart!)}; each later one, from the job before it ending to starting ${ms(phases.nextStart!)}; the job script to its first container (medperf-git starting on the node) ${ms(phases.toFirstContainer!)}; its containers (infer, evaluate) ${ms(phases.containers!)}; its outcome written to the command noticing ${ms(phases.notice!)}; a local execution ${Math.round((local * AT_ONCE) / EXECUTIONS)} ms`);
    console.log(`BENCH cluster-overhead ratio=${(slurm / local).toFixed(2)} target<=1.5 scheduling-latency-ms=${Math.round(median(phases.nextStart!))}`);
  } finally {
    cluster.stop();
  }
}
