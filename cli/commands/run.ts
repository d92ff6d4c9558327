import { approvedBenchmark } from '../preconditions.ts';
import { Command, Option } from 'clipanion';
import pLimit from 'p-limit';
import { MedperfError } from '../../registry/errors.ts';
import { modelAssociationsOf } from '../../registry/collections.ts';
import { paths } from '../../registry/layout.ts';
import { leftOutLine } from '../../registry/metrics.ts';
import { planRun, type RunFacts, runRefusal, runsAgain } from '../../registry/run-plan.ts';
import type { LoadedRecord } from '../../registry/view.ts';
import { isPositiveInteger } from '../base.ts';
import { CubeCommand } from '../executors/command.ts';
import { ChainNotStartedError } from '../executors/executor.ts';
import { readByCommittee } from '../../registry/envelope.ts';
import {
  benchmarkCubes,
  committeeRecipients,
  outgoingResults,
  pendingPull,
  proposeResults,
  qualify,
  runnableCube,
  withMain,
} from '../main-branch.ts';
import { preparedPaths, readLocalDataset } from '../datasets.ts';
import type { RegisteredCube } from '../cube/materialize.ts';
import { withForge } from '../forge.ts';
import { signerOnMain } from '../keys.ts';
import { executionKey, type LocalResult, readCachedResult } from '../results.ts';
import { confirm, indent, pullLine, statusLine, table } from '../ui.ts';

interface Execution {
  model: string;
  result?: LocalResult;
  cached: boolean;
  /** Whether the run got to this model before it stopped. */
  reached: boolean;
  error?: string;
  /** The task that failed: the model's infer, or the evaluator's evaluate. */
  failedTask?: string;
  /** The cluster job that ran it. */
  job?: string;
}

/** ran, cached, partial, failed or not reached. */
function executionStatus(e: Execution): string {
  if (e.result?.partial) return 'partial';
  if (e.result) return e.cached ? 'cached' : 'ran';
  if (e.error) return e.failedTask ? `failed (${e.failedTask})` : 'failed';
  return 'not reached';
}

function executionJson(e: Execution) {
  return {
    model: e.model,
    status: executionStatus(e),
    result: e.result?.id,
    partial: e.result?.partial ?? false,
    cached: e.cached,
    error: e.error ?? null,
    failed_task: e.failedTask ?? null,
    job: e.job ?? null,
    metrics: e.result?.metrics,
  };
}

