// The registry layout: where each record lives, and the id its path gives it. Identity and
// ownership come from the path, so records never collide and no server allocates ids.
//
//   registry.yaml                                      admins, title, defaults
//   mlcubes/<owner>/<name>.yaml                        cube "<owner>/<name>"
//   datasets/<owner>/<name>.yaml                       dataset "<owner>/<name>"
//   benchmarks/<name>/benchmark.yaml                   benchmark "<name>"
//   benchmarks/<name>/models/<owner>/<cube>.yaml       model association
//   benchmarks/<name>/datasets/<owner>/<dataset>.yaml  dataset association
//   benchmarks/<name>/results/<data-owner>/<dataset>/<model-owner>/<model>.yaml
//   people/<login>.yaml                                a person's published keys
//   mlcubes/<owner>/<name>/grants/<login>.yaml         a private model's key, granted to <login>

import { posix } from 'node:path';

export type RecordKind =
  | 'registry'
  | 'cube'
  | 'dataset'
  | 'benchmark'
  | 'model-association'
  | 'dataset-association'
  | 'result'
  | 'person'
  | 'model-grant';

export const RECORD_KINDS: readonly RecordKind[] = [
  'registry',
  'cube',
  'dataset',
  'benchmark',
  'model-association',
  'dataset-association',
  'result',
  'person',
  'model-grant',
];

/** Where a record sits, read off its path. Every id a record has comes from here. */
export type RecordPath =
  | { kind: 'registry'; path: string }
  | { kind: 'cube'; path: string; id: string; owner: string; name: string }
  | { kind: 'dataset'; path: string; id: string; owner: string; name: string }
  | { kind: 'benchmark'; path: string; benchmark: string }
  | { kind: 'model-association'; path: string; benchmark: string; model: string; owner: string }
  | { kind: 'dataset-association'; path: string; benchmark: string; dataset: string; owner: string }
  | {
      kind: 'result';
      path: string;
      benchmark: string;
      dataset: string;
      model: string;
      /** The data owner: results are theirs. */
      owner: string;
    }
  | { kind: 'person'; path: string; login: string }
  | {
      kind: 'model-grant';
      path: string;
      /** The private model cube "<owner>/<name>". */
      model: string;
      /** The model's owner: grants are theirs. */
      owner: string;
      /** Who is granted the model's key. */
      grantee: string;
    };

export const LOGIN = '[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}';
// A name ends in no '.': Windows drops a trailing dot, so `hospital-b.` would be `hospital-b` there.
export const NAME = '[a-z0-9](?:[a-z0-9._-]{0,62}[a-z0-9_-])?';
const L = `(${LOGIN})`;
const N = `(${NAME})`;

const PATTERNS: Array<[RegExp, (m: RegExpExecArray, path: string) => RecordPath]> = [
  [/^registry\.yaml$/, (_m, path) => ({ kind: 'registry', path })],
  [
    new RegExp(`^mlcubes/${L}/${N}\\.yaml$`),
    (m, path) => ({ kind: 'cube', path, owner: m[1]!, name: m[2]!, id: `${m[1]}/${m[2]}` }),
  ],
  [
    new RegExp(`^datasets/${L}/${N}\\.yaml$`),
    (m, path) => ({ kind: 'dataset', path, owner: m[1]!, name: m[2]!, id: `${m[1]}/${m[2]}` }),
  ],
  [new RegExp(`^benchmarks/${N}/benchmark\\.yaml$`), (m, path) => ({ kind: 'benchmark', path, benchmark: m[1]! })],
  [
    new RegExp(`^benchmarks/${N}/models/${L}/${N}\\.yaml$`),
    (m, path) => ({ kind: 'model-association', path, benchmark: m[1]!, owner: m[2]!, model: `${m[2]}/${m[3]}` }),
  ],
  [
    new RegExp(`^benchmarks/${N}/datasets/${L}/${N}\\.yaml$`),
    (m, path) => ({ kind: 'dataset-association', path, benchmark: m[1]!, owner: m[2]!, dataset: `${m[2]}/${m[3]}` }),
  ],
  [
    new RegExp(`^benchmarks/${N}/results/${L}/${N}/${L}/${N}\\.yaml$`),
    (m, path) => ({
      kind: 'result',
      path,
      benchmark: m[1]!,
      owner: m[2]!,
      dataset: `${m[2]}/${m[3]}`,
      model: `${m[4]}/${m[5]}`,
    }),
  ],
  [new RegExp(`^people/${L}\\.yaml$`), (m, path) => ({ kind: 'person', path, login: m[1]! })],
  [
    new RegExp(`^mlcubes/${L}/${N}/grants/${L}\\.yaml$`),
    (m, path) => ({ kind: 'model-grant', path, owner: m[1]!, model: `${m[1]}/${m[2]}`, grantee: m[3]! }),
  ],
];

