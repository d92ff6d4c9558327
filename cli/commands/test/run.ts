import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Command, Option, UsageError } from 'clipanion';
import { buildDemoTarball } from '../../demo/dataset.ts';
import { buildDemoImages, CUBES_DIR, DEMO_CUBES } from '../../demo/images.ts';
import { modelKeyring } from '../../private-models.ts';
import { createView } from '../../../registry/load.ts';
import { sha256Hex } from '../../../registry/hash.ts';
import { metricEntries } from '../../../registry/metrics.ts';
import { CubeCommand } from '../../executors/command.ts';
import type { Executor } from '../../executors/executor.ts';
import { benchmarkCubes, type CompatibilityResult } from '../../compatibility.ts';
import { withForge } from '../../forge.ts';
import { loadCube } from '../../cube/config.ts';
import { cubeImage, type CubeUnderTest } from '../../cube/cube.ts';
import type { Runner } from '../../runners/runner.ts';
import { statePaths } from '../../state.ts';
import { terminalText } from '../../terminal.ts';

const DEMO = {
  dataPreparator: 'bench-committee/chestxray-prep',
  model: 'bench-committee/chestxray-cnn',
  evaluator: 'bench-committee/chestxray-metrics',
} as const;

export class TestRunCommand extends CubeCommand {
  static override paths = [['test', 'run']];

  static override usage = Command.Usage({
    category: 'Model owner',
    description: "Run MedPerf's compatibility test: prepare, sanity_check, statistics, infer, evaluate",
    details: `
      Runs the data preparator's prepare, sanity_check and statistics tasks, the model's infer and
      the evaluator's evaluate, and prints the metrics, the hashes of everything involved and where
      every output and log is.

      With \`-b BENCHMARK\`, the cubes and the demo dataset are the benchmark's, read from the
      registry, fetched and checked against their sha256 (and image digest) before anything runs.
      Any of the three can be replaced by a local cube folder (holding mlcube.yaml or
      container_config.yaml and its workspace/); without \`-b\`, a cube not given is the demo
      benchmark's from examples/cubes/. The data is \`--data-path\` and \`--labels-path\`, or else the
      demo dataset.

      Finished tasks are reused when everything that goes into them is unchanged (data, cubes,
      images, runner); \`--no-cache\` runs them all again. An interrupted run resumes where it stopped.

      Cubes run in Docker, isolated (no network, not as root, inputs read-only). \`--runner process\`
      runs cubes that declare \`process: { command }\` in mlcube.yaml directly on this machine, with
      no isolation at all: for cube authors and machines without a container engine.
    `,
    examples: [
      ['Run the demo benchmark', '$0 test run'],
      ["Test your model with a registered benchmark's cubes and demo data", '$0 test run -b chestxray -m ./my-model'],
      ['Test your model against the demo benchmark', '$0 test run -m ./my-model'],
      ['Test all three cubes on your own data', '$0 test run -p ./prep -m ./model -e ./metrics --data-path ./images --labels-path ./labels'],
      ['Run without a container engine (no isolation)', '$0 test run --runner process'],
    ],
  });

  benchmark = Option.String('--benchmark,-b', { description: "The benchmark whose cubes and demo dataset to use, from the registry" });
  dataPreparator = Option.String('--data-preparator,-p', { description: 'The data preparator cube folder (default: the demo benchmark\'s)' });
  model = Option.String('--model,-m', { description: 'The model cube folder (default: the demo benchmark\'s reference model)' });
  evaluator = Option.String('--evaluator,-e', { description: 'The metrics cube folder (default: the demo benchmark\'s)' });
  dataPath = Option.String('--data-path', { description: 'Raw data to prepare (with --labels-path; default: the demo dataset)' });
  labelsPath = Option.String('--labels-path', { description: 'Labels of the raw data' });
  noCache = Option.Boolean('--no-cache', false, { description: 'Run every task again, even if an earlier run finished it' });
  timeout = Option.String('--timeout', { description: 'Kill any task after this many seconds (default 7200; --infer-timeout and the others are per task)' });

  async execute(): Promise<number> {
    if (!!this.dataPath !== !!this.labelsPath) throw new UsageError('--data-path and --labels-path go together');
    const timeoutSeconds = this.timeout === undefined ? undefined : Number(this.timeout);
    if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) throw new UsageError(`--timeout ${this.timeout}: give a number of seconds`);
    const stateDir = this.stateDir;
    if (timeoutSeconds) this.defaultTimeoutMs = timeoutSeconds * 1000;
    const { runner, executor } = await this.chooseExecutor();

