// Test support for the data owner's commands: a local registry with the demo benchmark registered
// and approved (the committee's and model owner's part of the tutorial, done directly on the
// forge), raw data for a data owner, and a way to run the CLI in process and see what a user sees.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generateDataset, buildDemoTarball, PATHOLOGIES } from '../cli/demo/dataset.ts';
import { CUBES_DIR } from '../cli/demo/images.ts';
import { hashFile } from '../registry/hash.ts';
import { paths } from '../registry/layout.ts';
import { LocalForge } from '../registry/forge/local.ts';
import type { BenchmarkRecord, ModelAssociationRecord } from '../registry/records.ts';
import { runCli } from './cli.ts';
import { computeCubeAssets, cubeRecord } from '../cli/cube/assets.ts';
import { recordYaml } from '../registry/record-yaml.ts';
import { VERSION } from '../cli/version.ts';
import { initIdentity } from '../cli/keys.ts';
import { personRecordFor } from '../registry/identity.ts';
import { exampleIdentity } from '../examples/keys.ts';
import { SITE_LOGIN } from './records.ts';

export const ADMIN = 'medperf-admin';
export const COMMITTEE = 'bench-committee';
export const MODEL_OWNER = 'model-owner';
export const DATA_OWNER = 'data-owner';
export const BENCHMARK = 'chestxray';
export const FAKE_DIGEST = `sha256:${'0'.repeat(64)}`;

export function forgeRoot(stateDir: string): string {
  return join(stateDir, 'forge');
}

const opened: LocalForge[] = [];

/** The local forge as `login`; released by releaseForges(). */
export async function as(stateDir: string, login: string): Promise<LocalForge> {
  const forge = await LocalForge.open({ root: forgeRoot(stateDir), login });
  opened.push(forge);
  return forge;
}

/** Releases every forge `as` opened (their git readers). */
export async function releaseForges(): Promise<void> {
  await Promise.all(opened.splice(0).map((f) => f.dispose()));
}

async function cubeFile(stateDir: string, id: string, dir: string, name: string, kind: 'data-preparator' | 'model' | 'metrics') {
  const assets = await computeCubeAssets({ dir: resolve(CUBES_DIR, dir), imageDigest: FAKE_DIGEST }, { stateDir, inspectImage: async () => undefined });
  const path = paths.cube(id);
  return { path, content: recordYaml('cube', path, cubeRecord(assets, { name, kind })) };
}

function association(login: string, priority: number, uid: string): ModelAssociationRecord {
  return { initiated_by: login, compatibility_test: { metrics: { AUC: { mean: 0.7 } }, dataset_generated_uid: uid, medperf_git_version: VERSION }, priority };
}

export interface SeedOptions {
  /** The committee approves the second model's association (default true). */
  approveSecondModel?: boolean;
  /** The admin approves the benchmark (default true). */
  approveBenchmark?: boolean;
  benchmarkState?: BenchmarkRecord['state'];
  /** A third model, approved, whose inference crashes after writing its predictions (a cube folder). */
  crashingModel?: string;
  /** The data owner has keys on this machine and has published them (default true). */
  dataOwnerKeys?: boolean;
  /** The benchmark's results are read by its committee only; registry.yaml names the example site recipient. */
  committeeOnly?: boolean;
  /** The committee has keys on this machine and has published them (default: when committeeOnly). */
  committeeKeys?: boolean;
}

/** Makes `login`'s keys in the state directory and merges their people/<login>.yaml. */
export async function publishKeys(stateDir: string, login: string): Promise<void> {
  const { identity } = await initIdentity(stateDir, login);
  const forge = await as(stateDir, login);
  const path = paths.person(login);
  const pr = await forge.propose({ key: `keys/${login}`, title: 'Keys', body: '', files: [{ path, content: recordYaml('person', path, personRecordFor(identity.keys)!) }] });
  await forge.merge(pr.pull.number);
}

