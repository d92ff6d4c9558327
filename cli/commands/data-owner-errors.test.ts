// The data owner's negative paths: each a clear error, and nothing submitted.
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { as, BENCHMARK, cli, COMMITTEE, crashingModelCube, DATA_OWNER, MODEL_OWNER, rawData, type SeedOptions, seedRegistry, releaseForges } from '../../testing/seeded-registry.ts';

let state: string;
let raw: { data: string; labels: string };

beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-neg-'));
  raw = rawData(`${state}-hospital`);
});

afterEach(async () => {
  await releaseForges();
  await rm(state, { recursive: true, force: true });
  await rm(`${state}-hospital`, { recursive: true, force: true });
});

const DS = `${DATA_OWNER}/hospital-a`;
const RUN = ['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes'];

async function pullCount(): Promise<number> {
  return (await (await as(state, DATA_OWNER)).listPulls({ state: 'all' })).length;
}

async function mergeOpen(login: string, reviewer?: string): Promise<void> {
  const forge = await as(state, login);
  const [pull] = await forge.listPulls({ state: 'open', author: DATA_OWNER });
  if (reviewer) await (await as(state, reviewer)).review(pull!.number, 'APPROVE');
  await forge.merge(pull!.number);
}

async function submitAndPrepare(): Promise<void> {
  expect((await cli(state, DATA_OWNER, ['dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--data-path', raw.data, '--labels-path', raw.labels, '--yes'])).code).toBe(0);
  await mergeOpen(DATA_OWNER);
  const prepared = await cli(state, DATA_OWNER, ['dataset', 'prepare', '-d', 'hospital-a', '--runner', 'process']);
  expect(prepared.code, prepared.err).toBe(0);
}

