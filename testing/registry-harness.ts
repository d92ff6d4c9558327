// A local registry for the model owner's and committee's command tests: the tutorial's logins, the
// demo cubes of examples/cubes registered from their folders (process runner, fixed image digests),
// and the demo dataset tarball. Commands run in process, as a user would type them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildDemoTarball } from '../cli/demo/dataset.ts';
import { CUBES_DIR } from '../cli/demo/images.ts';
import { LocalForge } from '../registry/forge/local.ts';
import { runCli } from './cli.ts';

export const ADMIN = 'medperf-admin';
export const COMMITTEE = 'bench-committee';
export const MODEL_OWNER = 'model-owner';
export const digest = (c: string) => `sha256:${c.repeat(64)}`;

export interface Harness {
  home: string;
  forgeRoot: string;
  demoUrl: string;
  run(argv: string[], options?: { as?: string; input?: string }): Promise<{ code: number; out: string; err: string }>;
  forge(login: string): Promise<LocalForge>;
  /** Merges a pull request as the admin (the gate decides whether it may). */
  merge(number: number): Promise<void>;
  cleanup(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const home = await mkdtemp(join(tmpdir(), 'medperf-git-committee-'));
  const forgeRoot = join(home, 'forge');
  const admin = await LocalForge.open({ root: forgeRoot, login: ADMIN });
  await admin.commitToMain(
    [
      {
        path: 'registry.yaml',
        content: `title: Test registry\nadmins:\n  - ${ADMIN}\ndefaults:\n  dataset_auto_approval:\n    mode: never\n  model_auto_approval:\n    mode: never\n`,
      },
    ],
    'Create the registry',
  );
  const demo = join(home, 'demo_data.tar.gz');
  await buildDemoTarball(demo);
  const harness: Harness = {
    home,
    forgeRoot,
    demoUrl: pathToFileURL(demo).href,
    run: (argv, options = {}) =>
      runCli([...argv, ...(options.as ? ['--as', options.as] : [])], { env: { MEDPERF_GIT_HOME: home, PATH: process.env.PATH }, cwd: home, input: options.input }),
    forge: (login) => LocalForge.open({ root: forgeRoot, login }),
    async merge(number) {
      await (await LocalForge.open({ root: forgeRoot, login: ADMIN })).merge(number);
    },
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
  return harness;
}

export const cubeDir = (name: string) => join(CUBES_DIR, name);

/** Registers a demo cube from its folder and merges its pull request; returns the PR number. */
export async function registerCube(h: Harness, login: string, name: string, c: string): Promise<number> {
  const r = await h.run(['mlcube', 'submit', cubeDir(name), '--name', name, '--image-digest', digest(c), '--operational', '--yes', '--json'], { as: login });
  if (r.code !== 0) throw new Error(`mlcube submit ${name} failed: ${r.err}`);
  const number = JSON.parse(r.out).pull.number as number;
  await h.merge(number);
  return number;
}

/** The committee's benchmark `chestxray`, proposed with `benchmark submit` and merged by the admin. */
export async function approvedChestxray(h: Harness, extra: string[] = []): Promise<void> {
  await registerCube(h, COMMITTEE, 'chestxray-prep', 'a');
  await registerCube(h, COMMITTEE, 'chestxray-cnn', 'b');
  await registerCube(h, COMMITTEE, 'chestxray-metrics', 'c');
  const r = await h.run(
    [
      'benchmark', 'submit', '--name', 'chestxray', '--title', 'Chest X-ray classification',
      '-p', `${COMMITTEE}/chestxray-prep`, '-m', `${COMMITTEE}/chestxray-cnn`, '-e', `${COMMITTEE}/chestxray-metrics`,
      '--demo-dataset-url', h.demoUrl, '--primary-metric', 'AUC.mean', '--runner', 'process', '--yes', '--json', ...extra,
    ],
    { as: COMMITTEE },
  );
  if (r.code !== 0) throw new Error(`benchmark submit failed: ${r.err}`);
  const number = JSON.parse(r.out).pull.number as number;
  const admin = await h.forge(ADMIN);
  await admin.review(number, 'APPROVE');
  await admin.merge(number);
}
