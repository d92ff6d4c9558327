import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armor } from 'age-encryption';
import { parse } from 'yaml';
import { openMetrics, sealMetrics } from '../../registry/envelope.ts';
import { flattenMetrics } from '../../registry/metrics.ts';
import type { ResultRecord } from '../../registry/records.ts';
import { recordYaml } from '../../registry/record-yaml.ts';
import { initIdentity, readIdentity } from '../keys.ts';
import { listLocalResults } from '../results.ts';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ADMIN, as, BENCHMARK, cli, DATA_OWNER, COMMITTEE, MODEL_OWNER, publishKeys, pushedBytes, rawData, seedRegistry, releaseForges } from '../../testing/seeded-registry.ts';
import { exampleIdentity } from '../../examples/keys.ts';

let state: string;
let raw: { data: string; labels: string };

beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-run-'));
  raw = rawData(join(state, '..', `${state.split('/').pop()}-hospital`));
});

afterEach(async () => {
  await releaseForges();
  await rm(state, { recursive: true, force: true });
  await rm(join(raw.data, '..'), { recursive: true, force: true });
});

const DS = `${DATA_OWNER}/hospital-a`;

async function mergeLatest(login: string, approveAs?: string) {
  const forge = await as(state, login);
  const [pull] = await forge.listPulls({ state: 'open' });
  if (approveAs) await (await as(state, approveAs)).review(pull!.number, 'APPROVE');
  return forge.merge(pull!.number);
}

/** The data owner's flow up to an approved, operational, associated dataset. */
async function registerDataset() {
  const submit = await cli(state, DATA_OWNER, ['dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--description', 'Chest X-rays', '--location', 'Hospital A', '--data-path', raw.data, '--labels-path', raw.labels, '--yes']);
  expect(submit.code, submit.err).toBe(0);
  await mergeLatest(DATA_OWNER);
  const prepare = await cli(state, DATA_OWNER, ['dataset', 'prepare', '-d', 'hospital-a', '--runner', 'process']);
  expect(prepare.code, prepare.err).toBe(0);
  const operational = await cli(state, DATA_OWNER, ['dataset', 'set-operational', '-d', 'hospital-a', '--yes']);
  expect(operational.code, operational.err).toBe(0);
  await mergeLatest(DATA_OWNER);
  return { submit, prepare, operational };
}

