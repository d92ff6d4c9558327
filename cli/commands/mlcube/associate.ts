import { Command, Option } from 'clipanion';
import { modelKeyring } from '../../private-models.ts';
import { MedperfError } from '../../../registry/errors.ts';
import { benchmarkPaths, paths } from '../../../registry/layout.ts';
import type { ModelAssociationRecord } from '../../../registry/records.ts';
import { declaredNames, keepDeclared, leftOutLine, metricRows } from '../../../registry/metrics.ts';
import { BaseCommand } from '../../base.ts';
import {
  approvedBenchmark,
  CubeChangedUpstreamError,
  latestPullFor,
  mainView,
  registeredCube,
  requireCubeKind,
  requireCubeOwner,
  requireOperationalCube,
  requireLogin,
  summaryMarkdown,
  testOnDemoData,
} from '../../preconditions.ts';
import { chooseRunner, RUNNER_OPTION } from '../../execution.ts';
import { withForge } from '../../forge.ts';
import { verifyCubeUpstream } from '../../cube/assets.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { confirmOrCancel, ensureConfirmable, indent, keyValues, pullLine, withStatus } from '../../ui.ts';

export class MlcubeAssociateCommand extends BaseCommand {
  static override paths = [['mlcube', 'associate']];
  static override usage = Command.Usage({
    category: 'Model owner',
    description: 'Ask to join a benchmark with your model: run the compatibility test and open an association pull request',
    details: `
      As MedPerf's \`mlcube associate\`: the benchmark must be approved (on the registry's main
      branch) and the model registered and yours. The model's files are hashed again first: if
      anything changed upstream since registration, nothing runs and nothing is submitted.

      The compatibility test runs the benchmark's data preparator, your model and the benchmark's
      evaluator on the benchmark's demo dataset, on this machine. Its summary (metrics and every
      hash) goes into the association record and the pull request, which the benchmark committee
      approves or rejects (unless the benchmark's policy approves models automatically).
    `,
    examples: [
      ['Associate your model with the chestxray benchmark', '$0 mlcube associate -b chestxray -m model-owner/chestxray-mobilenet'],
      ['Without a container engine (no isolation)', '$0 mlcube associate -b chestxray -m model-owner/chestxray-mobilenet --runner process'],
    ],
  });

  benchmark = Option.String('--benchmark,-b', { required: true, description: 'The benchmark to join' });
  model = Option.String('--model,-m', { required: true, description: 'Your model cube, <owner>/<name>' });
  runner = Option.String('--runner', 'docker', RUNNER_OPTION);
  priority = Option.String('--priority', { description: 'The priority to ask for (the committee may change it; default 0)' });