/** A copy of the mobilenet cube whose `infer` exits with 3 after writing every prediction. */
export function crashingModelCube(dir: string): string {
  cpSync(join(CUBES_DIR, 'chestxray-mobilenet'), dir, { recursive: true });
  const main = join(dir, 'project', 'main.mjs');
  writeFileSync(main, readFileSync(main, 'utf8') + "\nconsole.error('out of memory after the last batch');\nprocess.exit(3);\n");
  return dir;
}

/** The demo benchmark on a fresh local registry, registered by the committee and approved by the admin. */
export async function seedRegistry(stateDir: string, options: SeedOptions = {}): Promise<void> {
  const admin = await as(stateDir, ADMIN);
  const registryPr = await admin.propose({
    key: 'registry',
    title: 'Registry',
    body: '',
    files: [
      {
        path: 'registry.yaml',
        content:
          `title: Test registry\nadmins:\n  - ${ADMIN}\ndefaults:\n  dataset_auto_approval:\n    mode: never\n  model_auto_approval:\n    mode: never\n` +
          (options.committeeOnly ? `site_recipient: ${exampleIdentity(SITE_LOGIN).keys.age_recipient}\n` : ''),
      },
    ],
  });
  await admin.merge(registryPr.pull.number);
  // The local registry keeps the site key its merges open committee-only results with.
  if (options.committeeOnly) await admin.storeSiteKey(exampleIdentity(SITE_LOGIN).ageIdentity);
  if (options.dataOwnerKeys !== false) await publishKeys(stateDir, DATA_OWNER);
  if (options.committeeKeys ?? options.committeeOnly) await publishKeys(stateDir, COMMITTEE);

  const committee = await as(stateDir, COMMITTEE);
  const demo = join(stateDir, 'demo_data.tar.gz');
  await buildDemoTarball(demo);
  const demoUid = 'e'.repeat(64);
  const benchmark: BenchmarkRecord = {
    name: 'Chest X-ray classification',
    committee: [COMMITTEE],
    data_preparation_mlcube: `${COMMITTEE}/chestxray-prep`,
    reference_model: `${COMMITTEE}/chestxray-cnn`,
    data_evaluator_mlcube: `${COMMITTEE}/chestxray-metrics`,
    demo_dataset: { url: `file://${demo}`, sha256: await hashFile(demo), generated_uid: demoUid },
    dataset_auto_approval: { mode: 'never' },
    model_auto_approval: { mode: 'never' },
    results_policy: { publish: 'per-model', primary_metric: 'AUC.mean', direction: 'higher', ...(options.committeeOnly ? { read: 'committee' as const } : {}) },
    // What the demo metrics cube and data preparator report, as `benchmark submit` declares them.
    metric_names: ['AUC', 'accuracy'].flatMap((m) => [...PATHOLOGIES, 'mean'].map((p) => `${m}.${p}`)),
    statistics_names: ['num_samples', ...PATHOLOGIES.map((p) => `label_counts.${p}`)],
    state: options.benchmarkState ?? 'operational',
  };
  const benchPr = await committee.propose({
    key: `benchmark/${BENCHMARK}`,
    title: 'Benchmark chestxray',
    body: '',
    files: [
      await cubeFile(stateDir, `${COMMITTEE}/chestxray-prep`, 'chestxray-prep', 'Chest X-ray Data Preparator', 'data-preparator'),
      await cubeFile(stateDir, `${COMMITTEE}/chestxray-cnn`, 'chestxray-cnn', 'Custom CNN', 'model'),
      await cubeFile(stateDir, `${COMMITTEE}/chestxray-metrics`, 'chestxray-metrics', 'Classification Metrics', 'metrics'),
      { path: paths.benchmark(BENCHMARK), content: recordYaml('benchmark', paths.benchmark(BENCHMARK), benchmark) },
      { path: paths.modelAssociation(BENCHMARK, `${COMMITTEE}/chestxray-cnn`), content: recordYaml('model-association', paths.modelAssociation(BENCHMARK, `${COMMITTEE}/chestxray-cnn`), association(COMMITTEE, 0, demoUid)) },
    ],
  });
  if (options.approveBenchmark === false) return;
  await admin.review(benchPr.pull.number, 'APPROVE');
  await admin.merge(benchPr.pull.number);

  const modelOwner = await as(stateDir, MODEL_OWNER);
  const cubePr = await modelOwner.propose({
    key: `cube/${MODEL_OWNER}/chestxray-mobilenet`,
    title: 'Cube',
    body: '',
    files: [await cubeFile(stateDir, `${MODEL_OWNER}/chestxray-mobilenet`, 'chestxray-mobilenet', 'MobileNet', 'model')],
  });
  await modelOwner.merge(cubePr.pull.number);
  const assocPath = paths.modelAssociation(BENCHMARK, `${MODEL_OWNER}/chestxray-mobilenet`);
  const assocPr = await modelOwner.propose({
    key: `model-association/${BENCHMARK}/${MODEL_OWNER}/chestxray-mobilenet`,
    title: 'Associate',
    body: '',
    files: [{ path: assocPath, content: recordYaml('model-association', assocPath, association(MODEL_OWNER, 1, demoUid)) }],
  });
  if (options.approveSecondModel === false) return;
  await committee.review(assocPr.pull.number, 'APPROVE');
  await committee.merge(assocPr.pull.number);
  if (options.crashingModel) {
    const id = `${MODEL_OWNER}/chestxray-crashing`;
    const path = paths.modelAssociation(BENCHMARK, id);
    const pr = await modelOwner.propose({
      key: `cube/${id}`,
      title: 'Crashing model',
      body: '',
      files: [
        await cubeFile(stateDir, id, options.crashingModel, 'Crashing model', 'model'),
        { path, content: recordYaml('model-association', path, association(MODEL_OWNER, 2, demoUid)) },
      ],
    });
    await committee.review(pr.pull.number, 'APPROVE');
    await committee.merge(pr.pull.number);
  }
}

