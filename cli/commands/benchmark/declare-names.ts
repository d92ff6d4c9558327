import { Command, Option } from 'clipanion';
import { modelKeyring } from '../../private-models.ts';
import { proposeDeclaration, type FoundNames } from '../../../registry/declarations.ts';
import { parseRecordPath, paths } from '../../../registry/layout.ts';
import type { BenchmarkRecord } from '../../../registry/records.ts';
import type { LoadedRecord } from '../../../registry/view.ts';
import { BaseCommand } from '../../base.ts';
import { asCommitteeMember, mainView, registeredCube, testOnDemoData } from '../../preconditions.ts';
import { chooseRunner, RUNNER_OPTION } from '../../execution.ts';
import { withForge } from '../../forge.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { confirmOrCancel, ensureConfirmable, indent, pullLine, withStatus } from '../../ui.ts';

type Which = 'metric_names' | 'statistics_names';

/** Where the cubes' own names come from, as the pull request says it. */
const FROM_CUBES = { metrics: 'the metrics cube on the demo dataset', statistics: 'the data preparator on the demo dataset' };

export class BenchmarkDeclareNamesCommand extends BaseCommand {
  static override paths = [['benchmark', 'declare-names'], ['benchmark', 'declare_names']];
  static override usage = Command.Usage({
    category: 'Benchmark committee',
    description: 'Declare the metric and statistics names a benchmark accepts, from its cubes and merged records (opens the pull request)',
    details: `
      Results, compatibility tests and dataset statistics may hold only the names their benchmark
      declares (\`metric_names\`, \`statistics_names\` in benchmark.yaml), so that no key a data
      owner publishes can carry text out of the hospital. \`benchmark submit\` declares them; a
      benchmark registered before, or one whose metrics cube reports new names, gets them here.

      The names come from the compatibility test (the benchmark's three cubes on its demo dataset,
      run here: what the metrics cube and the data preparator's statistics task report) and from
      the records already merged (results and associations of the benchmark, statistics of its
      datasets), so those stay valid. Names already declared are kept. The pull request lists
      every new name and where it was found: a name only data owners' records hold was written by
      them, not by a cube, so read those before approving. \`--no-test\` runs no cube and takes
      the names from the merged records only. Like every benchmark change, an admin approves and
      merges it.
    `,
    examples: [
      ['Declare the names of the chestxray benchmark', '$0 benchmark declare-names -b chestxray'],
      ['From the merged records only, without running the cubes', '$0 benchmark declare-names -b chestxray --no-test'],
    ],
  });

  benchmark = Option.String('--benchmark,-b', { required: true, description: 'The benchmark' });
  test = Option.Boolean('--test', true, { description: 'Run the compatibility test on the demo dataset for the names (--no-test: merged records only)' });
  runner = Option.String('--runner', 'docker', RUNNER_OPTION);

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      ensureConfirmable(this.context, `Open a pull request on ${forge.registry} declaring the names of ${this.benchmark}?`, { yes: this.yes });
      const { login, benchmark } = await asCommitteeMember(forge, this.benchmark, 'declare its metric and statistics names');
      const view = await mainView(forge, [`benchmarks/${this.benchmark}/`, 'datasets/', 'mlcubes/']);
      const found: Record<Which, FoundNames[]> = { metric_names: [], statistics_names: [] };

      if (this.test) {
        const test = await withStatus(this.context, async (status) => {
          const cube = async (id: string) => ({ id, record: (await registeredCube(forge, view, id)).data });
          const runner = await chooseRunner(this.runner, this.stateDir, (line) => this.warn(line));
          status.update(`compatibility test: the three cubes on the demo dataset (${runner.name} runner)`);
          const result = await testOnDemoData({
            stateDir: this.stateDir,
            keyring: modelKeyring(this.stateDir, forge.login, view),
            runner,
            dataPreparator: await cube(benchmark.data_preparation_mlcube),
            model: await cube(benchmark.reference_model),
            evaluator: await cube(benchmark.data_evaluator_mlcube),
            demoDataset: { url: benchmark.demo_dataset.url, sha256: benchmark.demo_dataset.sha256 },
            onStatus: (line) => status.update(line),
          });
          status.done('compatibility test: passed');
          return result;
        });
        found.metric_names.push({ source: FROM_CUBES.metrics, metrics: test.metrics });
        found.statistics_names.push({ source: FROM_CUBES.statistics, metrics: test.statistics });
      }

