import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { autoApprovedBy, evaluateGate, formatGateDecision, type GateDecision, type Review } from './gate.ts';
import { rule as resultPreconditions } from './rules/result-preconditions.ts';
import { formatFinding } from './findings.ts';
import {
  P,
  benchmark,
  changeContext,
  cube,
  dataset,
  datasetAssociation,
  examplePerson,
  modelAssociation,
  registryConfig,
  tutorialRegistry,
  view,
  without,
  yaml,
  type Files,
} from '../testing/records.ts';

const at = (minute: number) => `2026-11-23T10:${String(minute).padStart(2, '0')}:00Z`;
const HEAD_SHA = 'c0ffee'.padEnd(40, '0');
const review = (login: string, state: Review['state'], minute = 0, commitId = HEAD_SHA): Review => ({ login, state, submittedAt: at(minute), commitId });

async function gate(base: Files, head: Files, author: string, reviews: Review[] = [], headSha = HEAD_SHA): Promise<GateDecision> {
  const changed = [...new Set([...Object.keys(base), ...Object.keys(head)])].filter((p) => base[p] !== head[p]).sort();
  return evaluateGate({ base: view(base), head: view(head), changed, author, reviews, headSha });
}

const MAIN = tutorialRegistry();
const LUNGS = 'benchmarks/lungs/benchmark.yaml';
const NEW_MODEL = 'benchmarks/chestxray/models/erin/unet.yaml';
const withNewModel = (files: Files = MAIN): Files => ({
  ...files,
  'mlcubes/erin/unet.yaml': yaml(cube('model')),
  [NEW_MODEL]: yaml(modelAssociation({ initiated_by: 'erin' })),
});

