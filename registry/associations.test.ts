import { describe, expect, it } from 'vitest';
import type { PullRequest } from './forge/forge.ts';
import { associationStates, associationTarget, latestPull, pullToReview, requireCommittee } from './associations.ts';
import { benchmark, P, tutorialRegistry, view } from '../testing/records.ts';

const pull = (number: number, state: PullRequest['state'], paths: string[], author = 'eve'): PullRequest => ({
  number,
  title: `#${number}`,
  body: '',
  author,
  state,
  branch: `medperf/${number}`,
  headSha: '0'.repeat(40),
  paths,
  url: `https://example.org/pull/${number}`,
  createdAt: '2026-11-20T10:00:00Z',
  updatedAt: '2026-11-20T10:00:00Z',
});

const EVE = 'benchmarks/chestxray/models/eve/net.yaml';
const FRED = 'benchmarks/chestxray/datasets/fred/scans.yaml';

describe('association states', () => {
  it('reads approved ones off main, pending ones off open pull requests and rejected ones off closed ones', async () => {
    const pulls = [pull(3, 'closed', [EVE]), pull(4, 'open', [FRED], 'fred'), pull(5, 'merged', [P.modelAssociation]), pull(6, 'closed', [P.modelAssociation])];
    const states = await associationStates(view(tutorialRegistry()), pulls);
    expect(states.map((s) => [s.kind, s.entity, s.status, s.pull?.number])).toEqual([
      ['dataset', 'dora/xrays', 'approved', undefined],
      ['dataset', 'fred/scans', 'pending', 4],
      ['model', 'bob/resnet', 'approved', undefined],
      ['model', 'eve/net', 'rejected', 3],
    ]);
    expect(states.find((s) => s.entity === 'bob/resnet')).toMatchObject({ initiatedBy: 'bob', priority: 0, metrics: { AUC: 0.81 } });
    expect(states.find((s) => s.entity === 'fred/scans')).toMatchObject({ initiatedBy: 'fred' });
  });

  it('lets an open pull request win over a closed one, whichever came first', async () => {
    for (const pulls of [[pull(3, 'open', [EVE]), pull(4, 'closed', [EVE])], [pull(3, 'closed', [EVE]), pull(4, 'open', [EVE])]]) {
      const [eve] = await associationStates(view(tutorialRegistry()), pulls, { model: 'eve/net' });
      expect(eve).toMatchObject({ status: 'pending', pull: { number: pulls.find((p) => p.state === 'open')!.number } });
    }
  });

  it('filters by benchmark, model or dataset', async () => {
    const pulls = [pull(4, 'open', [FRED, 'benchmarks/other/datasets/fred/scans.yaml'])];
    const main = view(tutorialRegistry());
    expect((await associationStates(main, pulls, { dataset: 'fred/scans' })).map((s) => s.benchmark)).toEqual(['chestxray', 'other']);
    expect((await associationStates(main, pulls, { benchmark: 'other' })).map((s) => s.entity)).toEqual(['fred/scans']);
    expect((await associationStates(main, pulls, { model: 'fred/scans' }))).toEqual([]);
  });
});

describe('the pull request a review acts on', () => {
  const target = associationTarget('chestxray', 'eve/net');

  it('is the latest open one', () => {
    expect(pullToReview(target, 'chestxray', [pull(2, 'open', [EVE]), pull(5, 'open', [EVE]), pull(7, 'closed', [EVE])], false).number).toBe(5);
    expect(latestPull([pull(2, 'merged', [EVE]), pull(3, 'closed', [EVE])])?.number).toBe(3);
    expect(latestPull([])).toBeUndefined();
  });

  it('says where the association stands when none is open', () => {
    expect(() => pullToReview(target, 'chestxray', [pull(2, 'merged', [EVE])], true)).toThrow('the model eve/net is already approved for chestxray; nothing to review');
    expect(() => pullToReview(target, 'chestxray', [pull(2, 'closed', [EVE])], false)).toThrow('the association of the model eve/net with chestxray was rejected (pull request #2 is closed); the owner may ask again');
    expect(() => pullToReview(target, 'chestxray', [], false)).toThrow('no pending association of the model eve/net with chestxray; see `medperf-git association ls -b chestxray`');
  });

  it('is named with either a model or a dataset, as owner/name', () => {
    expect(associationTarget('chestxray', undefined, 'fred/scans')).toEqual({ path: FRED, kind: 'dataset', entity: 'fred/scans' });
    for (const [m, d] of [[undefined, undefined], ['eve/net', 'fred/scans']] as const) {
      expect(() => associationTarget('chestxray', m, d)).toThrow('name either a model (-m OWNER/CUBE) or a dataset (-d OWNER/NAME)');
    }
    for (const bad of ['net', 'eve/net/x', '/net']) expect(() => associationTarget('chestxray', bad)).toThrow(`${bad}: an id is <owner>/<name>`);
  });
});

describe('who may approve', () => {
  it('is the benchmark committee, and no one else', () => {
    expect(() => requireCommittee('carol', 'chestxray', benchmark(), 'approve its associations')).not.toThrow();
    for (const login of ['eve', 'Carol', 'admin1', '']) {
      expect(() => requireCommittee(login, 'chestxray', benchmark(), 'approve its associations')).toThrow(
        `${login} is not on the committee of the benchmark chestxray (bench-committee, carol); only the committee can approve its associations`,
      );
    }
  });
});
