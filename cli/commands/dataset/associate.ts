import { approvedBenchmark } from '../../preconditions.ts';
import { Command, Option } from 'clipanion';
import { readByCommittee } from '../../../registry/envelope.ts';
import { MedperfError } from '../../../registry/errors.ts';
import { autoApprovedBy } from '../../../registry/gate.ts';
import { paths } from '../../../registry/layout.ts';
import type { DatasetAssociationRecord } from '../../../registry/records.ts';
import { declaredNames, keepDeclared, leftOutLine, metricRows } from '../../../registry/metrics.ts';
import { CubeCommand } from '../../executors/command.ts';
import { DatasetInDevelopmentError } from '../../../registry/run-plan.ts';
import { benchmarkCubes, pendingPull, qualify, runnableCube, withMain } from '../../main-branch.ts';
import { preparedPaths, readLocalDataset } from '../../datasets.ts';
import { withForge } from '../../forge.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { executionKey } from '../../results.ts';
import { confirmOrCancel, indent, pullLine, statusLine, table } from '../../ui.ts';
import { VERSION } from '../../version.ts';

export class DatasetAssociateCommand extends CubeCommand {
  static override paths = [['dataset', 'associate']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Ask to join a benchmark with an operational dataset',
    details: `
      MedPerf's \`dataset associate\`: runs the benchmark's reference model and evaluator on your
      prepared data, shows the metrics and the association record, asks for confirmation, and opens a
      pull request adding \`benchmarks/<benchmark>/datasets/<you>/<dataset>.yaml\` for the benchmark
      committee to approve. Only the metrics and hashes are published.
    `,
    examples: [['Associate your dataset with a benchmark', '$0 dataset associate -b chestxray -d hospital-a']],
  });

  benchmark = Option.String('--benchmark,-b', { required: true, description: 'The benchmark' });
  dataset = Option.String('--dataset,-d', { required: true, description: 'The dataset: name, or owner/name' });
  noCache = Option.Boolean('--no-cache', false, { description: 'Run the reference model again even if it ran on this data before' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const id = qualify(this.dataset, forge.login, '--dataset');
      const path = paths.datasetAssociation(this.benchmark, id);
      const status = statusLine(this.context, { quiet: this.json });
      const { bench, config, cubes, generatedUid } = await withMain(forge, async (view) => {
        const bench = await approvedBenchmark(forge, view, this.benchmark);
        declaredNames(this.benchmark, bench.data, 'metric_names');
        const dataset = await view.dataset(id);
        if (!dataset) {
          const pull = await pendingPull(forge, paths.dataset(id));
          throw new MedperfError('not-registered', pull ? `the dataset ${id} is not registered yet: its pull request #${pull} is still open; nothing was submitted` : `no dataset ${id} in the registry; register it with \`medperf-git dataset submit\``);
        }
        if (dataset.data.state !== 'operational') throw new DatasetInDevelopmentError(id);
        if (dataset.data.data_preparation_mlcube !== bench.data.data_preparation_mlcube) {
          throw new MedperfError('preparator-mismatch', `the dataset ${id} was prepared with ${dataset.data.data_preparation_mlcube}, but ${this.benchmark} uses ${bench.data.data_preparation_mlcube}; nothing was submitted`);
        }
        if (await view.datasetAssociation(this.benchmark, id)) throw new MedperfError('already-associated', `the dataset ${id} is already associated with ${this.benchmark}`);
        status.update('fetching and verifying the benchmark\'s cubes');
        const cubes = { ...(await benchmarkCubes(view, this.stateDir, bench.data, forge.login)), model: await runnableCube(view, this.stateDir, bench.data.reference_model, forge.login) };
        return { bench, config: await view.registryConfig(), cubes, generatedUid: dataset.data.generated_uid };
      });
      const local = await readLocalDataset(this.stateDir, id);
      if (local.generated_uid !== generatedUid) {
        throw new MedperfError('prepared-data-mismatch', `the prepared data here (generated_uid ${local.generated_uid ?? 'none: not prepared'}) is not the data registered as ${id} (${generatedUid}); nothing was submitted`);
      }
      const { executor } = await this.chooseExecutor();
      const resources = await this.resources();
      const p = preparedPaths(this.stateDir, id);
      const execution = { benchmark: this.benchmark, dataset: id, generatedUid, preparedData: p.data, preparedLabels: p.labels, ...cubes };
      const {
        value: { result, cached },
      } = await this.cancellable(executor, () =>
        executor.run({
          kind: 'execute-model',
          input: { execution, options: { noCache: this.noCache } },
          label: cubes.model.id,
          key: `execute-${executionKey(execution).slice(0, 32)}`,
          tasks: ['infer', 'evaluate'],
          resources,
          onStatus: (line) => status.update(line),
        }),
      );
      status.done();
      // The association publishes the metrics the benchmark declares, and nothing else.
      const { kept: metrics, left } = keepDeclared(result.metrics, declaredNames(this.benchmark, bench.data, 'metric_names'));
      // Under a committee-only benchmark they are per-dataset numbers the public may not read: the
      // association publishes none, and they reach the committee encrypted with the results.
      const sealed = readByCommittee(bench.data);
      const record: DatasetAssociationRecord = {
        initiated_by: forge.login,
        compatibility_test: {
          metrics: sealed ? {} : metrics,
          dataset_generated_uid: generatedUid,
          cubes: result.cubes,
          medperf_git_version: VERSION,
          executed_at: result.executed_at,
        },
      };
      const yaml = recordYaml('dataset-association', path, record);
      const metricsTable = table(['metric', 'value'], metricRows(metrics));
      if (!this.json) {
        this.print(`The reference model ${bench.data.reference_model} on ${id}${cached ? ' (from an earlier run)' : ''}:`);
        this.print(indent(metricsTable));
        const leftOut = leftOutLine(left, 'metrics', this.benchmark);
        if (leftOut) this.print(indent(leftOut));
        if (sealed) this.print(`The results of ${this.benchmark} are read by its committee only: these numbers stay here, and reach the committee encrypted with your results.`);
        this.print(`This will be published in ${forge.registry}, as ${path}:`);
        this.print(indent(yaml.trimEnd()));
      }
      await confirmOrCancel(this.context, `Ask to associate ${id} with ${this.benchmark}?`, { yes: this.yes });
      const { pull, created } = await forge.propose({
        key: `dataset-association/${this.benchmark}/${id}`,
        title: `Associate dataset ${id} with ${this.benchmark}`,
        body: `The data owner asks to join \`${this.benchmark}\` with \`${id}\` (generated_uid \`${generatedUid}\`).\n\n${
          sealed
            ? `The reference model \`${bench.data.reference_model}\` ran on this data; its metrics are read by the committee only, so they are not published here.`
            : `The reference model \`${bench.data.reference_model}\` on this data:\n\n| metric | value |\n|---|---|\n${metricRows(metrics).map(([k, v]) => `| ${k} | ${v} |`).join('\n')}`
        }\n\nOpened by medperf-git dataset associate.`,
        files: [{ path, content: yaml }],
      });
      if (this.json) {
        this.printJson({ benchmark: this.benchmark, dataset: id, pull: pull.number, url: pull.url, created, record });
        return 0;
      }
      this.print(pullLine(pull, created));
      // The gate's own policy check, with the registry-wide default when the benchmark sets none.
      const automatic = autoApprovedBy('dataset', id.split('/')[0]!, bench.data, config) !== undefined;
      this.print(
        automatic
          ? `The benchmark's policy approves your datasets without a review: once its checks pass, merge it (\`medperf-git pr merge ${pull.number}\`).`
          : `A committee member of ${this.benchmark} (${bench.data.committee.join(', ')}) approves it (\`medperf-git association approve -b ${this.benchmark} -d ${id}\`).`,
      );
      this.print(`Then run the benchmark: \`medperf-git run -b ${this.benchmark} -d ${id}\`.`);
      return 0;
    });
  }
}