describe('approval gate', () => {
  it("a person's keys need no human approval: only their login may publish them (the ownership rule)", async () => {
    const head = { ...MAIN, 'people/erin.yaml': yaml(examplePerson('erin')) };
    const decision = await gate(MAIN, head, 'erin');
    expect(decision).toMatchObject({ satisfied: true, requirements: [], autoMergeable: true, summary: 'no human approval needed' });
  });

  it('a benchmark submitted by anyone needs an admin', async () => {
    const head = { ...MAIN, [LUNGS]: yaml(benchmark({ committee: ['frank'] })) };
    const waiting = await gate(MAIN, head, 'frank');
    expect(waiting).toEqual({
      satisfied: false,
      requirements: [
        { reason: 'the benchmark lungs is new', paths: [LUNGS], approvers: ['admin1', 'admin2'], approvedBy: [], met: false },
      ],
      autoMergeable: false,
      summary: 'needs approval from a registry admin (admin1, admin2)',
    });
    const approved = await gate(MAIN, head, 'frank', [review('admin2', 'APPROVED')]);
    expect(approved.satisfied).toBe(true);
    expect(approved.autoMergeable).toBe(false);
    expect(approved.summary).toBe('approved: the benchmark lungs is new, approved by admin2');
  });

  it("a benchmark submitted by an admin needs another admin: the author's approval does not count", async () => {
    const head = { ...MAIN, [LUNGS]: yaml(benchmark()) };
    const own = await gate(MAIN, head, 'admin1', [review('admin1', 'APPROVED')]);
    expect(own.satisfied).toBe(false);
    expect(own.requirements[0]!.approvers).toEqual(['admin2']);
    expect(own.summary).toBe('needs approval from another registry admin (admin2)');
    expect((await gate(MAIN, head, 'admin1', [review('admin2', 'APPROVED')])).satisfied).toBe(true);
  });

  it("a committee member's own association needs no one, as MedPerf approves a benchmark owner's own models", async () => {
    const head = { ...MAIN, 'mlcubes/carol/second.yaml': yaml(cube('model')), 'benchmarks/chestxray/models/carol/second.yaml': yaml(modelAssociation({ initiated_by: 'carol' })) };
    expect(await gate(MAIN, head, 'carol')).toEqual({
      satisfied: true,
      requirements: [],
      autoMergeable: true,
      summary: 'no human approval needed; the model carol/second belongs to the committee of chestxray',
    });
  });

  it("a new benchmark's own associations are approved with it, by an admin", async () => {
    const lungs = 'benchmarks/lungs/models/carol/chestxray-ref.yaml';
    const head = { ...MAIN, [LUNGS]: yaml(benchmark({ committee: ['carol'] })), [lungs]: yaml(modelAssociation({ initiated_by: 'carol' })) };
    expect((await gate(MAIN, head, 'carol')).requirements).toEqual([
      { reason: 'the benchmark lungs is new', paths: [LUNGS, lungs], approvers: ['admin1', 'admin2'], approvedBy: [], met: false },
    ]);
  });

  it('an association waits for a committee member unless the policy approves it automatically', async () => {
    const waiting = await gate(MAIN, withNewModel(), 'erin');
    expect(waiting.requirements).toEqual([
      {
        reason: 'the model erin/unet asks to join chestxray',
        paths: [NEW_MODEL],
        approvers: ['bench-committee', 'carol'],
        approvedBy: [],
        met: false,
      },
    ]);
    expect(waiting.summary).toBe('needs approval from a committee member of chestxray (bench-committee, carol)');

    const always = { ...MAIN, [P.benchmark]: yaml(benchmark({ model_auto_approval: { mode: 'always' } })) };
    const auto = await gate(always, withNewModel(always), 'erin');
    expect(auto).toEqual({
      satisfied: true,
      requirements: [],
      autoMergeable: true,
      summary: 'no human approval needed; the model erin/unet is approved for chestxray by its model policy (always)',
    });
  });

  it("the registry's default policy applies when the benchmark sets none", async () => {
    const defaults = { ...MAIN, [P.registry]: yaml(registryConfig({ defaults: { model_auto_approval: { mode: 'always' } } })) };
    expect((await gate(defaults, withNewModel(defaults), 'erin')).autoMergeable).toBe(true);
  });

  it('an allowlist approves the associations of listed owners only', async () => {
    const listed = { ...MAIN, [P.benchmark]: yaml(benchmark({ model_auto_approval: { mode: 'allowlist', allowlist: ['erin'] } })) };
    const erin = await gate(listed, withNewModel(listed), 'erin');
    expect(erin.autoMergeable).toBe(true);
    expect(erin.summary).toBe(
      'no human approval needed; the model erin/unet is approved for chestxray by its model policy (allowlist, which lists erin)',
    );
    const other = { ...listed, [P.benchmark]: yaml(benchmark({ model_auto_approval: { mode: 'allowlist', allowlist: ['bob'] } })) };
    const unlisted = await gate(other, withNewModel(other), 'erin');
    expect(unlisted.satisfied).toBe(false);
    expect(unlisted.summary).toBe('needs approval from a committee member of chestxray (bench-committee, carol)');
  });

  it('the latest review of each login counts: approving then requesting changes is not approved', async () => {
    const head = withNewModel();
    const withdrawn = await gate(MAIN, head, 'erin', [review('carol', 'APPROVED', 1), review('carol', 'CHANGES_REQUESTED', 2)]);
    expect(withdrawn.satisfied).toBe(false);
    // Order of the list does not matter, the time does; a later comment does not withdraw an approval.
    const changedMind = await gate(MAIN, head, 'erin', [
      review('carol', 'APPROVED', 3),
      review('carol', 'CHANGES_REQUESTED', 2),
      review('carol', 'COMMENTED', 4),
    ]);
    expect(changedMind.satisfied).toBe(true);
    expect(changedMind.requirements[0]!.approvedBy).toEqual(['carol']);
    const dismissed = await gate(MAIN, head, 'erin', [review('Carol', 'APPROVED', 1), review('carol', 'DISMISSED', 2)]);
    expect(dismissed.satisfied).toBe(false);
    const outsider = await gate(MAIN, head, 'erin', [review('mallory', 'APPROVED', 1)]);
    expect(outsider.satisfied).toBe(false);
    // The author's own approval never counts, whoever they are.
    const self = await gate(MAIN, head, 'erin', [review('erin', 'APPROVED', 1)]);
    expect(self.satisfied).toBe(false);
  });

  it('a result needs no human approval; without approved associations the result-preconditions rule fails it', async () => {
    const main = without(MAIN, P.result, P.modelAssociation);
    const head = without(MAIN, P.modelAssociation);
    const decision = await gate(main, head, 'dora');
    expect(decision).toEqual({ satisfied: true, requirements: [], autoMergeable: true, summary: 'no human approval needed' });
    const findings = await resultPreconditions.check(changeContext(main, head, 'dora'));
    expect(findings.map(formatFinding)).toEqual([
      `${P.result}:3:1 result-preconditions the model bob/resnet is not associated with chestxray: its owner runs \`medperf-git mlcube associate -b chestxray -m bob/resnet\`, then ask the committee of chestxray (bench-committee, carol) to approve the association`,
    ]);
  });

  it('a change touching two owners\' records needs the union of their approvals', async () => {
    const lungs = { ...MAIN, [LUNGS]: yaml(benchmark({ committee: ['lena'] })) };
    const head = {
      ...withNewModel(lungs),
      'benchmarks/lungs/datasets/dora/xrays.yaml': yaml(datasetAssociation()),
      [P.dataset]: yaml(dataset({ description: 'updated' })),
    };
    const decision = await gate(lungs, head, 'erin', [review('carol', 'APPROVED', 1)]);
    expect(decision.requirements).toEqual([
      {
        reason: 'the model erin/unet asks to join chestxray',
        paths: [NEW_MODEL],
        approvers: ['bench-committee', 'carol'],
        approvedBy: ['carol'],
        met: true,
      },
      {
        reason: 'erin asks for the dataset dora/xrays to join lungs, but only its owner (dora) may ask',
        paths: ['benchmarks/lungs/datasets/dora/xrays.yaml'],
        approvers: ['dora'],
        approvedBy: [],
        met: false,
      },
      {
        reason: 'the dataset dora/xrays asks to join lungs',
        paths: ['benchmarks/lungs/datasets/dora/xrays.yaml'],
        approvers: ['lena'],
        approvedBy: [],
        met: false,
      },
    ]);
    expect(decision.satisfied).toBe(false);
    expect(decision.summary).toBe('needs approval from an owner of dora/xrays (dora) and from a committee member of lungs (lena)');
    expect(formatGateDecision(decision)).toEqual([
      'approval gate: waiting — needs approval from an owner of dora/xrays (dora) and from a committee member of lungs (lena)',
      '  ✓ the model erin/unet asks to join chestxray: approved by carol',
      `      ${NEW_MODEL}`,
      '  ✗ erin asks for the dataset dora/xrays to join lungs, but only its owner (dora) may ask: waiting for one of dora',
      '      benchmarks/lungs/datasets/dora/xrays.yaml',
      '  ✗ the dataset dora/xrays asks to join lungs: waiting for one of lena',
      '      benchmarks/lungs/datasets/dora/xrays.yaml',
    ]);
  });

  it("a committee member changes a model's priority without anyone's approval; its owner cannot", async () => {
    const head = { ...MAIN, [P.modelAssociation]: yaml(modelAssociation({ priority: 5 })) };
    const byCommittee = await gate(MAIN, head, 'carol');
    expect(byCommittee).toEqual({ satisfied: true, requirements: [], autoMergeable: true, summary: 'no human approval needed' });
    const byOwner = await gate(MAIN, head, 'bob');
    expect(byOwner.summary).toBe('needs approval from a committee member of chestxray (bench-committee, carol)');
    expect(byOwner.requirements[0]!.reason).toBe('the priority of the model bob/resnet in chestxray changes');
  });

  it('registry.yaml and the registry workflows need another admin; owners edit their cubes freely', async () => {
    const head = {
      ...MAIN,
      [P.registry]: yaml(registryConfig({ admins: ['admin1', 'admin2', 'admin3'] })),
      '.github/workflows/validate.yml': 'on: pull_request\n',
    };
    const decision = await gate(MAIN, head, 'admin1');
    expect(decision.summary).toBe('needs approval from another registry admin (admin2)');
    expect(decision.requirements.map((r) => r.reason)).toEqual(["the registry's own files change", 'registry.yaml changes']);
    const cubeEdit = await gate(MAIN, { ...MAIN, [P.model]: yaml({ ...cube('model', 'operational', 'f'), description: 'x' }) }, 'bob');
    expect(cubeEdit.autoMergeable).toBe(true);
    expect(formatGateDecision(cubeEdit)).toEqual([
      'approval gate: satisfied — no human approval needed',
      '  no human approval is needed: the change merges once validation passes',
    ]);
  });

  it("a registry's first change needs no one: there is no admin yet to ask", async () => {
    const first = { [P.registry]: yaml(registryConfig()), '.github/workflows/validate.yml': 'on: pull_request\n' };
    expect((await gate({}, first, 'founder')).autoMergeable).toBe(true);
  });
});

