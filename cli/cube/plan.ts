// From a cube and a task to what runs: mounts, arguments, entrypoint. MLCube's own semantics for
// mlcube.yaml (mlcube 0.0.9's Shell.generate_mounts_and_args and docker runner), MedPerf's for
// container_config.yaml (mount paths as declared, run_args allow-list). Pure except for the
// checks MLCube itself makes on the host: a parameter of unknown type is a directory or a file as
// found on disk.
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, resolve, sep } from 'node:path';
import type { ContainerConfig, MlcubeConfig } from '../../registry/records.ts';
import { CubeConfigError, cubeImage, type LoadedCube } from './cube.ts';

export type PathKind = 'file' | 'directory';

export interface Mount {
  /** Host path: a directory, or a file for container configs that mount files. */
  host: string;
  /** Path inside the container. */
  target: string;
  readOnly: boolean;
}

export interface PlannedParameter {
  name: string;
  io: 'input' | 'output';
  kind: PathKind;
  /** The host path. */
  host: string;
  /** The path the cube sees inside the container. */
  container: string;
}

export interface TaskPlan {
  task: string;
  image?: string;
  /** Docker's entrypoint override, when the cube sets one. */
  entrypoint?: string[];
  /** What follows the image on `docker run` (the container's command). */
  command: string[];
  mounts: Mount[];
  parameters: PlannedParameter[];
  environment: Record<string, string>;
  /** MedPerf's allowed run args. */
  shmSize?: string | number;
  gpus?: string | number;
  /** For the process runner: the same task with host paths, run from the cube folder. */
  process?: { command: string[]; cwd: string };
  /** Settings of the cube that are deliberately not honoured (raw docker flags), to tell the user. */
  ignored: string[];
}

export interface PlanOptions {
  /** Paths for parameters, by name (MLCube's `name=path` task arguments); relative to the workspace. */
  bindings?: Record<string, string>;
}

/** POSIX shell word splitting (quotes and backslashes), as Python's shlex.split does. */
export function shellSplit(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else if (c === '\\' && i + 1 < text.length && '"\\$`\n'.includes(text[i + 1]!)) word += text[++i];
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      word += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += c;
      inWord = true;
    }
  }
  if (quote) throw new CubeConfigError(`unclosed quote in ${JSON.stringify(text)}`);
  if (inWord) words.push(word);
  return words;
}

interface ParamDef {
  type: 'file' | 'directory' | 'unknown';
  default: string;
  opts?: 'rw' | 'ro';
}

/** MLCube's check_parameters: short form is the default; a trailing slash makes a directory. */
export function normalizeParameter(name: string, def: string | ParamDef | { default?: string; type?: string; opts?: string } | undefined, cliValue?: string): ParamDef {
  const d = typeof def === 'string' ? { default: def } : { ...(def ?? {}) };
  const out: ParamDef = {
    type: (d.type as ParamDef['type']) ?? 'unknown',
    default: d.default ?? name,
    ...(d.opts ? { opts: d.opts as 'rw' | 'ro' } : {}),
  };
  if (out.type === 'unknown' && out.default.endsWith('/')) out.type = 'directory';
  if (cliValue !== undefined) out.default = cliValue;
  if (out.type === 'unknown' && out.default.endsWith('/')) out.type = 'directory';
  return out;
}

export function planTask(cube: LoadedCube, task: string, options: PlanOptions = {}): TaskPlan {
  if (cube.mlcube) return planMlcubeTask(cube, cube.mlcube, task, options);
  return planContainerConfigTask(cube, cube.containerConfig!, task, options);
}

