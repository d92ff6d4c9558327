// The process runner: a cube's `process: { command }` run on the host, for cube authors and for
// machines with no container engine. Nothing is isolated: the cube sees the network, the whole disk
// and runs as you. It says so every time, and is never chosen silently for a cube that names an
// image (the caller must ask for it).
import { mkdir } from 'node:fs/promises';
import { MedperfError } from '../../registry/errors.ts';
import { outputDirs } from '../cube/plan.ts';
import { type RunRequest, type RunResult, type Runner, runLoggedCommand } from './runner.ts';

export const PROCESS_RUNNER_WARNING =
  'WARNING: the process runner runs the cube directly on this machine with NO isolation: it can use the network, read and write anything you can. Use it only for cubes you trust.';

/** What a cube needs to start on the host, and nothing else: no tokens or credentials from the environment. */
export function hostEnvironment(env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const keep = ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'TZ', 'CUDA_VISIBLE_DEVICES'];
  return Object.fromEntries(keep.filter((k) => env[k] !== undefined).map((k) => [k, env[k]!]));
}

export class NoProcessEntrypointError extends MedperfError {
  constructor(label: string) {
    super('no-process-entrypoint', `${label}: the cube declares no process entrypoint (\`process: { command: ... }\` in mlcube.yaml), so it cannot run without a container engine`);
  }
}

export class ProcessRunner implements Runner {
  readonly name = 'process' as const;

  constructor(
    readonly stateDir: string,
    readonly warn: (line: string) => void,
  ) {}

  /** The process runner runs the cube's host command: there is no image to prepare. */
  async prepareImage(): Promise<undefined> {
    return undefined;
  }

  async run(request: RunRequest): Promise<RunResult> {
    const { plan } = request;
    if (!plan.process) throw new NoProcessEntrypointError(request.label);
    this.warn(PROCESS_RUNNER_WARNING);
    for (const dir of outputDirs(plan)) await mkdir(dir, { recursive: true });
    return runLoggedCommand(this.stateDir, request, plan.process.command, { cwd: plan.process.cwd, env: { ...hostEnvironment(), ...plan.environment } });
  }
}
