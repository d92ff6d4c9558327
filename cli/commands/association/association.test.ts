import { load } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, approvedChestxray, COMMITTEE, createHarness, digest, type Harness, MODEL_OWNER, registerCube } from '../../../testing/registry-harness.ts';

const OTHER = 'other-owner';
const MOBILENET = `${MODEL_OWNER}/chestxray-mobilenet`;
const OTHER_MODEL = `${OTHER}/chestxray-mobilenet`;
let h: Harness;
let mobilenetPull: number;
let otherPull: number;

async function associate(login: string, model: string): Promise<number> {
  const r = await h.run(['mlcube', 'associate', '-b', 'chestxray', '-m', model, '--runner', 'process', '--yes', '--json'], { as: login });
  if (r.code !== 0) throw new Error(`mlcube associate failed: ${r.err}`);
  return JSON.parse(r.out).pull.number;
}

beforeAll(async () => {
  h = await createHarness();
  await approvedChestxray(h);
  await registerCube(h, MODEL_OWNER, 'chestxray-mobilenet', 'd');
  await registerCube(h, OTHER, 'chestxray-mobilenet', 'e');
  mobilenetPull = await associate(MODEL_OWNER, MOBILENET);
  otherPull = await associate(OTHER, OTHER_MODEL);
});
afterAll(async () => {
  await h.cleanup();
});