  async execute(): Promise<number> {
    const priority = this.priority === undefined ? 0 : Number(this.priority);
    if (!Number.isInteger(priority)) throw new MedperfError('bad-arguments', `--priority ${this.priority}: give a whole number`);
    return withForge(this, async (forge) => {
      const login = requireLogin(forge);
      ensureConfirmable(this.context, `Open a pull request on ${forge.registry} asking to associate ${this.model} with ${this.benchmark}?`, { yes: this.yes });
      const view = await mainView(forge, [...benchmarkPaths(this.benchmark), 'mlcubes/']);
      const benchmark = (await approvedBenchmark(forge, view, this.benchmark)).data;
      const declared = declaredNames(this.benchmark, benchmark, 'metric_names');
      const model = (await registeredCube(forge, view, this.model)).data;
      requireCubeKind(this.model, model, 'model', 'associated cube');
      requireCubeOwner(login, this.model, model);
      requireOperationalCube(this.model, model, 'only operational models are associated with benchmarks');
      const path = paths.modelAssociation(this.benchmark, this.model);
      if (await view.tree.has(path)) {
        throw new MedperfError('already-associated', `${this.model} is already associated with ${this.benchmark} (approved); nothing was submitted`);
      }
      const open = await latestPullFor(forge, path);
      const test = await withStatus(this.context, async (status) => {
        // The model as registered, hashed again at its source: a changed file is a different model.
        const changes = await verifyCubeUpstream(this.model, model, { stateDir: this.stateDir, onProgress: (t) => status.update(t) });
        if (changes.length) {
          throw new CubeChangedUpstreamError(
            `the cube ${this.model} changed upstream since it was registered:\n` +
              changes.map((c) => `  ${c.what} (${c.url}): registered sha256 ${c.expected}, now ${c.actual}`).join('\n') +
              `\nregister the new version with \`medperf-git mlcube submit\` (a new --name if it is operational); nothing was run or submitted`,
          );
        }
        const prep = { id: benchmark.data_preparation_mlcube, record: (await registeredCube(forge, view, benchmark.data_preparation_mlcube)).data };
        const evaluator = { id: benchmark.data_evaluator_mlcube, record: (await registeredCube(forge, view, benchmark.data_evaluator_mlcube)).data };
        const runner = await chooseRunner(this.runner, this.stateDir, (line) => this.warn(line));
        status.update(`compatibility test: ${this.model} on the demo data of ${this.benchmark} (${runner.name} runner)`);
        const result = await testOnDemoData({
          stateDir: this.stateDir,
          keyring: modelKeyring(this.stateDir, forge.login, view),
          runner,
          dataPreparator: prep,
          model: { id: this.model, record: model },
          evaluator,
          demoDataset: { url: benchmark.demo_dataset.url, sha256: benchmark.demo_dataset.sha256 },
          onStatus: (line) => status.update(line),
        });
        status.done('compatibility test: passed');
        return result;
      });
      if (test.generatedUid !== benchmark.demo_dataset.generated_uid) {
        throw new MedperfError(
          'demo-data-mismatch',
          `the demo data prepared here has generated_uid ${test.generatedUid}, but the benchmark ${this.benchmark} registered ${benchmark.demo_dataset.generated_uid}: ` +
            `the data preparator does not give the benchmark's demo data; tell the committee (${benchmark.committee.join(', ')}); nothing was submitted`,
        );
      }
      // The association publishes the metrics the benchmark declares, and nothing else.
      const { kept, left } = keepDeclared(test.summary.metrics, declared);
      test.summary.metrics = kept;
      const record: ModelAssociationRecord = { initiated_by: login, compatibility_test: test.summary, priority };
      const content = recordYaml('model-association', path, record);
      if (!this.json) {
        this.print(`Compatibility test of ${this.model} on the demo data of ${this.benchmark}:`);
        this.print(indent(keyValues(metricRows(test.metrics))));
        const leftOut = leftOutLine(left, 'metrics', this.benchmark);
        if (leftOut) this.print(indent(leftOut));
        this.print();
        this.print(`The association record (${path}):`);
        this.print(indent(content.split('\n').slice(1).join('\n').trimEnd()));
      }
      await confirmOrCancel(this.context, `Open a pull request on ${forge.registry} asking to associate ${this.model} with ${this.benchmark}?`, { yes: this.yes }, 'Not submitted');
      const result = await forge.propose({
        key: `association/${this.benchmark}/model/${this.model}`,
        title: `Associate model ${this.model} with benchmark ${this.benchmark}`,
        body: [
          `${login} asks to associate the model \`${this.model}\` with the benchmark \`${this.benchmark}\`.`,
          '',
          summaryMarkdown(test.summary, `${this.model} on the demo dataset`),
          '',
          `The committee (${benchmark.committee.join(', ')}) approves with \`medperf-git association approve -b ${this.benchmark} -m ${this.model}\`.`,
        ].join('\n'),
        files: [{ path, content }],
      });
      for (const note of result.notes ?? []) this.warn(`Note: ${note}`);
      if (this.json) {
        this.printJson({ benchmark: this.benchmark, model: this.model, path, record, pull: result.pull, created: result.created });
      } else {
        this.print(pullLine(result.pull, result.created || open?.state !== 'open'));
        this.print(`The association is pending the committee's review (${benchmark.committee.join(', ')}); see \`medperf-git association ls -b ${this.benchmark}\`.`);
      }
      return 0;
    });
  }
}