describe('approval gate: a review approves the commit it was given on', () => {
  const EARLIER = 'ba5e'.padEnd(40, '1');
  it('an approval of an earlier commit does not count after a new push, and the message says to ask again', async () => {
    const head = withNewModel();
    const stale = await gate(MAIN, head, 'erin', [review('carol', 'APPROVED', 1, EARLIER)]);
    expect(stale.satisfied).toBe(false);
    expect(stale.requirements).toEqual([
      {
        reason: 'the model erin/unet asks to join chestxray',
        paths: [NEW_MODEL],
        approvers: ['bench-committee', 'carol'],
        approvedBy: [],
        met: false,
        staleApprovals: ['carol'],
      },
    ]);
    expect(stale.summary).toBe(
      'needs approval from a committee member of chestxray (bench-committee, carol); carol approved an earlier commit, and an approval counts only for the commit it was given on: ask for a review of the latest commit',
    );
    expect(formatGateDecision(stale)[1]).toBe(
      '  ✗ the model erin/unet asks to join chestxray: waiting for one of bench-committee, carol (carol approved an earlier commit; the latest needs a new review)',
    );
    // Approving the new head counts again.
    const again = await gate(MAIN, head, 'erin', [review('carol', 'APPROVED', 1, EARLIER), review('carol', 'APPROVED', 2)]);
    expect(again.satisfied).toBe(true);
  });

  it('counts no review without a commit, without a head, or of another commit (several variants)', async () => {
    const head = withNewModel();
    const variants: Array<{ reviews: Review[]; headSha?: string }> = [
      { reviews: [{ login: 'carol', state: 'APPROVED', submittedAt: at(1) }] },
      { reviews: [review('carol', 'APPROVED', 1)], headSha: undefined },
      { reviews: [review('carol', 'APPROVED', 1, HEAD_SHA.slice(0, 12))] },
      { reviews: [review('carol', 'APPROVED', 1, '')] },
      // A later approval of an old commit replaces an earlier approval of the head.
      { reviews: [review('carol', 'APPROVED', 1), review('carol', 'APPROVED', 2, EARLIER)] },
      { reviews: [review('carol', 'APPROVED', 1, EARLIER), review('bench-committee', 'APPROVED', 2, EARLIER)] },
    ];
    for (const v of variants) {
      const changed = [NEW_MODEL, 'mlcubes/erin/unet.yaml'];
      const d = await evaluateGate({ base: view(MAIN), head: view(head), changed, author: 'erin', reviews: v.reviews, ...('headSha' in v ? { headSha: v.headSha } : { headSha: HEAD_SHA }) });
      expect(d.satisfied, JSON.stringify(v)).toBe(false);
    }
  });

  it('fast-check: whatever the reviews, only an approval of the head by an approver who is not the author satisfies the gate', async () => {
    const head = withNewModel();
    const logins = ['carol', 'bench-committee', 'erin', 'mallory', 'Carol'];
    const commits = [HEAD_SHA, EARLIER, undefined];
    const states: Review['state'][] = ['APPROVED', 'CHANGES_REQUESTED', 'COMMENTED', 'DISMISSED'];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ login: fc.constantFrom(...logins), state: fc.constantFrom(...states), minute: fc.nat(59), commit: fc.constantFrom(...commits) }), { maxLength: 8 }),
        async (list) => {
          const reviews = list.map((r) => ({ login: r.login, state: r.state, submittedAt: at(r.minute), ...(r.commit ? { commitId: r.commit } : {}) }));
          const d = await gate(MAIN, head, 'erin', reviews);
          // The expected answer, computed the plain way: each login's latest non-comment review.
          const latest = new Map<string, { minute: number; i: number; state: string; commit?: string }>();
          list.forEach((r, i) => {
            if (r.state === 'COMMENTED' || r.login.toLowerCase() === 'erin') return;
            const k = r.login.toLowerCase();
            const p = latest.get(k);
            if (!p || r.minute > p.minute || (r.minute === p.minute && i > p.i)) latest.set(k, { minute: r.minute, i, state: r.state, commit: r.commit });
          });
          const ok = ['carol', 'bench-committee'].some((l) => latest.get(l)?.state === 'APPROVED' && latest.get(l)?.commit === HEAD_SHA);
          expect(d.satisfied).toBe(ok);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('approval gate: fails closed when the base cannot be read', () => {
  const outsider = (base: Files) => ({ ...base, '.github/workflows/x.yml': 'on: push\n', CODEOWNERS: '* @mallory\n' });
  const brokenConfigs: Array<[string, string]> = [
    ['fails its schema', yaml({ title: 'x', admins: 'admin1' })],
    ['has an unknown field', yaml({ ...registryConfig(), owner: 'mallory' })],
    ['is not YAML', 'title: [unclosed\n'],
    ['is empty', ''],
  ];
  for (const [what, bytes] of brokenConfigs) {
    it(`a registry.yaml on main that ${what}: an outsider's workflow and CODEOWNERS need an admin no one can be`, async () => {
      const main = { ...MAIN, [P.registry]: bytes };
      const d = await gate(main, outsider(main), 'mallory', [review('admin1', 'APPROVED', 1)]);
      expect(d.satisfied).toBe(false);
      expect(d.autoMergeable).toBe(false);
      expect(d.requirements).toEqual([
        {
          reason: 'the registry configuration on the base does not load',
          paths: ['.github/workflows/x.yml', 'CODEOWNERS'],
          approvers: [],
          approvedBy: [],
          met: false,
        },
      ]);
      expect(d.summary).toBe(
        'needs approval from a registry admin, but registry.yaml on the base does not load, so its admins cannot be read: fix registry.yaml on main first (`medperf-git validate` says what is wrong)',
      );
    });
  }

  it('every kind of change waits, a result or a cube edit too, and registry.yaml removed from a non-empty main', async () => {
    const main = { ...MAIN, [P.registry]: 'admins: 3\n' };
    const cubeEdit = { ...main, [P.model]: yaml({ ...cube('model', 'operational', 'f'), description: 'x' }) };
    expect((await gate(main, cubeEdit, 'bob')).satisfied).toBe(false);
    const noConfig = without(MAIN, P.registry);
    const d = await gate(noConfig, outsider(noConfig), 'mallory');
    expect(d.satisfied).toBe(false);
    expect(d.summary).toBe(
      'needs approval from a registry admin, but the base has records but no registry.yaml, so its admins cannot be read: restore registry.yaml on main first',
    );
  });

  it("a benchmark.yaml on main that does not load: an association needs an admin, never the change's own committee", async () => {
    const main = { ...MAIN, [P.benchmark]: yaml({ ...benchmark(), committee: 'carol' }) };
    const head = withNewModel(main);
    const d = await gate(main, head, 'erin', [review('carol', 'APPROVED', 1)]);
    expect(d.requirements).toEqual([
      {
        reason: `${P.benchmark} on the base does not load, so its committee and policy cannot be read`,
        paths: [NEW_MODEL],
        approvers: ['admin1', 'admin2'],
        approvedBy: [],
        met: false,
      },
    ]);
    // A head that "fixes" the benchmark with a policy approving everything changes nothing.
    const sneaky = { ...head, [P.benchmark]: yaml(benchmark({ model_auto_approval: { mode: 'always' } })) };
    expect((await gate(main, sneaky, 'erin')).satisfied).toBe(false);
  });
});

describe('approval gate: consent of the cube or dataset owner', () => {
  const committeeAdds = (files: Files, over: Partial<ReturnType<typeof benchmark>> = {}) => ({
    ...files,
    [P.benchmark]: yaml(benchmark(over)),
  });
  it("a committee member's association of someone else's cube waits for the owner, whatever the policy says", async () => {
    const policies = [undefined, { mode: 'always' as const }, { mode: 'allowlist' as const, allowlist: ['erin'] }, { mode: 'never' as const }];
    for (const policy of policies) {
      const main = committeeAdds(withNewModel(), policy ? { model_auto_approval: policy } : {});
      const base = without(main, NEW_MODEL);
      const head = { ...base, [NEW_MODEL]: yaml(modelAssociation({ initiated_by: 'carol' })) };
      const d = await gate(base, head, 'carol');
      expect(d.satisfied, JSON.stringify(policy)).toBe(false);
      expect(d.requirements[0]).toEqual({
        reason: 'carol asks for the model erin/unet to join chestxray, but only its owner (erin) may ask',
        paths: [NEW_MODEL],
        approvers: ['erin'],
        approvedBy: [],
        met: false,
      });
      // The owner's approval of that commit is their consent.
      const consented = await gate(base, head, 'carol', [review('erin', 'APPROVED', 1), review('bench-committee', 'APPROVED', 2)]);
      expect(consented.satisfied, JSON.stringify(policy)).toBe(true);
    }
  });

  it("owners listed on the base record consent for the cube; a list the change adds does not", async () => {
    const base = { ...MAIN, 'mlcubes/erin/unet.yaml': yaml({ ...cube('model'), owners: ['frank'] }) };
    const head = { ...base, [NEW_MODEL]: yaml(modelAssociation({ initiated_by: 'frank' })) };
    expect((await gate(base, head, 'frank')).requirements.map((r) => r.reason)).toEqual(['the model erin/unet asks to join chestxray']);
    const noList = { ...MAIN, 'mlcubes/erin/unet.yaml': yaml(cube('model')) };
    const claims = { ...noList, 'mlcubes/erin/unet.yaml': yaml({ ...cube('model'), owners: ['frank'] }), [NEW_MODEL]: yaml(modelAssociation({ initiated_by: 'frank' })) };
    expect((await gate(noList, claims, 'frank')).summary).toBe(
      'needs approval from an owner of erin/unet (erin) and from a committee member of chestxray (bench-committee, carol)',
    );
  });

  it("a dataset association by anyone but the data owner waits for them; a priority set by the committee does not", async () => {
    const base = without(MAIN, P.result, P.datasetAssociation);
    const head = { ...base, [P.datasetAssociation]: yaml(datasetAssociation({ initiated_by: 'carol' })) };
    expect((await gate(base, head, 'carol')).summary).toBe(
      'needs approval from an owner of dora/xrays (dora) and from another committee member of chestxray (bench-committee)',
    );
    expect((await gate(base, head, 'carol', [review('bench-committee', 'APPROVED', 1)])).satisfied).toBe(false);
    expect((await gate(base, head, 'carol', [review('dora', 'APPROVED', 1), review('bench-committee', 'APPROVED', 1)])).satisfied).toBe(true);
    expect((await gate(MAIN, { ...MAIN, [P.modelAssociation]: yaml(modelAssociation({ priority: 7 })) }, 'carol')).satisfied).toBe(true);
  });
});

describe('auto-approval, as the gate and `dataset associate` read it', () => {
  it("takes the benchmark's policy, or the registry's default when the benchmark sets none", () => {
    const defaults = registryConfig({ defaults: { dataset_auto_approval: { mode: 'always' }, model_auto_approval: { mode: 'never' } } });
    expect(autoApprovedBy('dataset', 'dora', benchmark(), defaults)).toBe('always');
    expect(autoApprovedBy('model', 'dora', benchmark(), defaults)).toBeUndefined();
    expect(autoApprovedBy('dataset', 'dora', benchmark(), undefined)).toBeUndefined();
    expect(autoApprovedBy('dataset', 'dora', benchmark({ dataset_auto_approval: { mode: 'never' } }), defaults)).toBeUndefined();
    const allow = benchmark({ dataset_auto_approval: { mode: 'allowlist', allowlist: ['Dora'] } });
    expect(autoApprovedBy('dataset', 'dora', allow, undefined)).toBe('allowlist, which lists dora');
    for (const owner of ['eve', 'dor', 'dora2']) expect(autoApprovedBy('dataset', owner, allow, defaults)).toBeUndefined();
  });
});