async function operationalAndAssociated(): Promise<void> {
  await submitAndPrepare();
  expect((await cli(state, DATA_OWNER, ['dataset', 'set-operational', '-d', 'hospital-a', '--yes'])).code).toBe(0);
  await mergeOpen(DATA_OWNER);
  const associated = await cli(state, DATA_OWNER, ['dataset', 'associate', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
  expect(associated.code, associated.err).toBe(0);
  await mergeOpen(COMMITTEE, COMMITTEE);
}

async function seeded(options: SeedOptions = {}): Promise<void> {
  await seedRegistry(state, options);
}

describe('the data owner is refused, and nothing is submitted, when', () => {
  it('a model\'s association is not approved yet: run refuses that model, and runs only approved ones', async () => {
    await seeded({ approveSecondModel: false });
    await operationalAndAssociated();
    const before = await pullCount();
    const refused = await cli(state, DATA_OWNER, [...RUN, '-m', `${MODEL_OWNER}/chestxray-mobilenet`]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(new RegExp(`^error \\(not-approved\\): the model ${MODEL_OWNER}/chestxray-mobilenet is not approved for ${BENCHMARK}: its association pull request #\\d+ waits for the committee; nothing was run`, 'm'));
    expect(await pullCount()).toBe(before);
    // Without -m: only the approved reference model runs.
    const run = await cli(state, DATA_OWNER, [...RUN, '--no-submit']);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain('Total: 1 model, 0 ran, 1 from cache, 0 partial, 0 failed');
    expect(run.out).not.toContain('chestxray-mobilenet');
    expect(await pullCount()).toBe(before);
  }, 120_000);

  it('the dataset is still in development: associate refuses', async () => {
    await seeded();
    await submitAndPrepare();
    const before = await pullCount();
    const refused = await cli(state, DATA_OWNER, ['dataset', 'associate', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`error (dataset-in-development): the dataset ${DS} is still in development: prepare it (\`medperf-git dataset prepare -d ${DS}\`) and mark it operational (\`medperf-git dataset set-operational -d ${DS}\`) first; nothing was submitted`);
    expect(await pullCount()).toBe(before);
  }, 120_000);

  it('the benchmark is not approved: dataset submit refuses', async () => {
    await seeded({ approveBenchmark: false, dataOwnerKeys: false });
    const before = await pullCount();
    const refused = await cli(state, DATA_OWNER, ['dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--data-path', raw.data, '--labels-path', raw.labels, '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/^error \(benchmark-not-approved\): the benchmark chestxray is not approved yet: its pull request #2 is pending an admin's review; nothing was submitted$/m);
    expect(await pullCount()).toBe(before);
  }, 120_000);

  it('the benchmark takes no results (still in development): run refuses before running anything', async () => {
    await seeded({ benchmarkState: 'development' });
    await operationalAndAssociated();
    const before = await pullCount();
    const refused = await cli(state, DATA_OWNER, RUN);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain('error (benchmark-not-operational): the benchmark chestxray is in development: it takes no results yet; nothing was run');
    expect(await pullCount()).toBe(before);
  }, 120_000);

  it('a confirmation is needed and there is no terminal: nothing is sent, the results are kept', async () => {
    await seeded();
    await operationalAndAssociated();
    const before = await pullCount();
    const run = await cli(state, DATA_OWNER, RUN.filter((a) => a !== '--yes'));
    expect(run.code).toBe(1);
    expect(run.err).toContain('error (confirmation-needed): Submit 2 results in one pull request?: cannot ask without a terminal; pass --yes to confirm, nothing was done');
    expect(await pullCount()).toBe(before);
    const answeredNo = await cli(state, DATA_OWNER, RUN.filter((a) => a !== '--yes'), { stdin: 'n\n' });
    expect(answeredNo.code).toBe(0);
    expect(answeredNo.out).toContain('Nothing was sent. The results are kept here; submit them later with `medperf-git result submit -b chestxray`.');
    expect(await pullCount()).toBe(before);
    const submit = await cli(state, DATA_OWNER, ['result', 'submit', '-b', BENCHMARK, '--yes']);
    expect(submit.code, submit.err).toBe(0);
    expect(submit.out).toMatch(/Opened pull request #\d+/);
    expect(await pullCount()).toBe(before + 1);
  }, 120_000);
});

describe('raw data that changed since it was registered', () => {
  it('is not prepared', async () => {
    await seeded();
    expect((await cli(state, DATA_OWNER, ['dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--data-path', raw.data, '--labels-path', raw.labels, '--yes'])).code).toBe(0);
    writeFileSync(join(raw.labels, 'labels.csv'), 'Image ID,Label\n');
    const refused = await cli(state, DATA_OWNER, ['dataset', 'prepare', '-d', 'hospital-a', '--runner', 'process']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(new RegExp(`error \\(raw-data-changed\\): the raw data of ${DS} changed since it was registered \\(input_data_hash [0-9a-f]{64}, now [0-9a-f]{64}\\); nothing was prepared`));
    expect(existsSync(join(state, 'datasets', DATA_OWNER, 'hospital-a', 'prepared'))).toBe(false);
  }, 60_000);
});

describe('an interrupted preparation', () => {
  it('resumes at the task that did not finish', async () => {
    await seeded();
    await submitAndPrepare();
    const dir = join(state, 'datasets', DATA_OWNER, 'hospital-a');
    // Killed during statistics: its output never landed, a half-written partial folder did.
    await rm(join(dir, 'statistics'), { recursive: true });
    mkdirSync(join(dir, 'statistics.partial-1-1'), { recursive: true });
    writeFileSync(join(dir, 'statistics.partial-1-1', 'statistics.yaml'), 'num_samples: 3\n');
    const resumed = await cli(state, DATA_OWNER, ['dataset', 'prepare', '-d', 'hospital-a', '--runner', 'process']);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.out).toMatch(/^tasks run:\s+statistics$/m);
    expect(resumed.out).toMatch(/^tasks reused:\s+prepare, sanity_check$/m);
    expect(resumed.out).toMatch(/^num_samples\s+40$/m);
    expect(existsSync(join(dir, 'statistics.partial-1-1'))).toBe(false);
  }, 120_000);
});

describe('an interrupted run', () => {
  it('resumes: finished tasks are reused, half-written output is never read', async () => {
    await seeded();
    await operationalAndAssociated();
    const first = await cli(state, DATA_OWNER, [...RUN, '--no-submit']);
    expect(first.code, first.err).toBe(0);
    // Interrupted during the mobilenet's evaluation: its predictions are done, the evaluation half-written.
    const model = join(state, 'results', BENCHMARK, DATA_OWNER, 'hospital-a', MODEL_OWNER, 'chestxray-mobilenet');
    const [key] = readdirSync(model);
    await rm(join(model, key!), { recursive: true });
    const work = join(state, 'predictions', BENCHMARK, DATA_OWNER, 'hospital-a', MODEL_OWNER, 'chestxray-mobilenet', key!);
    await rm(join(work, 'evaluation'), { recursive: true });
    const stale = join(work, 'evaluation.partial-1-1');
    mkdirSync(stale, { recursive: true });
    writeFileSync(join(stale, 'results.yaml'), 'AUC: {mean: 1.0}\n');

    const resumed = await cli(state, DATA_OWNER, [...RUN, '--no-submit']);
    expect(resumed.code, resumed.err).toBe(0);
    expect(resumed.err).toContain(`${MODEL_OWNER}/chestxray-mobilenet infer: done earlier, reused`);
    expect(resumed.err).toContain(`${MODEL_OWNER}/chestxray-mobilenet evaluate: running`);
    expect(resumed.out).toContain('Total: 2 models, 1 ran, 1 from cache, 0 partial, 0 failed');
    expect(existsSync(stale)).toBe(false);
    const view = await cli(state, DATA_OWNER, ['result', 'ls', '-b', BENCHMARK, '--json']);
    const mobilenet = view.out.trim().split('\n').map((l) => JSON.parse(l)).find((r) => r.model === `${MODEL_OWNER}/chestxray-mobilenet`);
    expect(mobilenet.metrics.AUC.mean).toBeLessThan(1);
  }, 120_000);
});

describe('a model that fails', () => {
  it('stops the run, and nothing is submitted; with --ignore-model-errors its result is partial and the others go on', async () => {
    // By priority: the reference model and the mobilenet finish before the crashing model (priority 2) runs.
    await seeded({ crashingModel: crashingModelCube(join(`${state}-hospital`, 'crashing-cube')) });
    await operationalAndAssociated();
    const before = await pullCount();
    const stopped = await cli(state, DATA_OWNER, RUN);
    expect(stopped.code).toBe(1);
    expect(stopped.err).toContain(`error (task-failed): ${MODEL_OWNER}/chestxray-crashing infer: failed with exit code 3`);
    expect(stopped.err).toContain('  | out of memory after the last batch');
    // The table lists every model: the two before it, and the model's own task as the one that failed.
    expect(stopped.out).toMatch(new RegExp(`^${MODEL_OWNER}/chestxray-crashing\\s+failed \\(infer\\)\\s+${MODEL_OWNER}/chestxray-crashing infer: failed with exit code 3`, 'm'));
    expect(stopped.out).toMatch(/^Total: 3 models, \d ran, \d from cache, 0 partial, 1 failed$/m);
    expect(await pullCount()).toBe(before);

    const partial = await cli(state, DATA_OWNER, [...RUN, '--ignore-model-errors', '--jobs', '2']);
    expect(partial.code, partial.err).toBe(0);
    expect(partial.out).toMatch(new RegExp(`^${MODEL_OWNER}/chestxray-crashing\\s+partial\\s+[0-9a-f]{12}\\s+yes\\s+no$`, 'm'));
    expect(partial.out).toContain('Total: 3 models, 1 ran, 2 from cache, 1 partial, 0 failed');
    expect(partial.out).toContain('partial: true');
    expect(await pullCount()).toBe(before + 1);
    const [pull] = await (await as(state, DATA_OWNER)).listPulls({ state: 'open', author: DATA_OWNER });
    expect(pull!.paths).toHaveLength(3);
  }, 120_000);
});

describe('a cube changed upstream since it was registered', () => {
  it('is refused before anything runs, and nothing is submitted', async () => {
    const cube = crashingModelCube(join(`${state}-hospital`, 'changing-cube'));
    await seeded({ crashingModel: cube });
    await operationalAndAssociated();
    writeFileSync(join(cube, 'workspace', 'parameters.yaml'), 'batch_size: 1000\n');
    // A data owner's machine that never fetched the cube: nothing cached.
    await rm(join(state, 'cache'), { recursive: true, force: true });
    await rm(join(state, 'cubes'), { recursive: true, force: true });
    const before = await pullCount();
    const refused = await cli(state, DATA_OWNER, [...RUN, '-m', `${MODEL_OWNER}/chestxray-crashing`]);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(new RegExp(`error \\(hash-mismatch\\): ${MODEL_OWNER}/chestxray-crashing's parameters.yaml: expected sha256 [0-9a-f]{64}, got [0-9a-f]{64}; nothing was run`));
    expect(refused.out).not.toContain('Total:');
    expect(await pullCount()).toBe(before);
  }, 120_000);
});

describe('results submitted while an earlier results PR is open', () => {
  it('join that PR rather than replace what it carries', async () => {
    await seeded({ approveSecondModel: false });
    await operationalAndAssociated();
    const first = await cli(state, DATA_OWNER, RUN);
    expect(first.code, first.err).toBe(0);
    const number = /Opened pull request #(\d+)/.exec(first.out)![1];
    // The committee approves the second model meanwhile.
    const committee = await as(state, COMMITTEE);
    const [association] = await committee.listPulls({ state: 'open', author: MODEL_OWNER });
    await committee.review(association!.number, 'APPROVE');
    await committee.merge(association!.number);

    const second = await cli(state, DATA_OWNER, [...RUN, '-m', `${MODEL_OWNER}/chestxray-mobilenet`]);
    expect(second.code, second.err).toBe(0);
    expect(second.out).toContain(`Updated pull request #${number}`);
    const pull = await (await as(state, DATA_OWNER)).getPull(Number(number));
    expect(pull.paths).toEqual([
      `benchmarks/${BENCHMARK}/results/${DS}/${COMMITTEE}/chestxray-cnn.yaml`,
      `benchmarks/${BENCHMARK}/results/${DS}/${MODEL_OWNER}/chestxray-mobilenet.yaml`,
    ]);
    const id = JSON.parse((await cli(state, DATA_OWNER, ['result', 'ls', '--json'])).out.split('\n')[0]!).id;
    const again = await cli(state, DATA_OWNER, ['result', 'submit', '-r', id, '--yes']);
    expect(again.out).toContain(`The result ${id} is already submitted, in pull request #${number} (pending); nothing to do.`);
  }, 120_000);
});

describe('signed results', () => {
  const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

  it('a data owner without keys, or with keys not yet merged, is refused before anything runs; with them, every result is signed and a rotated key still verifies the older ones', async () => {
    await seeded({ dataOwnerKeys: false });
    await operationalAndAssociated();
    const before = await pullCount();
    const refused = await cli(state, DATA_OWNER, RUN);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`error (no-keys): ${DATA_OWNER} has no keys on this machine: run \`medperf-git keys init\` and \`medperf-git keys publish\` (once, and wait for the merge), then run again`);
    noStack(refused.err);
    expect(refused.out).not.toContain('Running');
    expect(await pullCount()).toBe(before);

    expect((await cli(state, DATA_OWNER, ['keys', 'init'])).code).toBe(0);
    const unpublished = await cli(state, DATA_OWNER, RUN);
    expect(unpublished.err).toContain('error (keys-not-published): your keys are not published: run `medperf-git keys publish` (and wait for the merge), then run again');
    const published = await cli(state, DATA_OWNER, ['keys', 'publish', '--yes']);
    expect(published.code, published.err).toBe(0);
    const keysPull = /Opened pull request #(\d+)/.exec(published.out)![1];
    const pending = await cli(state, DATA_OWNER, RUN);
    expect(pending.err).toContain(`error (keys-not-published): your keys are not published yet: pull request #${keysPull} adds people/${DATA_OWNER}.yaml; once it is merged, run again`);
    noStack(pending.err);
    expect((await cli(state, DATA_OWNER, ['pr', 'merge', keysPull!])).code).toBe(0);

    const ran = await cli(state, DATA_OWNER, RUN);
    expect(ran.code, ran.err).toBe(0);
    // The run's two results are signed together: each shows the proof of its place under one signature.
    expect(ran.out).toMatch(/^  signature:\n    signed_by: data-owner\n    key_version: 1\n    proof:\n      - [a-f0-9]{64}\n    ed25519: [A-Za-z0-9+/]{86}==$/m);
    await mergeOpen(DATA_OWNER);

    // A new key: the next version of people/data-owner.yaml; the results signed before stay valid.
    expect((await cli(state, DATA_OWNER, ['keys', 'init', '--rotate'])).code).toBe(0);
    const stale = await cli(state, DATA_OWNER, [...RUN, '--new-result', '-m', `${MODEL_OWNER}/chestxray-mobilenet`]);
    expect(stale.err).toContain(`error (keys-differ): the signing key on this machine`);
    expect(stale.err).toContain(`is not the one people/${DATA_OWNER}.yaml publishes (version 1): publish it with \`medperf-git keys publish\`, then run again`);
    const rotated = await cli(state, DATA_OWNER, ['keys', 'publish', '--yes']);
    expect(rotated.out).toContain(`Rotating the keys of ${DATA_OWNER} (version 2)`);
    expect(rotated.out).toMatch(/earlier_signing_keys:\n {4}- version: 1\n/);
    expect((await cli(state, DATA_OWNER, ['pr', 'merge', /pull request #(\d+)/.exec(rotated.out)![1]!])).code).toBe(0);
    const rerun = await cli(state, DATA_OWNER, [...RUN, '--new-result', '-m', `${MODEL_OWNER}/chestxray-mobilenet`]);
    expect(rerun.code, rerun.err).toBe(0);
    expect(rerun.out).toMatch(/^  version: 2\n/m);
    expect(rerun.out).toMatch(/^    key_version: 2$/m);
    await mergeOpen(DATA_OWNER);
    // The whole registry, old and new results, validates on main.
    const main = await (await as(state, DATA_OWNER)).main();
    try {
      const { validateRegistry } = await import('../../registry/validate.ts');
      expect(await validateRegistry(main)).toEqual([]);
    } finally {
      const { closeTree } = await import('../../registry/trees.ts');
      await closeTree(main);
    }
  }, 240_000);
});