/** What a registry path holds, or undefined when the path is outside the layout. */
export function parseRecordPath(path: string): RecordPath | undefined {
  // Every rule asks this of every path: the path's folders pick the one pattern that can match.
  const [re, make] = PATTERNS[patternFor(path)]!;
  const m = re.exec(path);
  return m ? make(m, path) : undefined;
}

/** The index in PATTERNS of the only pattern a path could match (by its first and third folder). */
function patternFor(path: string): number {
  // A cube is mlcubes/<owner>/<name>.yaml; deeper paths are its grants.
  if (path.startsWith('mlcubes/')) return path.indexOf('/', path.indexOf('/', 8) + 1) < 0 ? 1 : 8;
  if (path.startsWith('datasets/')) return 2;
  if (path.startsWith('people/')) return 7;
  if (path.startsWith('benchmarks/')) {
    const second = path.indexOf('/', 11);
    const third = path.slice(second + 1, path.indexOf('/', second + 1) >>> 0);
    return third === 'models' ? 4 : third === 'datasets' ? 5 : third === 'results' ? 6 : 3;
  }
  return 0;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The form in which two names are the same name. GitHub logins and registry names are
 * case-insensitive, and so are the file systems of macOS and Windows, where two such paths are one
 * file. Names are compared after NFKC normalization and Unicode full case folding (as upper- then
 * lower-casing gives it): `Model-Owner` and `model-owner`, `ß` and `ss`, the Kelvin sign `K` and
 * `k`, `ﬁ` and `fi`, a composed and a decomposed accent are each one name. Folding more than a file
 * system would only refuses more: when in doubt, two names are the same.
 */
export function caseKey(name: string): string {
  // Printable ASCII (every record path) folds by lower-casing alone.
  if (PRINTABLE_ASCII.test(name)) return name.toLowerCase();
  return name.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
}

/** Whether two logins are the same GitHub account (logins are case-insensitive). */
export function sameLogin(a: string, b: string): boolean {
  return a === b || caseKey(a) === caseKey(b);
}

/**
 * Files the layout tolerates beside records: documentation and the registry's own automation, and,
 * for a registry in a folder of a larger repository, every file of that repository outside the
 * folder (its workflows and CODEOWNERS at the top govern the registry as much as its own would).
 */
export function isAuxiliaryPath(path: string): boolean {
  return (
    isOutsideRegistry(path) ||
    path.startsWith('.github/') ||
    path === 'README.md' ||
    path === 'LICENSE' ||
    path === 'CODEOWNERS' ||
    path === '.gitignore' ||
    path === '.gitattributes'
  );
}

/**
 * A path of the repository outside the registry's folder, as the registry names it: relative to the
 * folder (`../.github/workflows/gate.yml` for a registry in `registry/`). It is never read through
 * the registry's trees; only an admin changes it.
 */
export function isOutsideRegistry(path: string): boolean {
  return path.startsWith('../');
}

/**
 * A path from the repository's top as the registry in folder `prefix` ('' at the top, else ending
 * in '/') names it: inside the folder, relative to it; outside, relative to it through `../`.
 */
export function registryPath(repoPath: string, prefix: string): string {
  if (repoPath.startsWith(prefix)) return repoPath.slice(prefix.length);
  return posix.relative(prefix, repoPath);
}

function splitId(id: string): [string, string] {
  const i = id.indexOf('/');
  if (i < 0) throw new Error(`not an <owner>/<name> id: ${id}`);
  return [id.slice(0, i), id.slice(i + 1)];
}

export const paths = {
  registry: () => 'registry.yaml',
  cube: (id: string) => `mlcubes/${id}.yaml`,
  dataset: (id: string) => `datasets/${id}.yaml`,
  benchmark: (benchmark: string) => `benchmarks/${benchmark}/benchmark.yaml`,
  modelAssociation: (benchmark: string, model: string) => `benchmarks/${benchmark}/models/${model}.yaml`,
  datasetAssociation: (benchmark: string, dataset: string) => `benchmarks/${benchmark}/datasets/${dataset}.yaml`,
  result: (benchmark: string, dataset: string, model: string) => {
    const [dOwner, dName] = splitId(dataset);
    const [mOwner, mName] = splitId(model);
    return `benchmarks/${benchmark}/results/${dOwner}/${dName}/${mOwner}/${mName}.yaml`;
  },
  person: (login: string) => `people/${login}.yaml`,
  modelGrant: (model: string, login: string) => `mlcubes/${model}/grants/${login}.yaml`,
  /** The folder of a cube's grants. */
  modelGrants: (model: string) => `mlcubes/${model}/grants/`,
};

/** Path prefixes a command needs when it works on one benchmark (for sparse checkouts). */
export function benchmarkPaths(benchmark: string): string[] {
  return [`benchmarks/${benchmark}/`];
}
