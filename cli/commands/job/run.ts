import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Command, Option } from 'clipanion';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../../../registry/errors.ts';
import { BaseCommand } from '../../base.ts';
import { runChain } from '../../executors/chains.ts';
import { withLimits } from '../../executors/local.ts';
import type { JobOutcome, JobSpec } from '../../executors/slurm.ts';
import { DockerRunner } from '../../runners/docker.ts';
import type { Limits, Runner } from '../../runners/runner.ts';

/** The job's allocation as runner limits: Docker containers live outside the job's cgroup, so the container gets them. */
export function allocationLimits(env: NodeJS.ProcessEnv): Limits {
  const cpus = Number(env.SLURM_CPUS_PER_TASK ?? env.SLURM_CPUS_ON_NODE);
  const perNode = Number(env.SLURM_MEM_PER_NODE);
  const perCpu = Number(env.SLURM_MEM_PER_CPU);
  const memoryMb = perNode > 0 ? perNode : perCpu > 0 && cpus > 0 ? perCpu * cpus : 0;
  const gpus = env.SLURM_JOB_GPUS ?? env.CUDA_VISIBLE_DEVICES;
  return {
    ...(cpus > 0 ? { cpus } : {}),
    ...(memoryMb > 0 ? { memoryBytes: memoryMb * 1024 ** 2 } : {}),
    ...(gpus && /^\d+(,\d+)*$/.test(gpus) ? { gpus: `device=${gpus}` } : {}),
  };
}

export class JobRunCommand extends BaseCommand {
  static override paths = [['job', 'run']];
  static override usage = Command.Usage({
    category: 'Cluster',
    description: 'Run a submitted chain of cube tasks on this compute node (what a cluster job runs)',
    details: `
      The job script that \`--executor slurm\` submits calls this on the compute node. It runs the
      chain written in SPEC (a model's infer and evaluate, a dataset's preparation) through the
      same container runner as a local run, applies the job's allocation (CPUs, memory, GPUs) to
      each container, and writes the outcome beside SPEC for the submitting command to collect.
      Cancelling the job stops and removes the running container.
    `,
    examples: [['Run a chain by hand', '$0 job run ~/.medperf-git/jobs/KEY/spec.json']],
  });

  spec = Option.String({ name: 'spec' });

  async execute(): Promise<number> {
    const file = resolve(this.context.cwd, this.spec);
    const spec = JSON.parse(await readFile(file, 'utf8')) as JobSpec;
    const env = this.context.env;
    const job = env.SLURM_JOB_ID ?? 'local';
    const allocation = allocationLimits(env);
    this.print(`medperf-git job ${job}: ${spec.kind} of ${spec.label} on ${env.SLURMD_NODENAME ?? 'this node'}, allocation ${JSON.stringify(allocation)}`);
    const runner: Runner =
      spec.runner === 'docker'
        ? new DockerRunner(spec.stateDir, undefined, { 'org.medperf-git.job': job })
        : await (await import('../../execution.ts')).chooseRunner(spec.runner, spec.stateDir, (line) => this.warn(line));
    const outcomeFile = join(dirname(file), 'outcome.json');
    let outcome: JobOutcome;
    try {
      const value = await runChain(spec.kind, withLimits(spec.kind, spec.input as never, allocation), { stateDir: spec.stateDir, runner, onStatus: (line) => this.print(line) });
      outcome = { job, ok: true, value };
    } catch (error) {
      const e = error as Error & { code?: string; task?: string };
      outcome = { job, ok: false, error: { code: error instanceof MedperfError ? error.code : 'internal-error', message: e.message, ...(e.task ? { task: e.task } : {}) } };
      this.warn(e.message);
    }
    await writeFileAtomic(outcomeFile, JSON.stringify(outcome) + '\n');
    const code = outcome.ok ? 0 : 1;
    // In a job, the allocation ends with the chain: connections the engine's client keeps open must
    // not hold the node (and the next job waiting for it) a moment longer.
    if (env.SLURM_JOB_ID) setTimeout(() => process.exit(code), 0).unref();
    return code;
  }
}