function planMlcubeTask(cube: LoadedCube, config: MlcubeConfig, task: string, options: PlanOptions): TaskPlan {
  const def = config.tasks[task];
  if (!def) throw new CubeConfigError(`${cube.configPath}: no task \`${task}\` (tasks: ${Object.keys(config.tasks).join(', ')})`);
  const bindings = options.bindings ?? {};
  // mounts: host directory -> /mlcube_io<N>, in the order MLCube meets them (inputs, then outputs).
  const mountOf = new Map<string, { target: string; opts?: 'rw' | 'ro'; io: Set<string> }>();
  const parameters: PlannedParameter[] = [];
  const args: string[] = [task];
  const processArgs: string[] = [task];
  for (const io of ['input', 'output'] as const) {
    const params = def.parameters?.[io === 'input' ? 'inputs' : 'outputs'] ?? {};
    for (const [name, raw] of Object.entries(params)) {
      const p = normalizeParameter(name, raw, bindings[name]);
      // MLCube: relative paths are relative to the workspace. A default the cube chose itself must
      // stay inside it (MLCube would also take absolute paths and ~): otherwise an untrusted cube
      // could have any host folder mounted into its container just by naming it.
      const host = isAbsolute(p.default) ? resolve(p.default) : resolve(cube.workspace, p.default);
      if (bindings[name] === undefined && host !== resolve(cube.workspace) && !host.startsWith(resolve(cube.workspace) + sep)) {
        throw new CubeConfigError(`${cube.configPath}: task \`${task}\`, ${io} \`${name}\`: its default ${JSON.stringify(p.default)} is outside the cube's workspace; defaults must be paths inside it`);
      }
      let kind = p.type;
      if (kind === 'unknown') {
        if (io === 'output') {
          throw new CubeConfigError(`${cube.configPath}: task \`${task}\`, output \`${name}\`: the type cannot be unknown for an output (say type: file or directory, or end the path with /)`);
        }
        if (existsSync(host) && statSync(host).isDirectory()) kind = 'directory';
        else if (existsSync(host) && statSync(host).isFile()) kind = 'file';
        else throw new CubeConfigError(`${cube.configPath}: task \`${task}\`, input \`${name}\`: the type is unknown and ${host} does not exist, so it cannot be told whether it is a file or a directory`);
      }
      const mountHost = kind === 'directory' ? host : dirname(host);
      let mount = mountOf.get(mountHost);
      if (!mount) {
        mount = { target: `/mlcube_io${mountOf.size}`, io: new Set() };
        mountOf.set(mountHost, mount);
      }
      mount.io.add(io);
      if (p.opts) mount.opts = mount.opts && mount.opts !== p.opts ? 'rw' : p.opts;
      const container = kind === 'directory' ? mount.target : `${mount.target}/${basename(host)}`;
      args.push(`--${name}=${container}`);
      processArgs.push(`--${name}=${host}`);
      parameters.push({ name, io, kind, host, container });
    }
  }
  // Read-only unless an output lives there (MedPerf runs MLCube with inputs mounted read-only).
  const mounts: Mount[] = [...mountOf.entries()].map(([host, m]) => ({
    host,
    target: m.target,
    readOnly: m.opts ? m.opts === 'ro' && !m.io.has('output') : !m.io.has('output'),
  }));
  let entrypoint: string[] | undefined;
  let command = args;
  const custom = def.entrypoint?.trim();
  if (custom) {
    // MLCube: `--entrypoint=<first word>`, the other words, then the arguments without the task name.
    // (MLCube's docker runner drops the arguments too when the entrypoint is one word; its
    // Singularity runner and its own contract pass them, and so does medperf-git.)
    const words = shellSplit(custom);
    entrypoint = [words[0]!];
    command = [...words.slice(1), ...args.slice(1)];
  }
  const processCommand = config.process?.command;
  // MLCube passes these to `docker run` verbatim; a cube never chooses its own isolation here.
  const docker = (config.docker ?? {}) as Record<string, unknown>;
  const ignored = ['cpu_args', 'gpu_args', 'env_args']
    .filter((k) => docker[k] !== undefined && docker[k] !== '' && !(typeof docker[k] === 'object' && Object.keys(docker[k] as object).length === 0))
    .map((k) => `docker.${k} (${JSON.stringify(docker[k])}): raw docker flags from a cube are never used`);
  return {
    task,
    image: cubeImage(cube),
    ...(entrypoint ? { entrypoint } : {}),
    command,
    mounts,
    parameters,
    environment: {},
    ...(processCommand ? { process: { command: [...shellSplit(processCommand), ...processArgs], cwd: cube.dir } } : {}),
    ignored,
  };
}

