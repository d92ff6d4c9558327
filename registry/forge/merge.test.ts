// The local forge's merge with the registry core's own validation and gate: it refuses what the
// Action refuses, saying why, and merges what the Action would let through.
import { readdir, readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FileChange } from './forge.ts';
import { LocalForge } from './local.ts';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'registry');
const ASSOCIATION = 'benchmarks/chestxray/datasets/data-owner/hospital-a.yaml';

async function exampleFiles(dir = EXAMPLE): Promise<FileChange[]> {
  const out: FileChange[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await exampleFiles(p)));
    else out.push({ path: relative(EXAMPLE, p), content: await readFile(p) });
  }
  return out;
}

let root: string;
let association: FileChange;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'medperf-git-merge-'));
  const files = await exampleFiles();
  association = files.find((f) => f.path === ASSOCIATION)!;
  // The tutorial registry before the data owner's association and results.
  const seed = files.filter((f) => f.path !== ASSOCIATION && !f.path.includes('/results/'));
  const admin = await LocalForge.open({ root, login: 'medperf-admin' });
  await admin.commitToMain(seed, 'The tutorial registry');
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('local merge runs the Action\'s validation and gate', () => {
  it('a dataset association waits for the benchmark committee, then merges', async () => {
    const owner = await LocalForge.open({ root, login: 'data-owner' });
    const { pull } = await owner.propose({ key: 'association/chestxray/data-owner/hospital-a', title: 'Associate hospital-a with chestxray', body: '', files: [association] });
    await expect(owner.merge(pull.number)).rejects.toThrow(/^pull request #1 is not approved: /);
    const error = (await owner.merge(pull.number).catch((e: Error) => e)) as Error;
    expect(error.message).toContain('bench-committee');
    const committee = await LocalForge.open({ root, login: 'bench-committee' });
    await committee.review(pull.number, 'APPROVE');
    const merged = await owner.merge(pull.number);
    expect(merged.pull.state).toBe('merged');
    expect(await (await owner.main()).has(ASSOCIATION)).toBe(true);
  });

  it('a change the validation rejects is refused with the findings, as file:line:col rule message', async () => {
    const intruder = await LocalForge.open({ root, login: 'someone-else' });
    const { pull } = await intruder.propose({
      key: 'association/chestxray/data-owner/hospital-a',
      title: 'Associate a dataset that is not mine',
      body: '',
      files: [association],
    });
    const error = (await intruder.merge(pull.number).catch((e: Error) => e)) as Error;
    expect(error.message).toMatch(/^pull request #1 fails validation, as the Action would report it:\n/);
    expect(error.message).toMatch(new RegExp(`^${ASSOCIATION}:\\d+:\\d+ ownership `, 'm'));
  });
});
