import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, approvedChestxray, COMMITTEE, createHarness, type Harness, MODEL_OWNER } from '../../../testing/registry-harness.ts';

const PATH = 'benchmarks/chestxray/benchmark.yaml';
const REFERENCE_ASSOCIATION = 'benchmarks/chestxray/models/bench-committee/chestxray-cnn.yaml';

let h: Harness;
let declared: { metric_names: string[]; statistics_names: string[] };

async function mainBenchmark(): Promise<Record<string, unknown>> {
  const admin = await h.forge(ADMIN);
  try {
    return parse((await (await admin.main()).read(PATH))!.toString()) as Record<string, unknown>;
  } finally {
    await admin.dispose();
  }
}

/** The benchmark as a registry holds it from before the declaration: put on main directly. */
async function withoutDeclaration(): Promise<void> {
  const record = await mainBenchmark();
  delete record.metric_names;
  delete record.statistics_names;
  const admin = await h.forge(ADMIN);
  const { stringify } = await import('yaml');
  await admin.commitToMain([{ path: PATH, content: stringify(record) }], 'A benchmark from before the declaration');
  await admin.dispose();
}

beforeAll(async () => {
  h = await createHarness();
  await approvedChestxray(h);
  declared = (await mainBenchmark()) as typeof declared;
});
afterAll(async () => {
  await h.cleanup();
});

describe('benchmark submit', () => {
  it("declares what the metrics cube and the preparator's statistics report on the demo dataset", () => {
    expect(declared.metric_names).toContain('AUC.mean');
    expect(declared.metric_names).toContain('accuracy.mean');
    expect(declared.metric_names.every((n) => /^(AUC|accuracy)\./.test(n))).toBe(true);
    expect(declared.statistics_names).toContain('num_samples');
    expect(declared.statistics_names.filter((n) => n.startsWith('label_counts.')).length).toBeGreaterThan(0);
  });
});

describe('benchmark declare-names', () => {
  it("gives a benchmark from before the declaration its names, in one pull request an admin merges", async () => {
    await withoutDeclaration();
    const r = await h.run(['benchmark', 'declare-names', '-b', 'chestxray', '--runner', 'process', '--yes'], { as: COMMITTEE });
    expect(r.code).toBe(0);
    expect(r.out).toContain(`metric_names: ${declared.metric_names.join(', ')}`);
    expect(r.out).toContain(`new: AUC.mean (the metrics cube on the demo dataset, ${REFERENCE_ASSOCIATION})`);
    expect(r.out).toContain('new: num_samples (the data preparator on the demo dataset)');
    const number = Number(/#(\d+)/.exec(r.out)![1]);
    const admin = await h.forge(ADMIN);
    const pull = await admin.getPull(number);
    expect(pull.paths).toEqual([PATH]);
    expect(pull.body).toContain('| metric_names | `AUC.mean` | the metrics cube on the demo dataset, ' + REFERENCE_ASSOCIATION + ' |');
    await admin.review(number, 'APPROVE');
    await admin.merge(number);
    await admin.dispose();
    const now = await mainBenchmark();
    expect(now.metric_names).toEqual(declared.metric_names);
    expect(now.statistics_names).toEqual(declared.statistics_names);

    const again = await h.run(['benchmark', 'declare-names', '-b', 'chestxray', '--runner', 'process', '--yes'], { as: COMMITTEE });
    expect(again.code).toBe(0);
    expect(again.out).toContain('chestxray declares these names already');
  });

  it('with --no-test takes the names from the merged records only, and says which records hold them', async () => {
    await withoutDeclaration();
    const r = await h.run(['benchmark', 'declare-names', '-b', 'chestxray', '--no-test', '--yes', '--json'], { as: COMMITTEE });
    expect(r.code).toBe(0);
    const out = JSON.parse(r.out) as { changed: boolean; pull: number; metric_names: string[]; statistics_names: string[] };
    expect(out.changed).toBe(true);
    expect([...out.metric_names].sort()).toEqual([...declared.metric_names].sort());
    expect(out.statistics_names).toEqual([]);
    const admin = await h.forge(ADMIN);
    const pull = await admin.getPull(out.pull);
    expect(pull.body).toContain("Found only in records data owners wrote, not in a cube's output on the demo data: `AUC.");
    await admin.dispose();
  });

  it('is for the committee', async () => {
    const r = await h.run(['benchmark', 'declare-names', '-b', 'chestxray', '--no-test', '--yes'], { as: MODEL_OWNER });
    expect(r.code).toBe(1);
    expect(r.err).toContain('committee');
  });
});