      // What the merged records hold, so that they stay valid.
      for (const file of await view.tree.list(`benchmarks/${this.benchmark}/`)) {
        const where = parseRecordPath(file);
        if (!where || where.kind === 'benchmark') continue;
        const rec = await view.record(file);
        if (!rec) continue;
        if (where.kind === 'result') found.metric_names.push({ source: file, metrics: (rec as LoadedRecord<'result'>).data.metrics });
        if (where.kind === 'model-association' || where.kind === 'dataset-association') {
          found.metric_names.push({ source: file, metrics: (rec as LoadedRecord<'model-association'>).data.compatibility_test.metrics });
        }
        if (where.kind === 'dataset-association') {
          const dataset = await view.dataset(where.dataset);
          if (dataset?.data.statistics) found.statistics_names.push({ source: paths.dataset(where.dataset), metrics: dataset.data.statistics });
        }
      }

      const metric = proposeDeclaration(benchmark.metric_names, found.metric_names);
      const statistics = proposeDeclaration(benchmark.statistics_names, found.statistics_names);
      const record: BenchmarkRecord = { ...benchmark, metric_names: metric.names, statistics_names: statistics.names };
      const path = paths.benchmark(this.benchmark);
      const unchanged = benchmark.metric_names !== undefined && benchmark.statistics_names !== undefined && !metric.added.length && !statistics.added.length;
      if (unchanged) {
        if (this.json) this.printJson({ benchmark: this.benchmark, changed: false, metric_names: metric.names, statistics_names: statistics.names });
        else this.print(`${this.benchmark} declares these names already (metrics: ${metric.names.join(', ') || 'none'}; statistics: ${statistics.names.join(', ') || 'none'}); nothing to do.`);
        return 0;
      }
      const listing = (title: string, p: ReturnType<typeof proposeDeclaration>) => [
        `${title}: ${p.names.join(', ') || 'none'}`,
        ...p.added.map((a) => `  new: ${a.name} (${a.sources.length > 3 ? `${a.sources.slice(0, 3).join(', ')} and ${a.sources.length - 3} more` : a.sources.join(', ')})`),
      ];
      const lines = [...listing('metric_names', metric), ...listing('statistics_names', statistics)];
      if (!this.json) {
        this.print(`The names ${this.benchmark} will declare (${path}):`);
        this.print(indent(lines.join('\n')));
      }
      await confirmOrCancel(this.context, `Open a pull request on ${forge.registry} declaring the names of ${this.benchmark}?`, { yes: this.yes }, 'Not submitted');
      const cubes = new Set(Object.values(FROM_CUBES));
      const fromRecordsOnly = [...metric.added, ...statistics.added].filter((a) => !a.sources.some((s) => cubes.has(s)));
      const result = await forge.propose({
        key: `declare-names/${this.benchmark}`,
        title: `Declare the metric and statistics names of ${this.benchmark}`,
        body: [
          `${login}, for the committee of \`${this.benchmark}\`, declares the names its results, compatibility tests and dataset statistics may hold; a record holding any other name is refused.`,
          '',
          '| declaration | name | found in |',
          '|---|---|---|',
          ...(['metric_names', 'statistics_names'] as const).flatMap((which) => {
            const p = which === 'metric_names' ? metric : statistics;
            const already = new Set(benchmark[which] ?? []);
            return p.names.map((n) => `| ${which} | \`${n}\` | ${already.has(n) ? 'declared already' : p.added.find((a) => a.name === n)!.sources.slice(0, 3).join(', ')} |`);
          }),
          '',
          ...(fromRecordsOnly.length
            ? [`Found only in records data owners wrote, not in a cube's output on the demo data: ${fromRecordsOnly.map((a) => `\`${a.name}\``).join(', ')}. Check that none of them is text about the data before approving.`, '']
            : []),
          'An admin approves and merges it, as every benchmark change.',
        ].join('\n'),
        files: [{ path, content: recordYaml('benchmark', path, record) }],
      });
      for (const note of result.notes ?? []) this.warn(`Note: ${note}`);
      if (this.json) {
        this.printJson({ benchmark: this.benchmark, changed: true, pull: result.pull.number, metric_names: metric.names, statistics_names: statistics.names });
        return 0;
      }
      this.print(pullLine(result.pull, result.created));
      this.print('A benchmark change: an admin approves and merges it (medperf-git pr approve / pr merge).');
      return 0;
    });
  }
}