const ALLOWED_RUN_ARGS = new Set(['shm_size', 'gpus', 'command', 'entrypoint', 'environment']);

function planContainerConfigTask(cube: LoadedCube, config: ContainerConfig, task: string, options: PlanOptions): TaskPlan {
  const def = config.tasks[task];
  if (!def) throw new CubeConfigError(`${cube.configPath}: no task \`${task}\` (tasks: ${Object.keys(config.tasks).join(', ')})`);
  const runArgs = (def.run_args ?? {}) as Record<string, unknown>;
  // MedPerf's allow-list: nothing that would change isolation passes.
  const refused = Object.keys(runArgs).filter((k) => !ALLOWED_RUN_ARGS.has(k));
  if (refused.length) throw new CubeConfigError(`${cube.configPath}: task \`${task}\`: run_args ${refused.join(', ')} are not allowed (allowed: ${[...ALLOWED_RUN_ARGS].join(', ')})`);
  const bindings = options.bindings ?? {};
  const mounts: Mount[] = [];
  const parameters: PlannedParameter[] = [];
  for (const io of ['input', 'output'] as const) {
    const volumes = (io === 'input' ? def.input_volumes : def.output_volumes) ?? {};
    for (const [name, volume] of Object.entries(volumes)) {
      if (!volume) continue;
      let host = bindings[name];
      if (host === undefined && name === 'parameters_file') host = cube.parametersFile;
      if (host === undefined && name === 'additional_files') host = cube.additionalFiles;
      if (host === undefined) throw new CubeConfigError(`${cube.configPath}: task \`${task}\`: no path given for \`${name}\``);
      host = isAbsolute(host) ? resolve(host) : resolve(cube.workspace, host);
      mounts.push({ host, target: volume.mount_path, readOnly: io === 'input' });
      parameters.push({ name, io, kind: volume.type, host, container: volume.mount_path });
    }
  }
  const words = (v: unknown) => (v === undefined ? undefined : Array.isArray(v) ? v.map(String) : shellSplit(String(v)));
  return {
    task,
    image: config.image,
    ...(runArgs.entrypoint !== undefined ? { entrypoint: words(runArgs.entrypoint) } : {}),
    command: words(runArgs.command) ?? [],
    mounts,
    parameters,
    environment: { ...((runArgs.environment as Record<string, string> | undefined) ?? {}) },
    ...(runArgs.shm_size !== undefined ? { shmSize: runArgs.shm_size as string | number } : {}),
    ...(runArgs.gpus !== undefined ? { gpus: runArgs.gpus as string | number } : {}),
    ignored: [],
  };
}

/**
 * The `docker run` command line MLCube (under MedPerf: `--network=none`, `-u uid:gid`, inputs
 * read-only) or MedPerf's container runner would make for a plan; for tests and for `--dry-run`.
 */
export function dockerRunArgv(plan: TaskPlan, user: string): string[] {
  const argv = ['docker', 'run', '--rm', '--network=none', `--user=${user}`];
  for (const [k, v] of Object.entries(plan.environment)) argv.push(`--env=${k}=${v}`);
  for (const m of plan.mounts) argv.push(`--volume=${m.host}:${m.target}${m.readOnly ? ':ro' : ''}`);
  if (plan.entrypoint) argv.push(`--entrypoint=${plan.entrypoint[0]}`);
  argv.push(plan.image ?? '<no image>');
  if (plan.entrypoint) argv.push(...plan.entrypoint.slice(1));
  argv.push(...plan.command);
  return argv;
}

/** Output folders to create before a run (a file output's folder), so they are not created by the engine as root. */
export function outputDirs(plan: TaskPlan): string[] {
  return [...new Set(plan.parameters.filter((p) => p.io === 'output').map((p) => (p.kind === 'directory' ? p.host : dirname(p.host))))];
}
