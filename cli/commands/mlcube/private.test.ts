// Private models through the local forge, as their users meet them: the model owner submits a
// model whose weights are encrypted, tests it and joins the benchmark; a data owner without a grant
// is stopped before anything runs and told whom to ask; once granted (MedPerf's auto-grant), their
// run decrypts and runs the model for real; a revoke stops them again. No object of the registry's
// history and no hosted file holds the weights in clear.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import yaml from 'js-yaml';
import { CUBES_DIR } from '../../demo/images.ts';
import { cachePath } from '../../fetch.ts';
import { modelKeyFile } from '../../private-models.ts';
import { as, BENCHMARK, cli, COMMITTEE, DATA_OWNER, FAKE_DIGEST, forgeRoot, MODEL_OWNER, rawData, releaseForges, seedRegistry } from '../../../testing/seeded-registry.ts';
import type { CubeRecord, ModelAssociationRecord } from '../../../registry/records.ts';
import { paths } from '../../../registry/layout.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { VERSION } from '../../version.ts';
import { closeTree } from '../../../registry/trees.ts';

let state: string;
let raw: { data: string; labels: string };
const MODEL = `${MODEL_OWNER}/private-net`;
const DS = `${DATA_OWNER}/hospital-a`;

beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-private-'));
  raw = rawData(join(state, '..', `${state.split('/').pop()}-hospital`));
});

afterEach(async () => {
  await releaseForges();
  await rm(state, { recursive: true, force: true });
  await rm(join(raw.data, '..'), { recursive: true, force: true });
});

async function mergeOpen(login: string, path: string, approveAs?: string) {
  const forge = await as(state, login);
  const [pull] = await forge.listPulls({ state: 'open', paths: [path] });
  expect(pull, `an open pull request for ${path}`).toBeDefined();
  if (approveAs) await (await as(state, approveAs)).review(pull!.number, 'APPROVE');
  await forge.merge(pull!.number);
}

/** Every object of the registry's git history, uncompressed. */
function registryObjects(): Buffer[] {
  const gitDir = join(forgeRoot(state), 'registry.git');
  const ids = execFileSync('git', ['--git-dir', gitDir, 'cat-file', '--batch-all-objects', '--batch-check=%(objectname)'], { encoding: 'utf8' }).trim().split('\n');
  return ids.map((id) => execFileSync('git', ['--git-dir', gitDir, 'cat-file', '-p', id], { maxBuffer: 1 << 26 }));
}

