import { Command, Option, UsageError } from 'clipanion';
import { modelKeyring } from '../../private-models.ts';
import { MedperfError } from '../../../registry/errors.ts';
import { LOGIN, NAME, paths } from '../../../registry/layout.ts';
import type { AutoApproval, BenchmarkRecord, ModelAssociationRecord } from '../../../registry/records.ts';
import { metricNames, metricRows, metricValue } from '../../../registry/metrics.ts';
import { BaseCommand } from '../../base.ts';
import {
  latestPullFor,
  mainView,
  registeredCube,
  requireCubeKind,
  requireOperationalCube,
  requireLogin,
  summaryMarkdown,
  testOnDemoData,
} from '../../preconditions.ts';
import { chooseRunner, RUNNER_OPTION } from '../../execution.ts';
import { withForge } from '../../forge.ts';
import { urlFromArgument } from '../../cube/assets.ts';
import { hashUrl } from '../../fetch.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { confirmOrCancel, ensureConfirmable, indent, keyValues, pullLine, withStatus } from '../../ui.ts';

const PUBLISH = ['aggregate', 'per-model', 'per-dataset'] as const;
const READ = ['public', 'committee'] as const;

/** `never`, `always` or `allowlist:alice,bob`, as typed on the command line. */
export function parseAutoApproval(text: string | undefined, option: string): AutoApproval | undefined {
  if (text === undefined) return undefined;
  if (text === 'never' || text === 'always') return { mode: text };
  const m = /^allowlist:(.+)$/.exec(text);
  if (m) {
    const logins = m[1]!.split(',').map((s) => s.trim()).filter(Boolean);
    const bad = logins.find((l) => !new RegExp(`^${LOGIN}$`).test(l));
    if (bad) throw new UsageError(`${option}: ${bad} is not a GitHub login`);
    return { mode: 'allowlist', allowlist: logins };
  }
  throw new UsageError(`${option} must be never, always, or allowlist:LOGIN,LOGIN..., not ${text}`);
}