describe('associations, as the benchmark committee reviews them', () => {
  it('association ls shows approved (on main) and pending (open PRs), with filters and JSON', async () => {
    const r = await h.run(['association', 'ls']);
    expect(r.out).toBe(
      [
        'BENCHMARK  KIND   ASSOCIATED                       STATUS        PRIORITY  INITIATED BY',
        'chestxray  model  bench-committee/chestxray-cnn    approved      0         bench-committee',
        `chestxray  model  model-owner/chestxray-mobilenet  pending (#${mobilenetPull})            model-owner`,
        `chestxray  model  other-owner/chestxray-mobilenet  pending (#${otherPull})            other-owner`,
        '',
      ].join('\n'),
    );
    const one = await h.run(['association', 'ls', '-m', MOBILENET, '--json']);
    expect(one.out.trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ benchmark: 'chestxray', kind: 'model', entity: MOBILENET, status: 'pending', pull: expect.objectContaining({ number: mobilenetPull, author: MODEL_OWNER }) }),
    ]);
    expect((await h.run(['association', 'ls', '-b', 'other'])).out).toBe('No associations.\n');
    expect((await h.run(['association', 'ls', '--status', 'approved', '--json'])).out.trim().split('\n')).toHaveLength(1);
    const bad = await h.run(['association', 'ls', '--status', 'open']);
    expect(bad.err).toContain('--status must be one of approved, pending, rejected, all, not open');
  });

  it('only the committee approves; the approval merges the association', async () => {
    const outsider = await h.run(['association', 'approve', '-b', 'chestxray', '-m', MOBILENET], { as: MODEL_OWNER });
    expect(outsider.code).toBe(1);
    expect(outsider.err).toBe(
      'error (not-committee): model-owner is not on the committee of the benchmark chestxray (bench-committee); only the committee can approve its associations\n',
    );
    expect(await (await h.forge(ADMIN)).reviews(mobilenetPull)).toEqual([]);
    const r = await h.run(['association', 'approve', '-b', 'chestxray', '-m', MOBILENET], { as: COMMITTEE });
    expect(r.err).toBe('');
    expect(r.out).toBe(`Approved pull request #${mobilenetPull} (model ${MOBILENET} with chestxray) as bench-committee.\nMerged: the association is approved.\n`);
    expect((await (await h.forge(ADMIN)).getPull(mobilenetPull)).state).toBe('merged');
    const again = await h.run(['association', 'approve', '-b', 'chestxray', '-m', MOBILENET], { as: COMMITTEE });
    expect(again.err).toBe(`error (already-approved): the model ${MOBILENET} is already approved for chestxray; nothing to review\n`);
  });

  it('reject requests changes with the reason and closes the pull request: a rejected association', async () => {
    const r = await h.run(['association', 'reject', '-b', 'chestxray', '-m', OTHER_MODEL, '--reason', 'a copy of an approved model'], { as: COMMITTEE });
    expect(r.out).toBe(`Rejected: requested changes on pull request #${otherPull} (model ${OTHER_MODEL} with chestxray) and closed it.\n`);
    const forge = await h.forge(ADMIN);
    expect((await forge.getPull(otherPull)).state).toBe('closed');
    expect((await forge.reviews(otherPull)).map((x) => [x.login, x.state, x.body])).toEqual([
      [COMMITTEE, 'CHANGES_REQUESTED', 'Rejected by bench-committee for the committee of chestxray: a copy of an approved model'],
    ]);
    const ls = await h.run(['association', 'ls', '-b', 'chestxray']);
    expect(ls.out).toContain(`chestxray  model  other-owner/chestxray-mobilenet  rejected (#${otherPull})`);
    expect(ls.out).toContain('chestxray  model  model-owner/chestxray-mobilenet  approved       0         model-owner');
    const late = await h.run(['association', 'approve', '-b', 'chestxray', '-m', OTHER_MODEL], { as: COMMITTEE });
    expect(late.err).toBe(
      `error (already-rejected): the association of the model ${OTHER_MODEL} with chestxray was rejected (pull request #${otherPull} is closed); the owner may ask again\n`,
    );
  });

  it('set-priority: the committee changes the order models run in, merged at once', async () => {
    const outsider = await h.run(['association', 'set-priority', '-b', 'chestxray', '-m', MOBILENET, '--priority=-1'], { as: MODEL_OWNER });
    expect(outsider.err).toContain('error (not-committee): model-owner is not on the committee of the benchmark chestxray');
    const r = await h.run(['association', 'set-priority', '-b', 'chestxray', '-m', MOBILENET, '--priority=-1'], { as: COMMITTEE });
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^Pull request #\d+ sets the priority of model-owner\/chestxray-mobilenet in chestxray from 0 to -1\.\nMerged: the new priority is in effect\.\n$/);
    const main = await (await h.forge(ADMIN)).main();
    const record = load((await main.read(`benchmarks/chestxray/models/${MOBILENET}.yaml`))!.toString()) as { priority: number; initiated_by: string };
    expect(record).toMatchObject({ priority: -1, initiated_by: MODEL_OWNER });
    const same = await h.run(['association', 'set_priority', '-b', 'chestxray', '-m', MOBILENET, '--priority=-1'], { as: COMMITTEE });
    expect(same.out).toBe(`${MOBILENET} already has priority -1 in chestxray; nothing to do.\n`);
    const none = await h.run(['association', 'set-priority', '-b', 'chestxray', '-m', OTHER_MODEL, '-p', '2'], { as: COMMITTEE });
    expect(none.err).toBe(`error (not-found): ${OTHER_MODEL} is not associated with chestxray; see \`medperf-git association ls -b chestxray\`\n`);
  });

  it('benchmark view shows the benchmark and where each association stands', async () => {
    const r = await h.run(['benchmark', 'view', 'chestxray']);
    expect(r.out).toContain('benchmark:        chestxray\nname:             Chest X-ray classification\n');
    expect(r.out).toContain('committee:        bench-committee\n');
    expect(r.out).toContain('results:          aggregate, ranked on AUC.mean (higher is better)\n');
    expect(r.out).toContain(
      [
        'KIND   ASSOCIATED                       STATUS         PRIORITY',
        'model  bench-committee/chestxray-cnn    approved       0',
        'model  model-owner/chestxray-mobilenet  approved       -1',
        `model  other-owner/chestxray-mobilenet  rejected (#${otherPull})`,
      ].join('\n'),
    );
    const json = JSON.parse((await h.run(['benchmark', 'view', 'chestxray', '--json'])).out);
    expect(json).toMatchObject({ benchmark: 'chestxray', committee: [COMMITTEE], reference_model: 'bench-committee/chestxray-cnn' });
    const mine = await h.run(['benchmark', 'ls', '--mine'], { as: MODEL_OWNER });
    expect(mine.out).toBe('You sit on no benchmark committee here, and proposed none.\n');
    const view = await h.run(['mlcube', 'view', MOBILENET]);
    expect(view.out).toMatch(/\nBENCHMARK  PRIORITY\nchestxray  -1\n$/);
    expect(view.out).toContain(`image digest:     ${digest('d')}\n`);
  });

  it('association ls -d shows a dataset association pending in its pull request', async () => {
    const dataOwner = await h.forge('data-owner');
    const { pull } = await dataOwner.propose({
      key: 'association/chestxray/dataset/data-owner/hospital-a',
      title: 'Associate dataset data-owner/hospital-a with benchmark chestxray',
      body: '',
      files: [{ path: 'benchmarks/chestxray/datasets/data-owner/hospital-a.yaml', content: 'initiated_by: data-owner\n' }],
    });
    const r = await h.run(['association', 'ls', '-d', 'data-owner/hospital-a']);
    expect(r.out).toBe(
      [
        'BENCHMARK  KIND     ASSOCIATED             STATUS         PRIORITY  INITIATED BY',
        `chestxray  dataset  data-owner/hospital-a  pending (#${pull.number})            data-owner`,
        '',
      ].join('\n'),
    );
    expect((await h.run(['association', 'ls', '-m', 'data-owner/hospital-a'])).out).toBe('No associations.\n');
  });

  it("a committee member's own association needs no review: approve merges it", async () => {
    await registerCube(h, COMMITTEE, 'chestxray-mobilenet', 'f');
    const number = await associate(COMMITTEE, `${COMMITTEE}/chestxray-mobilenet`);
    const r = await h.run(['association', 'approve', '-b', 'chestxray', '-m', `${COMMITTEE}/chestxray-mobilenet`], { as: COMMITTEE });
    expect(r.err).toBe('');
    expect(r.out).toBe(
      `Pull request #${number} (model ${COMMITTEE}/chestxray-mobilenet with chestxray) is your own: it needs no review from you.\nMerged: the association is approved.\n`,
    );
    expect(await (await h.forge(ADMIN)).reviews(number)).toEqual([]);
  });

  it('benchmark run is the data owner\'s run under MedPerf\'s name', async () => {
    const args = ['-b', 'chestxray', '-d', 'hospital-z', '--runner', 'process', '--yes'];
    const alias = await h.run(['benchmark', 'run', ...args], { as: 'data-owner' });
    const run = await h.run(['run', ...args], { as: 'data-owner' });
    expect(alias.code).toBe(1);
    expect(alias.err).not.toBe('');
    expect(alias).toEqual(run);
  });
});
