import { mkdir, mkdtemp } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command, Option, UsageError } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { loadCube } from '../../cube/config.ts';
import { cubeImage } from '../../cube/cube.ts';
import { runTask } from '../../cube/execute.ts';
import { planTask } from '../../cube/plan.ts';
import { chooseRunner, RUNNER_OPTION } from '../../execution.ts';
import { parseBytes } from '../../runners/runner.ts';
import { statePaths } from '../../state.ts';
import { keyValues, statusLine, table } from '../../ui.ts';

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `NAME=VALUE` pairs, each NAME once. */
function pairs(values: string[], option: string, name: RegExp): Record<string, string> {
  const out: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    const key = value.slice(0, at);
    if (at <= 0 || !name.test(key)) throw new UsageError(`${option} ${value}: say NAME=VALUE`);
    if (key in out) throw new UsageError(`${option} ${key} is given twice`);
    out[key] = value.slice(at + 1);
  }
  return out;
}

export class MlcubeRunTestCommand extends BaseCommand {
  static override paths = [['mlcube', 'run-test'], ['mlcube', 'run_test']];
  static override usage = Command.Usage({
    category: 'Model owner',
    description: "Run one task of a cube folder with the mounts and environment you give (MedPerf's run_test, for cube authors)",
    details: `
      Runs one task of a cube folder (mlcube.yaml or container_config.yaml, and its workspace/)
      exactly as every medperf-git command runs a task: the same runner, isolated the same way
      (no network, not as root, inputs read-only, a timeout), through the same task loop.
      \`--mount NAME=PATH\` binds a task parameter (an input or an output the task declares) to a
      path of this machine, as MLCube's \`NAME=PATH\` task arguments do; a parameter not given
      keeps its default, relative to the cube's workspace. \`--env NAME=VALUE\` sets an
      environment variable over the cube's own. Nothing is cached: the task runs every time. The
      log is kept under the state directory's logs/.
    `,
    examples: [
      ["Run your model's infer on a folder of prepared data", "$0 mlcube run-test -m ./my-model -t infer --mount data_path=./prepared/data --mount output_path=./predictions"],
      ['With an environment variable, without a container engine', '$0 mlcube run-test -m ./my-model -t infer --env THREADS=2 --runner process'],
    ],
  });

  mlcube = Option.String('--mlcube,-m', { required: true, description: 'The cube folder (holding mlcube.yaml or container_config.yaml)' });
  task = Option.String('--task,-t', { required: true, description: 'The task to run: prepare, infer, evaluate, ...' });
  mount = Option.Array('--mount', [], { description: 'NAME=PATH: bind the task parameter NAME to PATH (repeatable)' });
  env = Option.Array('--env,-e', [], { description: 'NAME=VALUE: an environment variable for the cube (repeatable)' });
  runner = Option.String('--runner', 'docker', RUNNER_OPTION);
  timeout = Option.String('--timeout', { description: 'Kill the task after this many seconds (default 7200)' });
  memory = Option.String('--memory', { description: 'Memory for the task, e.g. 8g (default 4g)' });
  gpus = Option.String('--gpus', { description: 'GPUs for the task: all, a number, or device=0,1' });

  async execute(): Promise<number> {
    const dir = resolve(this.context.cwd, this.mlcube);
    const cube = loadCube(dir);
    const mounts = Object.fromEntries(Object.entries(pairs(this.mount, '--mount', /^[A-Za-z0-9_.-]+$/)).map(([k, v]) => [k, resolve(this.context.cwd, v)]));
    const environment = pairs(this.env, '--env', ENV_NAME);
    const timeoutSeconds = this.timeout === undefined ? undefined : Number(this.timeout);
    if (timeoutSeconds !== undefined && !(timeoutSeconds > 0)) throw new UsageError(`--timeout ${this.timeout}: give a number of seconds`);
    // Mounts name parameters of the task, or nothing: a typo must not leave a default in place silently.
    const declared = planTask(cube, this.task).parameters;
    const unknown = Object.keys(mounts).filter((name) => !declared.some((p) => p.name === name));
    if (unknown.length) {
      throw new UsageError(`--mount ${unknown.join(', ')}: the task \`${this.task}\` of ${cube.configPath} has no such parameter (it has: ${declared.map((p) => p.name).join(', ') || 'none'})`);
    }
    const runner = await chooseRunner(this.runner, this.stateDir, (line) => this.warn(line));
    if (runner.name === 'process' && cubeImage(cube) && !cube.mlcube?.process) {
      throw new UsageError(`${this.mlcube} names the image ${cubeImage(cube)} and declares no process entrypoint; it can only run in a container`);
    }
    // A fresh folder for the task loop's bookkeeping: a run-test is never taken from the cache.
    const tests = join(statePaths(this.stateDir).root, 'tests', 'run-test');
    await mkdir(tests, { recursive: true });
    const done = join(await mkdtemp(join(tests, `${this.task}-`)), 'done');
    const status = statusLine(this.context, { quiet: this.json });
    const outcome = await runTask({
      runner,
      cube: { cube, dir, label: this.mlcube },
      task: this.task,
      done,
      bindings: () => mounts,
      environment,
      limits: {
        ...(timeoutSeconds ? { timeoutMs: timeoutSeconds * 1000 } : {}),
        ...(this.memory ? { memoryBytes: parseBytes(this.memory, '--memory') } : {}),
        ...(this.gpus ? { gpus: this.gpus } : {}),
      },
      onStatus: (line) => status.update(line),
    });
    status.done();
    const plan = planTask(cube, this.task, { bindings: mounts });
    const parameters = plan.parameters.map((p) => ({ name: p.name, io: p.io, path: p.host, given: p.name in mounts }));
    if (this.json) {
      this.printJson({ cube: dir, task: this.task, runner: runner.name, parameters, environment: Object.keys(environment), log: outcome.logFile });
      return 0;
    }
    this.print(`${this.mlcube} ${this.task}: done (${runner.name} runner).`);
    this.print(table(['parameter', 'io', 'path', 'from'], parameters.map((p) => [p.name, p.io, p.path, p.given ? '--mount' : 'default'])));
    this.print(keyValues([
      ['environment', Object.keys(environment).join(', ') || undefined],
      ['log', outcome.logFile],
    ]));
    return 0;
  }
}