export class BenchmarkSubmitCommand extends BaseCommand {
  static override paths = [['benchmark', 'submit']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: 'Propose a benchmark: run the compatibility test with its three cubes, then open a pull request for the admins',
    details: `
      As MedPerf's \`benchmark submit\`: the data preparator, reference model and metrics cubes must
      be registered first (\`medperf-git mlcube submit\`). The compatibility test runs the three on
      the demo dataset here; its generated_uid and metrics go into the benchmark record and the
      reference model's association, both in one pull request that an admin approves by merging.

      The committee (default: you) approves the associations of models and datasets, unless
      \`--model-auto-approval\` / \`--dataset-auto-approval\` say \`always\` or
      \`allowlist:LOGIN,...\`. The results policy says what the leaderboard publishes:
      \`--publish aggregate\` (one number per model), \`per-model\`, or \`per-dataset\` (every
      model x dataset), ranked on \`--primary-metric\` (a dotted path such as AUC.mean). With
      \`--read committee\` each result's metrics are encrypted in the registry to the committee,
      the result's data owner and the registry's site key (every one of them publishes keys with
      \`keys init\` and \`keys publish\` first); the default \`public\` keeps them in clear.

      The record declares the names results may hold (\`metric_names\`, what the metrics cube
      reported) and the names datasets' statistics may hold (\`statistics_names\`, what the data
      preparator's statistics task reported): a data owner publishes numbers under these names
      only, so no key of theirs can carry text out of the hospital.
    `,
    examples: [
      [
        'Propose the tutorial benchmark',
        '$0 benchmark submit --name chestxray --title "Chest X-ray classification" -p bench-committee/chestxray-prep -m bench-committee/chestxray-cnn -e bench-committee/chestxray-metrics --demo-dataset-url https://example.org/demo_data.tar.gz --primary-metric AUC.mean',
      ],
    ],
  });

  name = Option.String('--name,-n', { required: true, description: 'The benchmark\'s id (lower case, digits, . _ -)' });
  title = Option.String('--title', { description: 'A human-readable name (default: the id)' });
  description = Option.String('--description,-d', { description: 'What the benchmark measures' });
  docsUrl = Option.String('--docs-url', { description: 'Where its documentation is' });
  dataPreparator = Option.String('--data-preparation-mlcube,-p', { required: true, description: 'The data preparator cube, <owner>/<name>' });
  referenceModel = Option.String('--reference-model,-m', { required: true, description: 'The reference model cube' });
  evaluator = Option.String('--data-evaluator-mlcube,-e', { required: true, description: 'The metrics cube' });
  demoUrl = Option.String('--demo-dataset-url', { required: true, description: 'URL of the demo dataset tarball (paths.yaml, data, labels)' });
  demoHash = Option.String('--demo-dataset-hash', { description: 'Its sha256 (default: computed from the download)' });
  committee = Option.String('--committee', { description: 'The committee\'s logins, comma-separated (default: you)' });
  primaryMetric = Option.String('--primary-metric', { required: true, description: 'The metric the leaderboard ranks on (dotted path, e.g. AUC.mean)' });
  direction = Option.String('--direction', 'higher', { description: 'higher or lower is better' });
  publish = Option.String('--publish', 'aggregate', { description: 'aggregate, per-model or per-dataset' });
  read = Option.String('--read', 'public', { description: 'Who reads each result\'s metrics in the registry: public, or committee (encrypted to the committee, the data owner and the site)' });
  modelAutoApproval = Option.String('--model-auto-approval', { description: 'never, always, or allowlist:LOGIN,...' });
  datasetAutoApproval = Option.String('--dataset-auto-approval', { description: 'never, always, or allowlist:LOGIN,...' });
  runner = Option.String('--runner', 'docker', RUNNER_OPTION);

  async execute(): Promise<number> {
    if (!new RegExp(`^${NAME}$`).test(this.name)) throw new UsageError(`--name ${this.name}: lower case letters, digits, '.', '_' and '-'`);
    if (!['higher', 'lower'].includes(this.direction)) throw new UsageError(`--direction must be higher or lower, not ${this.direction}`);
    if (!(PUBLISH as readonly string[]).includes(this.publish)) throw new UsageError(`--publish must be one of ${PUBLISH.join(', ')}, not ${this.publish}`);
    if (!(READ as readonly string[]).includes(this.read)) throw new UsageError(`--read must be one of ${READ.join(', ')}, not ${this.read}`);
    if (this.demoHash && !/^[a-f0-9]{64}$/.test(this.demoHash)) throw new UsageError('--demo-dataset-hash must be 64 lower-case hex digits (a sha256)');
    const demoUrl = urlFromArgument(this.demoUrl, this.context.cwd)!;
    const modelAuto = parseAutoApproval(this.modelAutoApproval, '--model-auto-approval');
    const datasetAuto = parseAutoApproval(this.datasetAutoApproval, '--dataset-auto-approval');

    return withForge(this, async (forge) => {
      const login = requireLogin(forge);
      ensureConfirmable(this.context, `Open a pull request on ${forge.registry} proposing the benchmark ${this.name} to the admins?`, { yes: this.yes });
      const committee = this.committee ? this.committee.split(',').map((s) => s.trim()).filter(Boolean) : [login];
      const bad = committee.find((l) => !new RegExp(`^${LOGIN}$`).test(l));
      if (bad) throw new UsageError(`--committee: ${bad} is not a GitHub login`);
      const path = paths.benchmark(this.name);
      const view = await mainView(forge, [`benchmarks/${this.name}/`, 'mlcubes/']);
      if (await view.tree.has(path)) throw new MedperfError('benchmark-exists', `the benchmark ${this.name} exists already; choose another --name; nothing was submitted`);
      const cubes = {
        prep: { id: this.dataPreparator, record: (await registeredCube(forge, view, this.dataPreparator)).data },
        model: { id: this.referenceModel, record: (await registeredCube(forge, view, this.referenceModel)).data },
        evaluator: { id: this.evaluator, record: (await registeredCube(forge, view, this.evaluator)).data },
      };
      requireCubeKind(cubes.prep.id, cubes.prep.record, 'data-preparator', 'data preparator');
      requireCubeKind(cubes.model.id, cubes.model.record, 'model', 'reference model');
      requireCubeKind(cubes.evaluator.id, cubes.evaluator.record, 'metrics', 'data evaluator');
      for (const c of Object.values(cubes)) requireOperationalCube(c.id, c.record, 'an operational benchmark is built on operational cubes only');

      const { test, demoHash } = await withStatus(this.context, async (status) => {
        let hash = this.demoHash;
        if (!hash) {
          status.update('demo dataset: hashing');
          hash = (await hashUrl(demoUrl, this.stateDir)).sha256;
        }
        const runner = await chooseRunner(this.runner, this.stateDir, (line) => this.warn(line));
        status.update(`compatibility test: the three cubes on the demo dataset (${runner.name} runner)`);
        const result = await testOnDemoData({
          stateDir: this.stateDir,
          keyring: modelKeyring(this.stateDir, forge.login, view),
          runner,
          dataPreparator: cubes.prep,
          model: cubes.model,
          evaluator: cubes.evaluator,
          demoDataset: { url: demoUrl, sha256: hash },
          onStatus: (line) => status.update(line),
        });
        status.done('compatibility test: passed');
        return { test: result, demoHash: hash };
      });
      if (metricValue(test.metrics, this.primaryMetric) === undefined) {
        throw new MedperfError(
          'no-such-metric',
          `--primary-metric ${this.primaryMetric}: the evaluator reports no such number; it reports ${metricNames(test.metrics).join(', ')}; nothing was submitted`,
        );
      }
      const benchmark: BenchmarkRecord = {
        name: this.title ?? this.name,
        ...(this.description ? { description: this.description } : {}),
        ...(this.docsUrl ? { docs_url: this.docsUrl } : {}),
        committee: committee as [string, ...string[]],
        data_preparation_mlcube: cubes.prep.id,
        reference_model: cubes.model.id,
        data_evaluator_mlcube: cubes.evaluator.id,
        demo_dataset: { url: demoUrl, sha256: demoHash, generated_uid: test.generatedUid },
        ...(datasetAuto ? { dataset_auto_approval: datasetAuto } : {}),
        ...(modelAuto ? { model_auto_approval: modelAuto } : {}),
        results_policy: { publish: this.publish as BenchmarkRecord['results_policy']['publish'], primary_metric: this.primaryMetric, direction: this.direction as 'higher' | 'lower', ...(this.read === 'committee' ? { read: 'committee' as const } : {}) },
        // The names results and statistics may hold: what the metrics cube and the data preparator report.
        metric_names: metricNames(test.metrics),
        statistics_names: metricNames(test.statistics),
        state: 'operational',
      };
      const association: ModelAssociationRecord = { initiated_by: login, compatibility_test: test.summary, priority: 0 };
      const assocPath = paths.modelAssociation(this.name, cubes.model.id);
      const files = [
        { path, content: recordYaml('benchmark', path, benchmark) },
        { path: assocPath, content: recordYaml('model-association', assocPath, association) },
      ];
      if (!this.json) {
        this.print(`Compatibility test on the demo dataset (generated_uid ${test.generatedUid}):`);
        this.print(indent(keyValues(metricRows(test.metrics))));
        this.print();
        this.print(`The benchmark record (${path}):`);
        this.print(indent(files[0]!.content.split('\n').slice(1).join('\n').trimEnd()));
        this.print(`and the reference model's association (${assocPath}).`);
        if (forge.kind === 'github' && demoUrl.startsWith('file://')) {
          this.print('Note: the demo dataset is a file on this machine (file:// URL): nobody else can fetch it, and its path is published; use an https:// URL for a shared registry.');
        }
      }
      const open = await latestPullFor(forge, path);
      await confirmOrCancel(this.context, `Open a pull request on ${forge.registry} proposing the benchmark ${this.name} to the admins?`, { yes: this.yes }, 'Not submitted');
      const result = await forge.propose({
        key: `benchmark/${this.name}`,
        title: `Propose benchmark ${this.name}`,
        body: [
          `${login} proposes the benchmark \`${this.name}\` (${benchmark.name}), committee ${committee.join(', ')}.`,
          '',
          keyValues([
            ['data preparator', cubes.prep.id],
            ['reference model', cubes.model.id],
            ['metrics', cubes.evaluator.id],
            ['demo dataset', `${demoUrl} (sha256 ${demoHash})`],
            ['results policy', `${this.publish}, ranked on ${this.primaryMetric} (${this.direction} is better)${this.read === 'committee' ? '; metrics readable by the committee only' : ''}`],
            ['metric names', benchmark.metric_names!.join(', ')],
            ['statistics names', benchmark.statistics_names!.join(', ') || 'none'],
          ])
            .split('\n')
            .map((l) => `- ${l}`)
            .join('\n'),
          '',
          summaryMarkdown(test.summary, 'the three cubes on the demo dataset'),
          '',
          'An admin approves the benchmark by approving and merging this pull request.',
        ].join('\n'),
        files,
      });
      for (const note of result.notes ?? []) this.warn(`Note: ${note}`);
      if (this.json) {
        this.printJson({ benchmark: this.name, path, record: benchmark, association: { path: assocPath, record: association }, pull: result.pull, created: result.created });
      } else {
        this.print(pullLine(result.pull, result.created || open?.state !== 'open'));
        this.print('The benchmark is pending an admin\'s approval (registry.yaml lists the admins); see `medperf-git benchmark ls`.');
      }
      return 0;
    });
  }
}
