import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatFinding } from '../../../registry/findings.ts';
import { paths } from '../../../registry/layout.ts';
import type { BenchmarkRecord, ResultRecord } from '../../../registry/records.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { closeTree } from '../../../registry/trees.ts';
import { validateRegistry } from '../../../registry/validate.ts';
import { flattenMetrics } from '../../../registry/metrics.ts';
import { listLocalResults } from '../../results.ts';
import { ADMIN, as, BENCHMARK, cli, COMMITTEE, DATA_OWNER, publishKeys, rawData, releaseForges, seedRegistry } from '../../../testing/seeded-registry.ts';

let state: string;
let raw: { data: string; labels: string };

beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-reencrypt-'));
  raw = rawData(join(state, '..', `${state.split('/').pop()}-hospital`));
});

afterEach(async () => {
  await releaseForges();
  await rm(state, { recursive: true, force: true });
  await rm(join(raw.data, '..'), { recursive: true, force: true });
});

const NEWCOMER = 'new-member';

async function mergeLatest(login: string) {
  const forge = await as(state, login);
  const [pull] = await forge.listPulls({ state: 'open' });
  return forge.merge(pull!.number);
}

/** The findings of a full validation of main, as a user reads them. */
async function mainFindings(): Promise<string[]> {
  const tree = await (await as(state, ADMIN)).main();
  try {
    return (await validateRegistry(tree)).map(formatFinding);
  } finally {
    await closeTree(tree);
  }
}