describe('the data owner', () => {
  it('registers, prepares, marks operational, associates, runs every approved model and submits one results PR', async () => {
    await seedRegistry(state);
    const { submit, prepare, operational } = await registerDataset();
    expect(submit.out).toContain(`This will be published in`);
    expect(submit.out).toMatch(/input_data_hash: [0-9a-f]{64}/);
    expect(submit.out).not.toContain(raw.data);
    expect(submit.out).toContain('Opened pull request #');
    expect(prepare.out).toContain('tasks run:     prepare, sanity_check, statistics');
    expect(prepare.out).toMatch(/num_samples\s+40/);
    expect(operational.out).toContain('This cannot be undone');
    expect(operational.out).toContain('state: operational');

    const associate = await cli(state, DATA_OWNER, ['dataset', 'associate', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(associate.code, associate.err).toBe(0);
    expect(associate.out).toContain(`The reference model ${COMMITTEE}/chestxray-cnn on ${DS}:`);
    expect(associate.out).toMatch(/AUC\.mean\s+0\.\d+/);
    // Approved by the committee: the association merges.
    const committee = await as(state, COMMITTEE);
    const open = await committee.listPulls({ state: 'open', paths: [`benchmarks/${BENCHMARK}/datasets/`] });
    expect(open).toHaveLength(1);
    await committee.review(open[0]!.number, 'APPROVE');
    await committee.merge(open[0]!.number);

    const run = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(run.code, run.err).toBe(0);
    const lines = run.out.split('\n');
    const header = lines.findIndex((l) => l.startsWith('model'));
    expect(lines[header]).toMatch(/^model\s+status\s+local result id\s+partial\s+from cache\s+error$/);
    // By priority: the reference model (0) first; it ran already for the association, so it comes from the cache.
    expect(lines[header + 1]).toMatch(new RegExp(`^${COMMITTEE}/chestxray-cnn\\s+cached\\s+[0-9a-f]{12}\\s+no\\s+yes$`));
    expect(lines[header + 2]).toMatch(/^model-owner\/chestxray-mobilenet\s+ran\s+[0-9a-f]{12}\s+no\s+no$/);
    expect(run.out).toContain('Total: 2 models, 1 ran, 1 from cache, 0 partial, 0 failed');
    expect(run.out).toContain(`--- benchmarks/${BENCHMARK}/results/${DS}/model-owner/chestxray-mobilenet.yaml`);
    expect(run.out).toContain('version: 1');
    expect(run.out).toMatch(/Opened pull request #\d+/);

    const owner = await as(state, DATA_OWNER);
    const [resultsPr] = await owner.listPulls({ state: 'open' });
    expect(resultsPr!.paths).toEqual([
      `benchmarks/${BENCHMARK}/results/${DS}/${COMMITTEE}/chestxray-cnn.yaml`,
      `benchmarks/${BENCHMARK}/results/${DS}/model-owner/chestxray-mobilenet.yaml`,
    ]);
    // Results need no reviewer: the gate lets the data owner's PR merge.
    await owner.merge(resultsPr!.number);

    // A second run: everything from the cache, nothing to send.
    const again = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain('Total: 2 models, 0 ran, 2 from cache, 0 partial, 0 failed');
    expect(again.out).toContain('Every result is in the registry already; nothing to send.');

    const json = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes', '--json']);
    expect(json.code, json.err).toBe(0);
    const report = JSON.parse(json.out);
    expect(report.executions.map((e: { model: string; cached: boolean; partial: boolean; error: null }) => [e.model, e.cached, e.partial, e.error])).toEqual([
      [`${COMMITTEE}/chestxray-cnn`, true, false, null],
      ['model-owner/chestxray-mobilenet', true, false, null],
    ]);
    expect(report.pull).toBeUndefined();

    const ls = await cli(state, DATA_OWNER, ['result', 'ls', '-b', BENCHMARK]);
    expect(ls.out).toMatch(/^id\s+benchmark\s+model\s+dataset\s+partial\s+executed at\s+submission$/m);
    expect(ls.out).toMatch(new RegExp(`^${report.executions[1].result}\\s+chestxray\\s+model-owner/chestxray-mobilenet\\s+${DS}\\s+no\\s+\\S+\\s+#\\d+ in the registry$`, 'm'));
    const view = await cli(state, DATA_OWNER, ['result', 'view', report.executions[1].result]);
    expect(view.code, view.err).toBe(0);
    expect(view.out).toContain(`Record (benchmarks/${BENCHMARK}/results/${DS}/model-owner/chestxray-mobilenet.yaml):`);
    const datasets = await cli(state, DATA_OWNER, ['dataset', 'ls']);
    expect(datasets.out).toMatch(new RegExp(`^${DS}\\s+hospital-a\\s+operational\\s+${COMMITTEE}/chestxray-prep\\s+registered\\s+yes$`, 'm'));
    const shown = await cli(state, DATA_OWNER, ['dataset', 'view', 'hospital-a']);
    expect(shown.out).toContain(`${DS} (registered)`);
    expect(shown.out).toContain('On this machine (never published):');
    const check = await cli(state, DATA_OWNER, ['dataset', 'check', '-d', 'hospital-a']);
    expect(check.code).toBe(0);
    expect(check.out).toContain(`OK: the prepared data of ${DS} is unchanged.`);

    // A rerun is the record's next version, never a silent edit; it merges through the gate too.
    const rerun = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '-m', 'model-owner/chestxray-mobilenet', '--no-cache', '--runner', 'process', '--yes']);
    expect(rerun.code, rerun.err).toBe(0);
    expect(rerun.out).toContain('Total: 1 model, 1 ran, 0 from cache, 0 partial, 0 failed');
    expect(rerun.out).toContain('  version: 2');
    const [rerunPr] = await owner.listPulls({ state: 'open' });
    expect(rerunPr!.paths).toEqual([`benchmarks/${BENCHMARK}/results/${DS}/model-owner/chestxray-mobilenet.yaml`]);
    await owner.merge(rerunPr!.number);

    // What the registry holds is not sent again, unless --new-result: it runs again and goes out as the next version.
    const plain = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '-m', 'model-owner/chestxray-mobilenet', '--runner', 'process', '--yes']);
    expect(plain.out).toContain('Total: 1 model, 0 ran, 1 from cache, 0 partial, 0 failed');
    expect(plain.out).toContain('Every result is in the registry already; nothing to send.');
    const fresh = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '-m', 'model-owner/chestxray-mobilenet', '--new-result', '--runner', 'process', '--yes']);
    expect(fresh.code, fresh.err).toBe(0);
    expect(fresh.out).toContain('Total: 1 model, 1 ran, 0 from cache, 0 partial, 0 failed');
    expect(fresh.out).toContain('  version: 3');
    const [freshPr] = await owner.listPulls({ state: 'open' });
    await owner.merge(freshPr!.number);

    // Privacy: nothing pushed holds the data, its paths, its file names, or who and where we are.
    const everything = pushedBytes(state);
    const forbidden = [raw.data, raw.labels, join(state, 'datasets'), join(state, 'predictions'), join(state, 'results'), 'patient-0', `/${userInfo().username}/`];
    // The machine's name as a word (a short name such as `vm` is inside many words).
    const host = new RegExp(`(^|[^A-Za-z0-9-])${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}($|[^A-Za-z0-9-])`, 'm');
    expect(host.test(everything.toString('latin1')), hostname()).toBe(false);
    // The scan sees what was pushed: the records' hashes and typed text are there.
    expect(everything.includes(Buffer.from('location: Hospital A'))).toBe(true);
    expect(everything.includes(Buffer.from('AUC:'))).toBe(true);
    for (const text of forbidden) expect(everything.includes(Buffer.from(text)), text).toBe(false);
    const prepared = join(state, 'datasets', DATA_OWNER, 'hospital-a', 'prepared');
    const files = [
      ...readdirSync(raw.data).map((f) => join(raw.data, f)),
      ...readdirSync(join(prepared, 'data')).map((f) => join(prepared, 'data', f)),
      join(raw.labels, 'labels.csv'),
      join(prepared, 'labels', 'labels.csv'),
    ];
    for (const file of files) {
      const bytes = readFileSync(file);
      // Any 24 bytes from the middle of a file (past headers) would betray it.
      for (let at = 16; at + 24 <= bytes.length; at += 97) expect(everything.includes(bytes.subarray(at, at + 24)), file).toBe(false);
    }
  }, 120_000);

  it('under a committee-only benchmark: refuses before running while a reader has no keys, then sends only encrypted metrics', async () => {
    await seedRegistry(state, { committeeOnly: true, committeeKeys: false });
    await registerDataset();
    const associate = await cli(state, DATA_OWNER, ['dataset', 'associate', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(associate.code, associate.err).toBe(0);
    expect(associate.out).toContain(`The results of ${BENCHMARK} are read by its committee only: these numbers stay here, and reach the committee encrypted with your results.`);
    expect(associate.out).toContain('compatibility_test:\n    metrics: {}\n');
    const committee = await as(state, COMMITTEE);
    const [assoc] = await committee.listPulls({ state: 'open', paths: [`benchmarks/${BENCHMARK}/datasets/`] });
    expect(assoc!.body).toContain('its metrics are read by the committee only, so they are not published here');
    await committee.review(assoc!.number, 'APPROVE');
    await committee.merge(assoc!.number);

    const refused = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.err).toBe(
      `error (recipient-without-keys): the results of ${BENCHMARK} are read by its committee only, so they are encrypted to the data owner, the committee (${COMMITTEE}) and the site; ` +
        `but ${COMMITTEE} has published no keys: they run \`medperf-git keys init\` and \`medperf-git keys publish\` (and the pull request is merged); nothing was run\n`,
    );
    expect(refused.out).not.toContain('Total:');

    await publishKeys(state, COMMITTEE);
    // What anyone could read before the run: a number already there is not one this run leaked.
    const before = pushedBytes(state).toString('latin1');
    const run = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(run.code, run.err).toBe(0);
    expect(run.out).toContain('encrypted_metrics:\n    recipients:\n      - login: data-owner\n');
    expect(run.out).toContain('      - site: true\n');
    const owner = await as(state, DATA_OWNER);
    const [resultsPr] = await owner.listPulls({ state: 'open' });
    expect(resultsPr!.paths).toHaveLength(2);
    // The local registry opens the envelopes with its site key before merging, as the gate does on
    // GitHub: without the key, or with another one, nothing merges.
    const secret = join(state, 'forge', 'secrets', 'site-key.txt');
    const siteKey = readFileSync(secret, 'utf8');
    rmSync(secret);
    // `pr view` says what the merge will refuse.
    const viewed = await cli(state, DATA_OWNER, ['pr', 'view', String(resultsPr!.number)]);
    expect(viewed.out).toContain('this check holds no site key (the local registry keeps it once a registry admin runs `medperf-git site key`)');
    await expect(owner.merge(resultsPr!.number)).rejects.toThrow(
      'the encrypted metrics cannot be checked: this check holds no site key (the local registry keeps it once a registry admin runs `medperf-git site key`); a registry admin sets it, then the check runs again',
    );
    await owner.storeSiteKey(exampleIdentity(MODEL_OWNER).ageIdentity);
    await expect(owner.merge(resultsPr!.number)).rejects.toThrow("the encrypted metrics are not encrypted to the site's key, so they cannot be checked");
    writeFileSync(secret, siteKey, { mode: 0o600 });
    // The validate check, the envelopes' check and the gate accept it: the data owner merges it.
    await owner.merge(resultsPr!.number);

    // No metric number of this machine's results is anywhere in the registry, its history or its pull requests.
    const everything = pushedBytes(state).toString('latin1');
    // Each number as a whole (0.95 is not inside 10.953), left out when the registry held it before.
    const holds = (text: string, n: string) => new RegExp(`(?<![0-9.])${n.replace(/\./g, '\\.')}(?![0-9])`).test(text);
    const numbers = (await listLocalResults(state, BENCHMARK)).flatMap((r) => [...flattenMetrics(r.metrics).values()]).map(String).filter((n) => n.length >= 4);
    const fresh = numbers.filter((n) => !holds(before, n));
    expect(fresh.length).toBeGreaterThan(4);
    for (const n of fresh) expect(holds(everything, n), n).toBe(false);
    expect(everything).toContain('-----BEGIN AGE ENCRYPTED FILE-----');

    // The committee reads every result of the benchmark; anyone else is told it is encrypted for the committee.
    const local = await listLocalResults(state, BENCHMARK);
    const mobilenet = local.find((r) => r.model === 'model-owner/chestxray-mobilenet')!;
    const auc = String(flattenMetrics(mobilenet.metrics).get('AUC.mean'));
    const path = `benchmarks/${BENCHMARK}/results/${DS}/model-owner/chestxray-mobilenet.yaml`;
    const read = await cli(state, COMMITTEE, ['result', 'ls', '-b', BENCHMARK]);
    expect(read.code, read.err).toBe(0);
    expect(read.out).toContain(`In the registry (${BENCHMARK}'s results are read by its committee only):`);
    expect(read.out).toMatch(new RegExp(`^model-owner/chestxray-mobilenet\\s+${DS}\\s+1\\s+no\\s+\\S+\\s+${auc.replace('.', '\\.')}$`, 'm'));
    const owner_ = await cli(state, DATA_OWNER, ['result', 'view', path]);
    expect(owner_.code, owner_.err).toBe(0);
    expect(owner_.out).toMatch(new RegExp(`AUC\\.mean\\s+${auc.replace('.', '\\.')}`));
    const outsider = await cli(state, MODEL_OWNER, ['result', 'ls', '-b', BENCHMARK]);
    expect(outsider.code, outsider.err).toBe(0);
    expect(outsider.out).toMatch(/^model-owner\/chestxray-mobilenet\s+.*encrypted for the committee$/m);
    expect(outsider.out).toContain('You (model-owner) have no keys on this machine: only the committee, each result\'s data owner and the site read these metrics');
    expect(outsider.out).not.toContain(auc);
    const keyless = await cli(state, MODEL_OWNER, ['result', 'view', path]);
    expect(keyless.code).toBe(1);
    expect(keyless.err).toBe(`error (encrypted-for-the-committee): ${path} is encrypted for the committee, and model-owner has no keys on this machine: a committee member or its data owner reads it with their keys (\`medperf-git keys init\` and \`medperf-git keys publish\` make yours)\n`);
    await initIdentity(state, MODEL_OWNER);
    const notRecipient = await cli(state, MODEL_OWNER, ['result', 'view', path]);
    expect(notRecipient.err).toBe(`error (encrypted-for-the-committee): ${path} is encrypted for the committee: model-owner is not one of its recipients (data-owner, bench-committee, the site)\n`);

    // The site publishes only what the policy allows (per-model: no mean under two datasets), the
    // committee's private view shows each dataset's numbers, and needs a reader's keys.
    const walk = (dir: string): string => readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? walk(join(dir, e.name)) : readFileSync(join(dir, e.name), 'latin1'))).join('\n');
    const publicSite = await cli(state, COMMITTEE, ['site', 'build', '--out', join(state, 'public-site')]);
    expect(publicSite.code, publicSite.err).toBe(0);
    const published = walk(join(state, 'public-site'));
    expect(published).toContain(BENCHMARK);
    for (const n of numbers) expect(published.includes(n), n).toBe(false);
    const privateSite = await cli(state, COMMITTEE, ['site', 'build', '--private', '--out', join(state, 'private-site')]);
    expect(privateSite.code, privateSite.err).toBe(0);
    expect(privateSite.err).toContain("holds the committee's per-dataset numbers: keep it to yourself, never deploy or share it");
    expect(walk(join(state, 'private-site'))).toContain(auc);
    const noKeys = await cli(state, 'newcomer', ['site', 'build', '--private', '--out', join(state, 'x-site')]);
    expect(noKeys.code).toBe(1);
    expect(noKeys.err).toContain('error (no-keys): site build --private opens committee-only results with your keys, and you have none on this machine');

    // A tampered ciphertext, or numbers its data owner did not sign, are refused, never shown.
    const admin = await as(state, ADMIN);
    const record = parse((await (await admin.main()).read(path))!.toString()) as ResultRecord;
    const bytes = armor.decode(record.encrypted_metrics!.age);
    bytes[bytes.length - 3]! ^= 1;
    await admin.commitToMain([{ path, content: recordYaml('result', path, { ...record, encrypted_metrics: { ...record.encrypted_metrics!, age: armor.encode(bytes) } }) }], 'Tamper');
    const tampered = await cli(state, COMMITTEE, ['result', 'ls', '-b', BENCHMARK]);
    expect(tampered.code).toBe(1);
    expect(tampered.err).toContain(`error (envelope-damaged): ${path}: the encrypted metrics do not decrypt: the envelope was changed after it was made`);
    const committeeKey = (await readIdentity(state, COMMITTEE))!.ageIdentity;
    const inside = (await openMetrics(record.encrypted_metrics!, [committeeKey]))!;
    const forged = await sealMetrics({ ...inside, metrics: { ...inside.metrics, AUC: { ...(inside.metrics.AUC as object), mean: 0.999 } } }, record.encrypted_metrics!.recipients);
    await admin.commitToMain([{ path, content: recordYaml('result', path, { ...record, encrypted_metrics: forged }) }], 'Forge');
    const unsigned = await cli(state, COMMITTEE, ['result', 'view', path]);
    expect(unsigned.code).toBe(1);
    expect(unsigned.err).toContain(`error (signature-invalid): ${path}: the metrics in its envelope are not signed by its data owner data-owner`);
    expect(unsigned.out).not.toContain('0.999');
  }, 120_000);
});
