// Two names that differ only by case (or by Unicode folding) in one folder: one is refused, wherever
// it sits along a path, whether the registry is validated whole or as a change, from memory, from a
// folder or from git objects.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PATHS as P, EXAMPLE_REGISTRY, exampleFiles } from '../testing/example-registry.ts';
import { formatFinding, type Finding } from './findings.ts';
import { caseKey } from './layout.ts';
import { closeTree, directoryTree, gitChangedPaths, gitTree, memoryTree } from './trees.ts';
import { validateChange, validateRegistry } from './validate.ts';

const CLASH = 'differs only by case from';

/** The case clashes of a list of findings, as a user reads them. */
const clashes = (findings: Finding[]) => findings.filter((f) => f.message.includes(CLASH)).map(formatFinding);

/** Every spelling of a name that differs from it only by ASCII case (the name itself excluded). */
const recased = (name: string) =>
  fc
    .array(fc.boolean(), { minLength: name.length, maxLength: name.length })
    .map((flips) => [...name].map((c, i) => (flips[i] ? c.toUpperCase() : c.toLowerCase())).join(''))
    .filter((n) => n !== name);

const RECORDS = Object.values(P).filter((p) => p !== P.registry);

describe('names that differ only by case', () => {
  it('refuses a record beside another spelling of its owner folder, in a change and in the whole registry', async () => {
    const files = exampleFiles();
    const cube = files[P.cube]!;
    const base = memoryTree(files);
    const head = memoryTree({ ...files, 'mlcubes/Model-Owner/chestxray-mobilenet.yaml': cube });
    const expected = [
      'mlcubes/Model-Owner/chestxray-mobilenet.yaml:1:1 layout mlcubes/Model-Owner differs only by case from mlcubes/model-owner: ' +
        'logins and names are case-insensitive, so both name one folder (and are one on macOS and Windows); keep one spelling and move or remove the other',
    ];
    expect(clashes(await validateChange({ base, head, author: 'Model-Owner' }))).toEqual(expected);
    const whole = clashes(await validateRegistry(head));
    expect(whole).toContain(expected[0]);
    // Every file under either spelling is named: neither one is the "right" one in a whole registry.
    expect(whole.filter((f) => f.startsWith('mlcubes/model-owner/'))).not.toEqual([]);
  });

  it('refuses a case variant of any folder or file along any record path (property)', async () => {
    const files = exampleFiles();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...RECORDS).chain((path) => {
          const parts = path.split('/');
          return fc.nat({ max: parts.length - 1 }).chain((i) => recased(parts[i]!).map((variant) => ({ path, variant: parts.map((p, j) => (j === i ? variant : p)).join('/'), i })));
        }),
        async ({ path, variant }) => {
          const head = memoryTree({ ...files, [variant]: files[path]! });
          const change = clashes(await validateChange({ base: memoryTree(files), head, author: 'model-owner' }));
          expect(change).toHaveLength(1);
          expect(change[0]).toMatch(new RegExp(`^${variant.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1:1 layout .* ${CLASH} `));
          expect(clashes(await validateRegistry(head)).some((f) => f.startsWith(`${variant}:`))).toBe(true);
        },
      ),
      { numRuns: 60, seed: 9 },
    );
  });

  it('folds Unicode as well as ASCII: ß and ss, the Kelvin sign and k, ligatures, composed and decomposed accents', async () => {
    const pairs: Array<[string, string]> = [
      ['straße.yml', 'STRASSE.yml'],
      ['\u212Aey.yml', 'key.yml'],
      ['\uFB01x.yml', 'fix.yml'],
      ['caf\u00e9.yml', 'cafe\u0301.yml'],
      ['\u017Fcan.yml', 'scan.yml'],
      ['\u03A3\u03C2.yml', '\u03C3\u03C3.yml'],
      ['Ｗide.yml', 'wide.yml'],
    ];
    for (const [a, b] of pairs) {
      expect(caseKey(a)).toBe(caseKey(b));
      const head = memoryTree({ ...exampleFiles(), [`.github/workflows/${a}`]: 'on: push\n', [`.github/workflows/${b}`]: 'on: push\n' });
      const found = clashes(await validateRegistry(head));
      expect(found.map((f) => f.split(':1:1')[0]).sort()).toEqual([`.github/workflows/${a}`, `.github/workflows/${b}`].sort());
    }
  });

  it('does not refuse names that differ in more than case', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,8}$/), { minLength: 2, maxLength: 6 }), async (owners) => {
        const files = exampleFiles();
        const head: Record<string, string> = { ...files };
        for (const o of owners) head[`mlcubes/${o}/cube.yaml`] = files[P.cube]!;
        const keys = new Set(owners.map(caseKey));
        fc.pre(keys.size === owners.length && !keys.has('model-owner') && !keys.has('bench-committee'));
        expect(clashes(await validateRegistry(memoryTree(head)))).toEqual([]);
      }),
      { numRuns: 30, seed: 9 },
    );
    expect(clashes(await validateRegistry(memoryTree(exampleFiles())))).toEqual([]);
  });
});

describe('names that differ only by case, from git objects and from a folder', () => {
  let repo: string;
  const added = ['mlcubes/Model-Owner/other.yaml', 'benchmarks/chestxray/results/Data-Owner/hospital-a/model-owner/chestxray-mobilenet.yaml', 'README.MD'];
  const git = (args: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.org', '-c', 'commit.gpgsign=false', ...args], { cwd: repo, encoding: 'utf8' }).trim();

  beforeAll(() => {
    repo = mkdtempSync(join(tmpdir(), 'medperf-git-case-'));
    cpSync(EXAMPLE_REGISTRY, repo, { recursive: true });
    writeFileSync(join(repo, 'README.md'), '# registry\n');
    git(['init', '-q', '-b', 'main']);
    git(['add', '-A']);
    git(['commit', '-q', '-m', 'registry']);
    git(['checkout', '-q', '-b', 'change']);
    for (const path of added) {
      mkdirSync(join(repo, dirname(path)), { recursive: true });
      writeFileSync(join(repo, path), readFileSync(join(EXAMPLE_REGISTRY, path.startsWith('README') ? P.registry : path.startsWith('mlcubes') ? P.cube : P.result)));
    }
    git(['add', '-A']);
    git(['commit', '-q', '-m', 'case variants']);
  });
  afterAll(() => rmSync(repo, { recursive: true, force: true }));

  const expectEveryVariant = (findings: Finding[]) => {
    const found = clashes(findings).map((f) => f.split(':1:1')[0]);
    for (const path of added) expect(found).toContain(path);
  };

  it('refuses them in a change read from git objects (the Action)', async () => {
    const base = gitTree(repo, 'main');
    const head = gitTree(repo, 'change');
    try {
      const changed = await gitChangedPaths(repo, 'main', 'change');
      expectEveryVariant(await validateChange({ base, head, changed, author: 'model-owner' }));
    } finally {
      await Promise.all([closeTree(base), closeTree(head)]);
    }
  });

  it('refuses them in a whole revision read from git objects', async () => {
    const head = gitTree(repo, 'change');
    try {
      expectEveryVariant(await validateRegistry(head));
    } finally {
      await closeTree(head);
    }
  });

  it('refuses them in a change of the working tree (medperf-git validate --base main) and in the folder', async () => {
    const base = gitTree(repo, 'main');
    try {
      expectEveryVariant(await validateChange({ base, head: directoryTree(repo), changed: await gitChangedPaths(repo, 'main'), author: 'model-owner' }));
    } finally {
      await closeTree(base);
    }
    expectEveryVariant(await validateRegistry(directoryTree(repo)));
  });
});