describe('result reencrypt', () => {
  it('re-wraps a committee-only benchmark\'s results to the committee after a member joins, in one pull request', async () => {
    await seedRegistry(state, { committeeOnly: true });
    // The data owner's results, encrypted to the committee as it was.
    for (const argv of [
      ['dataset', 'submit', '-b', BENCHMARK, '--name', 'hospital-a', '--description', 'Chest X-rays', '--location', 'Hospital A', '--data-path', raw.data, '--labels-path', raw.labels, '--yes'],
      ['dataset', 'prepare', '-d', 'hospital-a', '--runner', 'process'],
      ['dataset', 'set-operational', '-d', 'hospital-a', '--yes'],
      ['dataset', 'associate', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes'],
    ]) {
      const step = await cli(state, DATA_OWNER, argv);
      expect(step.code, step.err).toBe(0);
      if (argv[1] === 'submit' || argv[1] === 'set-operational') await mergeLatest(DATA_OWNER);
    }
    const committee = await as(state, COMMITTEE);
    const [assoc] = await committee.listPulls({ state: 'open' });
    await committee.review(assoc!.number, 'APPROVE');
    await committee.merge(assoc!.number);
    const run = await cli(state, DATA_OWNER, ['run', '-b', BENCHMARK, '-d', 'hospital-a', '--runner', 'process', '--yes']);
    expect(run.code, run.err).toBe(0);
    await mergeLatest(DATA_OWNER);
    expect(await mainFindings()).toEqual([]);

    // Nothing changed on the committee: nothing to re-wrap, no pull request.
    const nothing = await cli(state, COMMITTEE, ['result', 'reencrypt', '-b', BENCHMARK, '--yes']);
    expect(nothing.code, nothing.err).toBe(0);
    expect(nothing.out).toContain(`Nothing to re-encrypt: every result of ${BENCHMARK} is encrypted to the committee as it is now.`);
    const json = await cli(state, COMMITTEE, ['result', 'reencrypt', '-b', BENCHMARK, '--json']);
    expect(json.code, json.err).toBe(0);
    expect(JSON.parse(json.out)).toEqual({ benchmark: BENCHMARK, rewrapped: 0, skipped: [] });
    expect(await committee.listPulls({ state: 'open' })).toEqual([]);

    // The committee gains a member (a benchmark pull request the admins approve).
    const benchPath = paths.benchmark(BENCHMARK);
    const main = await committee.main();
    const bench = parse((await main.read(benchPath))!.toString()) as BenchmarkRecord;
    await closeTree(main);
    const change = await committee.propose({ key: `committee/${BENCHMARK}`, title: 'Committee', body: '', files: [{ path: benchPath, content: recordYaml('benchmark', benchPath, { ...bench, committee: [COMMITTEE, NEWCOMER] }) }] });
    await (await as(state, ADMIN)).review(change.pull.number, 'APPROVE');
    await committee.merge(change.pull.number);

    // Until the new member publishes keys, nobody can re-wrap to them: the refusals `run` gives.
    const keyless = await cli(state, NEWCOMER, ['result', 'reencrypt', '-b', BENCHMARK, '--yes']);
    expect(keyless.code).toBe(1);
    expect(keyless.err).toContain(`error (no-keys): ${NEWCOMER} has no keys on this machine: run \`medperf-git keys init\` and \`medperf-git keys publish\``);
    const unpublished = await cli(state, COMMITTEE, ['result', 'reencrypt', '-b', BENCHMARK, '--yes']);
    expect(unpublished.code).toBe(1);
    expect(unpublished.err).toContain(`error (recipient-without-keys): the results of ${BENCHMARK} are read by its committee only, so they are encrypted to the data owner, the committee (${COMMITTEE}, ${NEWCOMER}) and the site; but ${NEWCOMER} has published no keys`);
    expect(unpublished.err).toContain('nothing was re-encrypted');
    expect(await committee.listPulls({ state: 'open' })).toEqual([]);
    await publishKeys(state, NEWCOMER);

    // Validation now reports every envelope: the new member is not one of its recipients.
    const stale = await mainFindings();
    expect(stale.length).toBe(2);
    for (const f of stale) {
      expect(f).toContain(`not encrypted to ${NEWCOMER} (`);
      expect(f).toContain(`a member of the committee re-encrypts the benchmark's results with \`medperf-git result reencrypt -b ${BENCHMARK}\``);
    }

    // Only a current member re-wraps; the new member cannot open what was sent before they joined.
    const outsider = await cli(state, DATA_OWNER, ['result', 'reencrypt', '-b', BENCHMARK, '--yes']);
    expect(outsider.code).toBe(1);
    expect(outsider.err).toBe(`error (not-committee): ${DATA_OWNER} is not on the committee of the benchmark ${BENCHMARK} (${COMMITTEE}, ${NEWCOMER}); only the committee can re-encrypt its results\n`);
    const newcomer = await cli(state, NEWCOMER, ['result', 'reencrypt', '-b', BENCHMARK, '--yes']);
    expect(newcomer.code, newcomer.err).toBe(0);
    expect(newcomer.out).toContain('not encrypted to you; a member who was on the committee when it was sent runs this');
    expect(newcomer.out).toContain(`Nothing re-encrypted: the results left out above need it, and every other result of ${BENCHMARK} is encrypted to the committee as it is now.`);
    expect(await committee.listPulls({ state: 'open' })).toEqual([]);
    const before = await cli(state, NEWCOMER, ['result', 'ls', '-b', BENCHMARK]);
    expect(before.out).toContain('encrypted for the committee');

    // A member who was there re-wraps both results in one pull request, which merges without a reviewer.
    const rewrap = await cli(state, COMMITTEE, ['result', 'reencrypt', '-b', BENCHMARK, '--yes']);
    expect(rewrap.code, rewrap.err).toBe(0);
    expect(rewrap.out).toContain(`These 2 result records of ${BENCHMARK} will be re-encrypted to the committee as it is now (same metrics, same version):`);
    expect(rewrap.out).toContain(`now also for: ${NEWCOMER} (`);
    const [pull] = await committee.listPulls({ state: 'open' });
    expect(pull!.paths).toHaveLength(2);
    await committee.merge(pull!.number);
    expect(await mainFindings()).toEqual([]);
    const tree = await committee.main();
    const record = parse((await tree.read(pull!.paths[0]!))!.toString()) as ResultRecord;
    await closeTree(tree);
    expect(record.version).toBe(1);
    expect(record.signature).toMatchObject({ signed_by: COMMITTEE, rewrapped: true });

    // The new member reads the numbers.
    const local = await listLocalResults(state, BENCHMARK);
    const auc = String(flattenMetrics(local.find((r) => r.model === 'model-owner/chestxray-mobilenet')!.metrics).get('AUC.mean'));
    const read = await cli(state, NEWCOMER, ['result', 'ls', '-b', BENCHMARK]);
    expect(read.code, read.err).toBe(0);
    expect(read.out).toMatch(new RegExp(`^model-owner/chestxray-mobilenet\\s+.*\\s${auc.replace('.', '\\.')}$`, 'm'));
    expect(read.out).not.toContain('encrypted for the committee');
    // The committee's private view says who vouches for the numbers: the data owner, not the re-wrapping member.
    const site = await cli(state, NEWCOMER, ['site', 'build', '--private', '--out', join(state, 'private-site')]);
    expect(site.code, site.err).toBe(0);
    const page = readdirSync(join(state, 'private-site'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile() && e.name.endsWith('.html'))
      .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'))
      .join('\n');
    expect(page).toContain(auc);
    expect(page).toContain(`signed by ${DATA_OWNER}`);
    expect(page).not.toContain(`signed by ${COMMITTEE}`);
  }, 180_000);
});