    if (this.benchmark) return this.runBenchmark(stateDir, runner, executor);
    const demoIds = Object.values(DEMO).filter((_, i) => ![this.dataPreparator, this.model, this.evaluator][i]);
    let demoImages: Record<string, string> = {};
    if (demoIds.length && runner.name === 'docker') {
      this.status('building the demo cubes\' images (offline, from this machine\'s node)');
      demoImages = await buildDemoImages();
    }
    const pick = (given: string | undefined, demo: keyof typeof DEMO_CUBES): CubeUnderTest => {
      if (given) {
        const dir = resolve(this.context.cwd, given);
        return { dir, label: given };
      }
      return { dir: join(CUBES_DIR, DEMO_CUBES[demo].dir), label: demo, ...(demoImages[demo] ? { imageDigest: demoImages[demo] } : {}) };
    };
    const cubes = {
      dataPreparator: pick(this.dataPreparator, DEMO.dataPreparator),
      model: pick(this.model, DEMO.model),
      evaluator: pick(this.evaluator, DEMO.evaluator),
    };
    return this.runWith(runner, executor, cubes, await this.demoDataset(stateDir));
  }

  /** The benchmark's cubes from the registry, any of them replaced by a local folder. */
  private async runBenchmark(stateDir: string, runner: Runner, executor: Executor): Promise<number> {
    const name = this.benchmark!;
    const resolved = await withForge(this, async (forge) => {
      const tree = await forge.main({ paths: [`benchmarks/${name}/benchmark.yaml`, 'mlcubes/'] });
      const view = createView(tree);
      return benchmarkCubes(view, name, {
        stateDir,
        keyring: modelKeyring(stateDir, forge.login, view),
        onProgress: (what, done, total) => total && total > 10 * 1024 ** 2 && this.status(`fetching ${what}: ${Math.round((100 * done) / total)}%`),
      });
    });
    const local = (given: string | undefined, fallback: CubeUnderTest): CubeUnderTest => (given ? { dir: resolve(this.context.cwd, given), label: given } : fallback);
    const cubes = {
      dataPreparator: local(this.dataPreparator, resolved.dataPreparator),
      model: local(this.model, resolved.model),
      evaluator: local(this.evaluator, resolved.evaluator),
    };
    return this.runWith(runner, executor, cubes, resolved.demoDataset, resolved.benchmark.demo_dataset.generated_uid);
  }

  private async runWith(
    runner: Runner,
    executor: Executor,
    cubes: { dataPreparator: CubeUnderTest; model: CubeUnderTest; evaluator: CubeUnderTest },
    demoDataset: { url: string; sha256: string },
    expectedUid?: string,
  ): Promise<number> {
    if (runner.name === 'process') {
      // Said every time, and refused for a cube that only runs in a container.
      for (const c of Object.values(cubes)) {
        const cube = loadCube(c.dir);
        if (cubeImage(cube) && !cube.mlcube?.process) {
          throw new UsageError(`${c.label} names the image ${cubeImage(cube)} and declares no process entrypoint; it can only run in a container`);
        }
      }
    }
    const input = {
      ...cubes,
      ...(this.dataPath ? { dataPath: resolve(this.context.cwd, this.dataPath), labelsPath: resolve(this.context.cwd, this.labelsPath!) } : { demoDataset }),
      noCache: this.noCache,
    };
    const resources = await this.resources();
    const { value: result } = await this.cancellable(executor, () =>
      executor.run({
        kind: 'compatibility-test',
        input,
        label: cubes.model.label,
        key: `test-${sha256Hex(JSON.stringify(input)).slice(0, 32)}`,
        tasks: ['prepare', 'sanity_check', 'statistics', 'infer', 'evaluate'],
        resources,
        onStatus: (line) => this.status(line),
      }),
    );
    if (this.json) this.printJson(result);
    else this.report(result);
    if (expectedUid && !this.dataPath && expectedUid !== result.hashes.generated_uid) {
      this.warn(`warning: the prepared demo dataset's generated_uid is ${result.hashes.generated_uid}; the benchmark records ${expectedUid}`);
    }
    return 0;
  }

  /** The demo benchmark's dataset, built deterministically by cli/demo/dataset.ts. */
  private async demoDataset(stateDir: string) {
    const dir = join(statePaths(stateDir).root, 'demo-source');
    const file = join(dir, 'demo_data.tar.gz');
    if (!existsSync(file)) {
      await mkdir(dir, { recursive: true });
      await buildDemoTarball(file);
    }
    return { url: pathToFileURL(file).href, sha256: createHash('sha256').update(readFileSync(file)).digest('hex') };
  }

  /** A live status line on a terminal; otherwise only the lines that say something new. */
  private status(text: string): void {
    const line = terminalText(text);
    const stderr = this.context.stderr as NodeJS.WriteStream;
    if (stderr.isTTY) stderr.write(`\r\x1b[K  ${line}${/running/.test(line) ? '' : '\n'}`);
    else if (!/running \d+s$/.test(line)) stderr.write(`  ${line}\n`);
  }

  private report(r: CompatibilityResult): void {
    this.print('Compatibility test passed.');
    this.print('');
    this.print('Metrics:');
    // The cube's whole output, as a cube author reads it: what a record would publish is cleaned later.
    const flat = metricEntries(r.metrics).map(({ name, value }): [string, unknown] => [name, value]);
    const width = Math.max(...flat.map(([k]) => k.length));
    for (const [k, v] of flat) this.print(`  ${k.padEnd(width)}  ${String(v)}`);
    this.print('');
    this.print('Hashes:');
    this.print(`  input data (input_data_hash):   ${r.hashes.input_data_hash}`);
    this.print(`  prepared data (generated_uid):  ${r.hashes.generated_uid}`);
    for (const role of ['data_preparator', 'model', 'evaluator'] as const) {
      const h = r.hashes[role];
      this.print(`  ${role} ${h.label}: config ${h.config}${h.image ? `, image ${h.image}` : ''}`);
    }
    this.print('');
    this.print('Where everything is:');
    this.print(`  prepared data:  ${r.paths.prepared_data}`);
    this.print(`  statistics:     ${r.paths.statistics}`);
    this.print(`  predictions:    ${r.paths.predictions}`);
    this.print(`  results:        ${r.paths.results}`);
    for (const log of r.paths.logs) this.print(`  log:            ${log}`);
    if (r.reused.length) this.print(`  reused from an earlier run: ${r.reused.join(', ')} (--no-cache to rerun)`);
  }
}