export class RunCommand extends CubeCommand {
  static override paths = [['run']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Run every approved model of a benchmark on your dataset, and submit the results',
    details: `
      MedPerf's \`benchmark run\`. Runs every model whose association with the benchmark is approved
      (on the registry's main branch), by priority, on your prepared dataset: the model's \`infer\`, then
      the benchmark's evaluator. Finished executions are reused (keyed by every hash involved) unless
      \`--no-cache\` (which keeps the earlier predictions and result until the rerun finishes); an
      interrupted run resumes. \`--new-result\` runs again what the registry holds already and
      submits it as the result's next version. With \`--ignore-model-errors\`, a model that fails is
      evaluated on what it predicted and reported as partial, and the run goes on.

      Prints MedPerf's summary table, then shows exactly the result records that will be sent (metrics
      and hashes only) and asks before opening one pull request with all of them.
    `,
    examples: [
      ['Run every approved model', '$0 run -b chestxray -d hospital-a'],
      ['Run two models, two at a time, without questions', '$0 run -b chestxray -d hospital-a -m model-owner/chestxray-mobilenet -m bench-committee/chestxray-cnn --jobs 2 --yes'],
    ],
  });

  benchmark = Option.String('--benchmark,-b', { required: true, description: 'The benchmark' });
  dataset = Option.String('--dataset,-d', { required: true, description: 'Your dataset: name, or owner/name' });
  models = Option.Array('--model,-m', { description: 'Only these models (owner/name); each must be approved for the benchmark' });
  noCache = Option.Boolean('--no-cache', false, { description: 'Run every model again, even executions that finished before (each replaces the earlier one only once it finishes)' });
  newResult = Option.Boolean('--new-result', false, { description: 'Run again the executions whose result is in the registry already, and submit each as a new version' });
  ignoreModelErrors = Option.Boolean('--ignore-model-errors', false, { description: 'Keep going when a model fails; its result is partial' });
  jobs = Option.String('--jobs', '1', { description: 'How many models run at once (on Slurm every model is queued at once, and Slurm keeps to this many)', validator: isPositiveInteger });
  noSubmit = Option.Boolean('--no-submit', false, { description: 'Keep the results here; submit them later with `result submit`' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const id = qualify(this.dataset, forge.login, '--dataset');
      const local = await readLocalDataset(this.stateDir, id);
      const status = statusLine(this.context, { quiet: this.json });
      const plan = await withMain(forge, async (view) => {
        const bench = await approvedBenchmark(forge, view, this.benchmark);
        const facts: RunFacts = {
          benchmark: this.benchmark,
          benchmarkRecord: bench.data,
          dataset: id,
          datasetRecord: (await view.dataset(id))?.data,
          preparedUid: local.generated_uid,
          datasetAssociated: Boolean(await view.datasetAssociation(this.benchmark, id)),
          approved: (await modelAssociationsOf(view, this.benchmark)).map((a) => ({ model: a.model, priority: a.record.data.priority })),
          requested: this.models,
        };
        const decided = planRun(facts);
        if ('blocked' in decided) {
          const { blocked } = decided;
          throw runRefusal(blocked, facts, 'path' in blocked ? await pendingPull(forge, blocked.path) : undefined);
        }
        const { models } = decided;
        // Results are signed by the data owner's published key: checked before anything runs.
        const signer = this.noSubmit ? undefined : await signerOnMain(forge, this.stateDir, view, 'run again');
        // So are the keys a committee-only benchmark's results are encrypted to.
        if (signer && readByCommittee(bench.data)) await committeeRecipients(view, this.benchmark, bench.data, forge.login, 'nothing was run');
        status.update('fetching and verifying the cubes');
        const cubes = await benchmarkCubes(view, this.stateDir, bench.data, forge.login);
        const modelCubes = new Map<string, RegisteredCube | Error>();
        for (const m of models) {
          try {
            modelCubes.set(m, await runnableCube(view, this.stateDir, m, forge.login));
          } catch (error) {
            if (!this.ignoreModelErrors || !(error instanceof MedperfError)) throw error;
            modelCubes.set(m, error);
          }
        }
        // When each model's registered result ran, for --new-result.
        const registered = new Map<string, string>();
        for (const m of models) {
          const rec = (await view.record(paths.result(this.benchmark, id, m))) as LoadedRecord<'result'> | undefined;
          if (rec) registered.set(m, rec.data.provenance.executed_at);
        }
        return { bench, generatedUid: facts.datasetRecord!.generated_uid, cubes, models, modelCubes, registered, signer };
      });
      status.done();
      const { runner, executor } = await this.chooseExecutor({ atOnce: Number(this.jobs) });
      const resources = await this.resources();
      const on = executor.name === 'local' ? `${runner.name} runner` : `${runner.name} runner, ${executor.name} executor`;
      if (!this.json) this.print(`Running ${plan.models.length} model${plan.models.length === 1 ? '' : 's'} of ${this.benchmark} on ${id} (${on}).`);
      const p = preparedPaths(this.stateDir, id);
      const executions: Execution[] = plan.models.map((model) => ({ model, cached: false, reached: false }));
      let firstError: unknown;
      // A cluster executor that queues ahead takes every model at once and keeps to --jobs itself.
      const limit = pLimit(executor.queuesAhead ? Math.max(1, executions.length) : Number(this.jobs));
      // After the first failure (without --ignore-model-errors), what has not started is not started.
      const stop = new AbortController();
      const execute = async (ex: Execution) => {
        if (firstError) return;
        ex.reached = true;
        const cube = plan.modelCubes.get(ex.model)!;
        try {
          if (cube instanceof Error) throw cube;
          const execution = { benchmark: this.benchmark, dataset: id, generatedUid: plan.generatedUid, preparedData: p.data, preparedLabels: p.labels, ...plan.cubes, model: cube };
          const key = executionKey(execution);
          const cached = await readCachedResult(this.stateDir, this.benchmark, id, ex.model, key);
          // --new-result runs again what the registry holds already.
          const noCache = runsAgain({ noCache: this.noCache, newResult: this.newResult }, cached?.executed_at, plan.registered.get(ex.model));
          if (cached && !noCache) {
            ex.result = cached;
            ex.cached = true;
            return;
          }
          const outcome = await executor.run({
            kind: 'execute-model',
            input: { execution, options: { noCache, ignoreModelErrors: this.ignoreModelErrors } },
            label: ex.model,
            key: `execute-${key.slice(0, 32)}`,
            tasks: ['infer', 'evaluate'],
            resources,
            onStatus: (line) => status.update(line),
            signal: stop.signal,
          });
          ex.result = outcome.value.result;
          ex.cached = outcome.value.cached;
          ex.job = outcome.job;
        } catch (error) {
          if (error instanceof ChainNotStartedError) {
            ex.reached = false;
            return;
          }
          ex.error = (error as Error).message.split('\n')[0];
          ex.failedTask = (error as { task?: string }).task;
          if (!this.ignoreModelErrors || !(error instanceof MedperfError)) {
            firstError ??= error;
            stop.abort();
            return;
          }
        }
      };
      await this.cancellable(executor, () => Promise.all(executions.map((ex) => limit(() => execute(ex)))));
      status.done();
      if (firstError) {
        if (this.json) this.printJson({ benchmark: this.benchmark, dataset: id, runner: runner.name, executor: executor.name, executions: executions.map(executionJson), error: { code: (firstError as MedperfError).code ?? 'internal-error', message: (firstError as Error).message } });
        else this.printSummary(executions);
        throw firstError;
      }
      if (!this.json) this.printSummary(executions);
      const results = executions.flatMap((e) => (e.result ? [e.result] : []));
      const { send, alreadyRegistered } = await withMain(forge, (view) => outgoingResults(view, results, plan.signer));
      const report = (pull?: { number: number; url: string }) =>
        this.printJson({
          benchmark: this.benchmark,
          dataset: id,
          runner: runner.name,
          executor: executor.name,
          executions: executions.map(executionJson),
          ...(pull ? { pull: pull.number, url: pull.url } : {}),
        });
      if (!send.length) {
        if (this.json) report();
        else this.print(alreadyRegistered.length ? 'Every result is in the registry already; nothing to send.' : 'No result to send.');
        return executions.some((e) => e.error) ? 1 : 0;
      }
      if (this.noSubmit) {
        if (this.json) report();
        else this.print(`The results are kept here; submit them with \`medperf-git result submit -b ${this.benchmark}\`.`);
        return 0;
      }
      if (!this.json) {
        this.print(`These ${send.length} result record${send.length === 1 ? '' : 's'} will be sent to ${forge.registry} (metrics and hashes only; predictions and data stay here):`);
        for (const o of send) {
          this.print(`--- ${o.path}`);
          this.print(indent(o.yaml.trimEnd()));
          const left = leftOutLine(o.left, 'metrics', o.result.benchmark);
          if (left) this.print(indent(left));
        }
      }
      if (!(await confirm(this.context, `Submit ${send.length} result${send.length === 1 ? '' : 's'} in one pull request?`, { yes: this.yes }))) {
        this.print(`Nothing was sent. The results are kept here; submit them later with \`medperf-git result submit -b ${this.benchmark}\`.`);
        return 0;
      }
      const { pull, created } = await proposeResults(forge, this.stateDir, `result/${this.benchmark}/${id}`, this.benchmark, send);
      if (this.json) report(pull);
      else {
        this.print(pullLine(pull, created));
        this.print(`Results need no reviewer: once the checks pass (every model and dataset approved), merge it (\`medperf-git pr merge ${pull.number}\`).`);
      }
      return 0;
    });
  }

  /** MedPerf's summary table after a benchmark run: every model, what became of it, and the task that failed. */
  private printSummary(executions: Execution[]): void {
    this.print(
      table(
        ['model', 'status', 'local result id', 'partial', 'from cache', 'error'],
        executions.map((e) => [e.model, executionStatus(e), e.result?.id ?? '', e.result ? (e.result.partial ? 'yes' : 'no') : '', e.result ? (e.cached ? 'yes' : 'no') : '', e.error ?? '']),
      ),
    );
    const count = (f: (e: Execution) => boolean) => executions.filter(f).length;
    const notReached = count((e) => !e.reached);
    this.print(
      `Total: ${executions.length} model${executions.length === 1 ? '' : 's'}, ${count((e) => Boolean(e.result && !e.cached))} ran, ${count((e) => e.cached)} from cache, ${count((e) => Boolean(e.result?.partial))} partial, ${count((e) => Boolean(e.error))} failed` +
        (notReached ? `, ${notReached} not reached` : ''),
    );
  }
}