/** Raw data for the data owner: 40 images and their labels, under `dir`. */
export function rawData(dir: string): { data: string; labels: string } {
  mkdirSync(dir, { recursive: true });
  const { dataPath, labelsPath } = generateDataset(dir, { count: 40, seed: 11, prefix: 'patient' });
  return { data: dataPath, labels: labelsPath };
}

/** Runs the CLI in process as a login; returns the exit code and what was printed. */
export async function cli(stateDir: string, login: string, argv: string[], options: { cwd?: string; stdin?: string } = {}) {
  return runCli(argv, {
    env: { ...process.env, MEDPERF_GIT_HOME: stateDir, MEDPERF_GIT_LOGIN: login, MEDPERF_GIT_REGISTRY: '' },
    cwd: options.cwd ?? stateDir,
    input: options.stdin,
  });
}

/**
 * Every blob and commit of the local forge's registry, in every branch and pull request, and its
 * pull request store: what anyone who clones the registry could read. Tree objects hold binary
 * ids, where any short text may occur by chance, so they are left out.
 */
export function pushedBytes(stateDir: string): Buffer {
  const repo = join(forgeRoot(stateDir), 'registry.git');
  const objects = execFileSync('git', ['cat-file', '--batch-all-objects', '--batch-check=%(objectname) %(objecttype)'], { cwd: repo, encoding: 'utf8', maxBuffer: 1 << 28 })
    .split('\n')
    .filter((l) => / (blob|commit)$/.test(l))
    .map((l) => l.split(' ')[0])
    .join('\n');
  const pushed = execFileSync('git', ['cat-file', '--batch'], { cwd: repo, input: objects + '\n', maxBuffer: 1 << 28 });
  return Buffer.concat([pushed, readFileSync(join(forgeRoot(stateDir), 'pulls.json'))]);
}