/** A copy of the demo model whose weights carry a mark found nowhere else. */
function privateCube(): { dir: string; mark: string; weights: Buffer } {
  const dir = join(state, 'private-net');
  cpSync(join(CUBES_DIR, 'chestxray-mobilenet'), dir, { recursive: true });
  const file = join(dir, 'workspace', 'additional_files', 'mobilenetv2_weights.json');
  const mark = `weights-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  writeFileSync(file, readFileSync(file, 'utf8').replace('"mobilenetv2"', JSON.stringify(mark)));
  return { dir, mark, weights: readFileSync(file) };
}

async function registerDataset() {
  for (const argv of [
    ['dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--description', 'Chest X-rays', '--location', 'Hospital A', '--data-path', raw.data, '--labels-path', raw.labels, '--yes'],
  ]) expect((await cli(state, DATA_OWNER, argv)).code).toBe(0);
  await mergeOpen(DATA_OWNER, `datasets/${DS}.yaml`);
  expect((await cli(state, DATA_OWNER, ['dataset', 'prepare', '-d', 'hospital-a', '--runner', 'process'])).code).toBe(0);
  expect((await cli(state, DATA_OWNER, ['dataset', 'set-operational', '-d', 'hospital-a', '--yes'])).code).toBe(0);
  await mergeOpen(DATA_OWNER, `datasets/${DS}.yaml`);
  const associate = await cli(state, DATA_OWNER, ['dataset', 'associate', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
  expect(associate.code, associate.err).toBe(0);
  await mergeOpen(DATA_OWNER, `benchmarks/${BENCHMARK}/datasets/`, COMMITTEE);
}

describe('a private model', () => {
  it('is hosted encrypted, refused without a grant, run by a granted data owner, and refused again once revoked', async () => {
    await seedRegistry(state);
    const { dir, mark, weights } = privateCube();

    // --- The model owner submits it: only the ciphertext is hosted.
    const submit = await cli(state, MODEL_OWNER, ['mlcube', 'submit', dir, '--name', 'private-net', '--kind', 'model', '--operational', '--private', '--image-digest', FAKE_DIGEST, '--yes']);
    expect(submit.code, submit.err).toBe(0);
    expect(submit.out).toContain(`The model's key was made and is kept in ${modelKeyFile(state, MODEL)}`);
    expect(submit.out).toContain(`medperf-git mlcube grant -m ${MODEL} --to LOGIN`);
    const key = readFileSync(modelKeyFile(state, MODEL), 'utf8').trim();
    expect(key).toMatch(/^AGE-SECRET-KEY-1/);
    if (process.platform !== 'win32') expect(execFileSync('stat', ['-c', '%a', modelKeyFile(state, MODEL)], { encoding: 'utf8' }).trim()).toBe('600');
    expect(submit.out + submit.err).not.toContain(key);
    await mergeOpen(MODEL_OWNER, `mlcubes/${MODEL}.yaml`);
    const forge = await as(state, MODEL_OWNER);
    const main = await forge.main();
    const cube = yaml.load((await main.read(`mlcubes/${MODEL}.yaml`))!.toString('utf8')) as CubeRecord;
    await closeTree(main);
    expect(cube.private?.age_recipient).toMatch(/^age1/);
    const hosted = readFileSync(fileURLToPath(cube.additional_files!.url));
    expect(hosted.subarray(0, 22).toString()).toBe('age-encryption.org/v1\n');
    // The plaintext hash beside the ciphertext's: the packed tarball holds the marked weights.
    const plain = readFileSync(cachePath(state, cube.private!.additional_files_sha256));
    expect(gunzipSync(plain).includes(mark)).toBe(true);
    expect(hosted.includes(mark)).toBe(false);
    expect(hosted.includes(plain)).toBe(false);

    // --- The model owner tests it on the demo data with their own key (the seeded benchmark's
    // demo generated_uid is a stand-in, so the association is then proposed directly).
    const associate = await cli(state, MODEL_OWNER, ['mlcube', 'associate', '-b', BENCHMARK, '-m', MODEL, '--runner', 'process', '--priority', '2', '--yes']);
    expect(associate.err).toContain('compatibility test: passed');
    const assocPath = paths.modelAssociation(BENCHMARK, MODEL);
    const association: ModelAssociationRecord = { initiated_by: MODEL_OWNER, compatibility_test: { metrics: { AUC: { mean: 0.7 } }, dataset_generated_uid: 'e'.repeat(64), medperf_git_version: VERSION }, priority: 2 };
    await forge.propose({ key: 'assoc', title: 'Associate', body: '', files: [{ path: assocPath, content: recordYaml('model-association', assocPath, association) }] });
    await mergeOpen(MODEL_OWNER, assocPath, COMMITTEE);

    // --- A data owner joins; without a grant their run stops before anything runs.
    await registerDataset();
    // The data owner decrypts for themselves: nothing of the owner's packing is reused.
    rmSync(cachePath(state, cube.private!.additional_files_sha256));
    const refused = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain(`the model ${MODEL} is private and it is not granted to ${DATA_OWNER}: ask its owner ${MODEL_OWNER} to run \`medperf-git mlcube grant -m ${MODEL} --to ${DATA_OWNER}\`; nothing was run`);
    expect(refused.err).not.toMatch(/\n\s+at /);
    expect(existsSync(join(state, 'results')) ? readdirSync(join(state, 'results'), { recursive: true }).filter((f) => String(f).includes('private-net')) : []).toEqual([]);

    // --- Grants go to people with published keys, of private models only.
    const noKeys = await cli(state, MODEL_OWNER, ['mlcube', 'grant', '-m', 'private-net', '--to', 'erin', '--yes']);
    expect(noKeys.code).toBe(1);
    expect(noKeys.err).toContain('erin has no published key (people/erin.yaml): they run `medperf-git keys init` and `medperf-git keys publish` (merged), then grant again; nothing was granted');
    const notPrivate = await cli(state, MODEL_OWNER, ['mlcube', 'grant', '-m', 'chestxray-mobilenet', '--to', DATA_OWNER, '--yes']);
    expect(notPrivate.code).toBe(1);
    expect(notPrivate.err).toContain(`the model ${MODEL_OWNER}/chestxray-mobilenet is not private`);
    const notOwner = await cli(state, COMMITTEE, ['mlcube', 'grant', '-m', MODEL, '--to', DATA_OWNER, '--yes']);
    expect(notOwner.code).toBe(1);
    expect(notOwner.err).toContain(`only the owner of ${MODEL} (${MODEL_OWNER}) grants or revokes its key; ${COMMITTEE} is not`);

    // --- MedPerf's auto-grant: every data owner approved for the benchmark.
    const grant = await cli(state, MODEL_OWNER, ['mlcube', 'grant', '-m', 'private-net', '--benchmark', BENCHMARK, '--approved', '--yes']);
    expect(grant.code, grant.err).toBe(0);
    expect(grant.out).toContain(`Granting the key of ${MODEL} to ${DATA_OWNER}:`);
    expect(grant.out).toContain(`mlcubes/${MODEL}/grants/${DATA_OWNER}.yaml`);
    await mergeOpen(MODEL_OWNER, `mlcubes/${MODEL}/grants/`);
    const again = await cli(state, MODEL_OWNER, ['mlcube', 'grant', '-m', 'private-net', '--to', DATA_OWNER, '--yes']);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`Granted already: ${DATA_OWNER}.`);

    const shown = await cli(state, DATA_OWNER, ['mlcube', 'view', MODEL]);
    expect(shown.out).toMatch(/private:\s+yes: the additional files are encrypted/);
    expect(shown.out).toMatch(new RegExp(`granted to:\\s+${DATA_OWNER}`));

    const run = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toMatch(new RegExp(`^${MODEL}\\s+ran\\s+[0-9a-f]{12}\\s+no\\s+no$`, 'm'));
    expect(run.out).toContain(`--- benchmarks/${BENCHMARK}/results/${DS}/${MODEL}.yaml`);
    // Decrypted into the state directory's cache, and verified there.
    expect(readFileSync(cachePath(state, cube.private!.additional_files_sha256)).equals(plain)).toBe(true);
    await mergeOpen(DATA_OWNER, `benchmarks/${BENCHMARK}/results/`);

    // --- Revoked: the next run of the model stops again.
    const revoke = await cli(state, MODEL_OWNER, ['mlcube', 'revoke', '-m', 'private-net', '--from', DATA_OWNER, '--yes']);
    expect(revoke.code, revoke.err).toBe(0);
    expect(revoke.out).toContain(`delete mlcubes/${MODEL}/grants/${DATA_OWNER}.yaml`);
    await mergeOpen(MODEL_OWNER, `mlcubes/${MODEL}/grants/`);
    const after = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '-m', MODEL, '--runner', 'process', '--new-result', '--yes']);
    expect(after.code).toBe(1);
    expect(after.err).toContain(`it is not granted to ${DATA_OWNER}: ask its owner ${MODEL_OWNER}`);
    const notGranted = await cli(state, MODEL_OWNER, ['mlcube', 'revoke', '-m', 'private-net', '--from', DATA_OWNER, '--yes']);
    expect(notGranted.code).toBe(1);
    expect(notGranted.err).toContain(`${MODEL} is not granted to ${DATA_OWNER} on the registry's main branch`);

    // --- Nothing in the registry's history holds the weights or the model's key in clear.
    const objects = registryObjects();
    expect(objects.length).toBeGreaterThan(20);
    for (const object of objects) {
      expect(object.includes(mark)).toBe(false);
      expect(object.includes(weights)).toBe(false);
      expect(object.includes(plain)).toBe(false);
      expect(object.includes(key)).toBe(false);
    }
  }, 240_000);

  it('says how to name whom to grant, in every wrong combination of options', async () => {
    const cases: Array<[string[], string]> = [
      [['mlcube', 'grant', '-m', MODEL], 'say whom to grant: --to LOGIN, or --benchmark BENCHMARK --approved'],
      [['mlcube', 'grant', '-m', MODEL, '--benchmark', BENCHMARK], '--benchmark grants the data owners of its approved datasets: add --approved'],
      [['mlcube', 'grant', '-m', MODEL, '--approved', '--to', DATA_OWNER], '--approved goes with --benchmark BENCHMARK'],
      [['mlcube', 'grant', '-m', MODEL, '--to', DATA_OWNER, '--benchmark', BENCHMARK, '--approved'], 'give either --to LOGIN or --benchmark BENCHMARK --approved, not both'],
      [['mlcube', 'submit', join(CUBES_DIR, 'chestxray-metrics'), '--private', '--image-digest', FAKE_DIGEST], '--private is for models: this is a metrics cube'],
    ];
    for (const [argv, message] of cases) {
      const r = await cli(state, MODEL_OWNER, argv);
      expect(r.code, argv.join(' ')).not.toBe(0);
      expect(r.out + r.err, argv.join(' ')).toContain(message);
      expect(r.err).not.toMatch(/\n\s+at /);
    }
  });
});
