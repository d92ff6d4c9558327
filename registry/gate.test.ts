import { describe, expect, it } from 'vitest';
import { evaluateGate, formatGateDecision, type GateDecision, type Review } from './gate.ts';
import { rule as resultPreconditions } from './rules/result-preconditions.ts';
import { formatFinding } from './findings.ts';
import {
  P,
  benchmark,
  changeContext,
  cube,
  dataset,
  datasetAssociation,
  modelAssociation,
  registryConfig,
  tutorialRegistry,
  view,
  without,
  yaml,
  type Files,
} from '../testing/records.ts';

const at = (minute: number) => `2026-11-23T10:${String(minute).padStart(2, '0')}:00Z`;
const review = (login: string, state: Review['state'], minute = 0): Review => ({ login, state, submittedAt: at(minute) });

async function gate(base: Files, head: Files, author: string, reviews: Review[] = []): Promise<GateDecision> {
  const changed = [...new Set([...Object.keys(base), ...Object.keys(head)])].filter((p) => base[p] !== head[p]).sort();
  return evaluateGate({ base: view(base), head: view(head), changed, author, reviews });
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
        reason: 'the dataset dora/xrays asks to join lungs',
        paths: ['benchmarks/lungs/datasets/dora/xrays.yaml'],
        approvers: ['lena'],
        approvedBy: [],
        met: false,
      },
    ]);
    expect(decision.satisfied).toBe(false);
    expect(decision.summary).toBe('needs approval from a committee member of lungs (lena)');
    expect(formatGateDecision(decision)).toEqual([
      'approval gate: waiting — needs approval from a committee member of lungs (lena)',
      '  ✓ the model erin/unet asks to join chestxray: approved by carol',
      `      ${NEW_MODEL}`,
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
