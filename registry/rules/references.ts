// references: every id a record names exists, and is the right kind of thing. A benchmark's
// reference model is a model cube, its metrics cube a metrics cube; a dataset joins a benchmark
// only when it was prepared with that benchmark's data preparator. For a change, only the changed
// records are checked, plus deletions that would leave another record pointing at nothing and
// edits that would leave another record disagreeing with what it reads (a result's provenance
// with its cubes' hashes, an association with its dataset's preparator). A grant names a private
// model cube and a person whose published key it is wrapped to.
import type { Finding } from '../findings.ts';
import { parseRecordPath, paths, type RecordPath } from '../layout.ts';
import { COMPATIBILITY_TEST, cubeProvenanceProblems, RESULT_PROVENANCE, type CubeRole, type HashBlock, type ProvenanceProblem } from '../provenance.ts';
import type { BenchmarkRecord, CubeHash, CubeRecord, DatasetRecord, ResultRecord } from '../records.ts';
import { cubeHashes, datasetHashes } from './immutability.ts';
import { rule as signature } from './signatures.ts';
import type { LoadedRecord, RegistryView, Rule, RuleContext } from '../view.ts';
import { folderNames } from '../trees.ts';
import { benchmarkNames } from '../collections.ts';
import { findingAt, memoized } from './util.ts';

type CubeKind = CubeRecord['kind'];

const CUBE_ROLES: Array<{ field: 'data_preparation_mlcube' | 'reference_model' | 'data_evaluator_mlcube'; kind: CubeKind }> = [
  { field: 'data_preparation_mlcube', kind: 'data-preparator' },
  { field: 'reference_model', kind: 'model' },
  { field: 'data_evaluator_mlcube', kind: 'metrics' },
];

/**
 * What is wrong with naming the cube `id` as a `kind` cube, or undefined when nothing is. A cube
 * whose file is there but does not load is the schema rule's finding, not a missing reference.
 */
async function cubeProblem(head: RegistryView, id: string, kind: CubeKind, field: string): Promise<string | undefined> {
  const cube = await head.cube(id);
  if (!cube) {
    if (await head.tree.has(paths.cube(id))) return undefined;
    return `${field} names the cube ${id}, which does not exist: submit ${paths.cube(id)} first`;
  }
  if (cube.data.kind !== kind) return `${field} must be a ${kind} cube, but ${id} is a ${cube.data.kind} cube`;
  return undefined;
}

async function benchmarkProblem(head: RegistryView, name: string, field?: string): Promise<string | undefined> {
  if ((await head.benchmark(name)) || (await head.tree.has(paths.benchmark(name)))) return undefined;
  const subject = field ? `${field} names the benchmark ${name}, which` : `the benchmark ${name}`;
  return `${subject} does not exist: there is no ${paths.benchmark(name)}`;
}

async function datasetProblem(head: RegistryView, id: string, field: string): Promise<string | undefined> {
  if ((await head.dataset(id)) || (await head.tree.has(paths.dataset(id)))) return undefined;
  return `${field} names the dataset ${id}, which does not exist: submit ${paths.dataset(id)} first`;
}

/**
 * What is wrong with a grant: its model is not a private model cube, or its grantee has no
 * published key. Within a change, the key must also be wrapped to the grantee's current recipient
 * (a later rotation leaves a grant that the model owner renews, and is no finding on main).
 */
async function grantProblems(head: RegistryView, rec: LoadedRecord<'model-grant'>, change: boolean): Promise<Array<[string, string]>> {
  const { model, grantee } = rec.where;
  const out: Array<[string, string]> = [];
  const cube = await head.cube(model);
  if (!cube) {
    if (!(await head.tree.has(paths.cube(model)))) out.push(['', `a grant of the model ${model}, which does not exist: there is no ${paths.cube(model)}`]);
  } else if (cube.data.kind !== 'model') {
    out.push(['', `only models are granted: ${model} is a ${cube.data.kind} cube`]);
  } else if (!cube.data.private) {
    out.push(['', `${model} is not private (its additional files are not encrypted), so there is no key to grant: remove ${rec.where.path}`]);
  }
  const person = await head.person(grantee);
  if (!person) {
    if (!(await head.tree.has(paths.person(grantee)))) {
      out.push(['', `${grantee} has no published key (${paths.person(grantee)}): they run \`medperf-git keys init\` and \`medperf-git keys publish\`, then the model is granted to them`]);
    }
  } else if (change && person.data.age_recipient !== rec.data.age_recipient) {
    out.push([
      '/age_recipient',
      `age_recipient must be the one ${paths.person(grantee)} publishes (version ${person.data.version}: ${person.data.age_recipient}): grant again with \`medperf-git mlcube grant -m ${model} --to ${grantee}\``,
    ]);
  }
  return out;
}

async function checkRecord(head: RegistryView, rec: LoadedRecord, change: boolean): Promise<Finding[]> {
  const out: Finding[] = [];
  const path = rec.where.path;
  const report = (pointer: string, message: string | undefined) => {
    if (message) out.push(findingAt('references', path, rec, pointer, message));
  };
  switch (rec.where.kind) {
    case 'dataset': {
      const data = (rec as LoadedRecord<'dataset'>).data;
      const prep = data.data_preparation_mlcube;
      const problem = await cubeProblem(head, prep, 'data-preparator', 'data_preparation_mlcube');
      report('/data_preparation_mlcube', problem);
      // Only an operational preparator: its hashes never change and it is never deleted, so the
      // data stays reproducible, and a change deleting a cube never has to look for its datasets.
      const cube = problem ? undefined : await head.cube(prep);
      if (cube && cube.data.state !== 'operational') {
        report(
          '/data_preparation_mlcube',
          `the data preparator ${prep} is still in development: data is prepared only with an operational preparator, whose hashes never change; ` +
            `its owner marks it operational (\`medperf-git mlcube submit --operational\`), then the dataset is submitted`,
        );
      }
      break;
    }
    case 'benchmark': {
      const data = (rec as LoadedRecord<'benchmark'>).data;
      for (const { field, kind } of CUBE_ROLES) report(`/${field}`, await cubeProblem(head, data[field], kind, field));
      break;
    }
    case 'model-association': {
      const { benchmark, model } = rec.where;
      report('', await benchmarkProblem(head, benchmark));
      report('', await cubeProblem(head, model, 'model', `the association with ${benchmark}`));
      const cube = await head.cube(model);
      const bench = await head.benchmark(benchmark);
      const test = (rec as LoadedRecord<'model-association'>).data.compatibility_test;
      // The associated model's compatibility test ran on the benchmark's demo data.
      const ran = await hashProblems(head, COMPATIBILITY_TEST, test, bench?.data, { id: model, what: 'the associated model', record: cube?.data }, bench && {
        uid: bench.data.demo_dataset.generated_uid,
        what: `${benchmark}'s demo data`,
        why: "a model's compatibility test runs on the benchmark's demo data",
      });
      for (const p of ran) report(p.pointer, p.message);
      if (cube && cube.data.kind === 'model' && cube.data.state !== 'operational') {
        report(
          '',
          `the cube ${model} is still in development: only operational cubes are associated with benchmarks; ` +
            `its owner marks it operational (\`medperf-git mlcube submit --operational\`, after which its hashes never change), then asks again`,
        );
      }
      break;
    }
    case 'dataset-association': {
      const { benchmark, dataset } = rec.where;
      report('', await benchmarkProblem(head, benchmark));
      report('', await datasetProblem(head, dataset, `the association with ${benchmark}`));
      const bench = await head.benchmark(benchmark);
      const data = await head.dataset(dataset);
      if (data && data.data.state !== 'operational') {
        report(
          '',
          `the dataset ${dataset} is still in development: only operational datasets are associated with benchmarks; ` +
            `run \`medperf-git dataset set-operational -d ${dataset}\` first`,
        );
      }
      // The benchmark's reference model ran on the dataset.
      const test = (rec as LoadedRecord<'dataset-association'>).data.compatibility_test;
      const reference = bench && { id: bench.data.reference_model, what: "the benchmark's reference model" };
      const ran = reference
        ? await hashProblems(head, COMPATIBILITY_TEST, test, bench.data, reference, data && {
            uid: data.data.generated_uid,
            what: `the registry's ${dataset}`,
            why: "a dataset's compatibility test runs on the registered dataset",
          })
        : [];
      for (const p of ran) report(p.pointer, p.message);
      if (bench && data && data.data.data_preparation_mlcube !== bench.data.data_preparation_mlcube) {
        report(
          '',
          `${dataset} was prepared with ${data.data.data_preparation_mlcube}, but ${benchmark} prepares data with ` +
            `${bench.data.data_preparation_mlcube}: prepare the data with the benchmark's data preparator and submit it as a new dataset`,
        );
      }
      break;
    }
    case 'model-grant': {
      for (const [pointer, message] of await grantProblems(head, rec as LoadedRecord<'model-grant'>, change)) report(pointer, message);
      break;
    }
    case 'cube': {
      // A cube made public again leaves its grants naming a key that protects nothing.
      if (!change || (rec as LoadedRecord<'cube'>).data.private) break;
      const grants = await head.tree.list(paths.modelGrants(rec.where.id));
      if (grants.length) report('', `${rec.where.id} is not private, but ${grants.length} grant${grants.length === 1 ? '' : 's'} of its key remain (${grants[0]}${grants.length > 1 ? ', ...' : ''}): revoke them in the same change (\`medperf-git mlcube revoke\`)`);
      break;
    }
    case 'result': {
      const data = (rec as LoadedRecord<'result'>).data;
      report('/benchmark', await benchmarkProblem(head, data.benchmark, 'benchmark'));
      report('/model', await cubeProblem(head, data.model, 'model', 'model'));
      report('/dataset', await datasetProblem(head, data.dataset, 'dataset'));
      for (const p of await provenanceProblems(head, data)) report(p.pointer, p.message);
      break;
    }
    default:
      break;
  }
  return out;
}

/**
 * Every hash of a result's provenance against the registry: the benchmark's data preparator and
 * metrics cube and the result's model (ids and hashes), and the dataset's generated_uid.
 */
async function provenanceProblems(head: RegistryView, data: ResultRecord): Promise<ProvenanceProblem[]> {
  const bench = await head.benchmark(data.benchmark);
  const dataset = await head.dataset(data.dataset);
  return hashProblems(head, RESULT_PROVENANCE, data.provenance, bench?.data, { id: data.model, what: "the result's model" }, dataset && {
    uid: dataset.data.generated_uid,
    what: `the registry's ${data.dataset}`,
    why: 'a result is computed on the registered dataset',
  });
}

/**
 * The hashes of one block (`ran`: a result's provenance or an association's compatibility test)
 * against the registry's cubes for each role and the data's generated_uid. Every result and
 * association of a benchmark names its data preparator and metrics cube: they are read once per
 * benchmark record.
 */
async function hashProblems(
  head: RegistryView,
  block: HashBlock,
  ran: { cubes?: Partial<Record<CubeRole, CubeHash>>; dataset_generated_uid: string },
  bench: BenchmarkRecord | undefined,
  model: { id: string; what: string; record?: CubeRecord },
  data: { uid: string | undefined; what: string; why: string } | undefined,
): Promise<ProvenanceProblem[]> {
  const out: ProvenanceProblem[] = [];
  // No benchmark to say which cubes: its own finding. A compatibility test from a MedPerf server names none.
  if (bench && ran.cubes) {
    let byBenchmark = benchmarkCubes.get(head);
    if (!byBenchmark) benchmarkCubes.set(head, (byBenchmark = new WeakMap()));
    let cubes = byBenchmark.get(bench);
    if (!cubes) byBenchmark.set(bench, (cubes = Promise.all([head.cube(bench.data_preparation_mlcube), head.cube(bench.data_evaluator_mlcube)])));
    const [prep, metrics] = await cubes;
    // A cube the registry does not hold (or that does not load) is the benchmark's own finding.
    const modelRecord = model.record ?? (await head.cube(model.id))?.data;
    if (prep) cubeProvenanceProblems(block, 'data_preparation_mlcube', "the benchmark's data preparator", ran.cubes.data_preparation_mlcube, { id: bench.data_preparation_mlcube, record: prep.data }, out);
    if (modelRecord) cubeProvenanceProblems(block, 'model', model.what, ran.cubes.model, { id: model.id, record: modelRecord }, out);
    if (metrics) cubeProvenanceProblems(block, 'data_evaluator_mlcube', "the benchmark's metrics cube", ran.cubes.data_evaluator_mlcube, { id: bench.data_evaluator_mlcube, record: metrics.data }, out);
  }
  if (data && ran.dataset_generated_uid !== data.uid) {
    out.push({
      pointer: `/${block.field}/dataset_generated_uid`,
      message: `${block.field}.dataset_generated_uid is ${ran.dataset_generated_uid}, but ${data.what} has ${data.uid ?? 'none (it is not prepared yet)'}: ${data.why}`,
    });
  }
  return out;
}

/** A benchmark record's data preparator and metrics cube, as each view holds them. */
const benchmarkCubes = new WeakMap<RegistryView, WeakMap<BenchmarkRecord, Promise<[LoadedRecord<'cube'> | undefined, LoadedRecord<'cube'> | undefined]>>>();

/**
 * Results that name an association the change deletes. Results live under their dataset's folder
 * (results/<data-owner>/<dataset>/...), so a dataset's results are one folder listing; a model's
 * results are found through the benchmark's dataset associations (every result on a valid main has
 * its dataset association), one lookup each, never a walk of the benchmark's results.
 */
async function resultsOfAssociation(ctx: RuleContext & { base: RegistryView }, where: RecordPath): Promise<string[]> {
  const { head, base } = ctx;
  if (where.kind === 'dataset-association') {
    const [owner, name] = where.dataset.split('/');
    return head.tree.list(`benchmarks/${where.benchmark}/results/${owner}/${name}/`);
  }
  if (where.kind !== 'model-association') return [];
  const prefix = `benchmarks/${where.benchmark}/datasets/`;
  const datasets = new Set<string>();
  for (const view of [base, head]) {
    for (const file of await view.tree.list(prefix)) {
      const w = parseRecordPath(file);
      if (w?.kind === 'dataset-association') datasets.add(w.dataset);
    }
  }
  const out: string[] = [];
  for (const dataset of datasets) {
    const path = paths.result(where.benchmark, dataset, where.model);
    if (await head.tree.has(path)) out.push(path);
  }
  return out;
}

/** A record that would be left naming a deleted one: where it names it, and what to do first. */
interface Dependent {
  /** The dependent file, with the line that names the deleted record when there is one. */
  at?: string;
  why: string;
  fix: string;
}

/** `path:line` of the field of a record, or the path alone. */
const place = (rec: Pick<LoadedRecord, "locate"> | undefined, path: string, pointer: string) => (rec ? `${path}:${rec.locate(pointer).line}` : path);

/**
 * Where a deleted record went, when the change adds a record of the same kind with the same bytes
 * (a rename): ids come from paths, so a move is a deletion to whatever names the old id.
 */
async function movedTo(ctx: RuleContext & { base: RegistryView }, path: string, kind: string): Promise<string | undefined> {
  const before = await ctx.base.tree.read(path);
  if (!before) return undefined;
  for (const other of ctx.changed) {
    if (other === path || parseRecordPath(other)?.kind !== kind || (await ctx.base.tree.has(other))) continue;
    const after = await ctx.head.tree.read(other);
    if (after && after.equals(before)) return other;
  }
  return undefined;
}

/** Records of head that still name what a change deletes or moves. */
async function dependentsOf(ctx: RuleContext & { base: RegistryView }, gone: LoadedRecord): Promise<Dependent[]> {
  const { head } = ctx;
  const out: Dependent[] = [];
  const where = gone.where;
  if (where.kind === 'registry') {
    out.push({ why: 'every registry has a registry.yaml naming its admins', fix: 'keep it (its admins change it in place)' });
  } else if (where.kind === 'cube') {
    const id = where.id;
    const grants = await head.tree.list(paths.modelGrants(id));
    if (grants.length) {
      out.push({ at: grants[0], why: `${grants.length} grant${grants.length === 1 ? '' : 's'} of its key would name nothing`, fix: 'revoke them in the same change' });
    }
    for (const name of await benchmarkNames(head)) {
      const bench = await head.benchmark(name);
      for (const { field } of CUBE_ROLES) {
        if (bench?.data[field] === id) {
          out.push({
            at: place(bench, paths.benchmark(name), `/${field}`),
            why: `the benchmark ${name} names it as its ${field}`,
            fix: `its committee points ${field} at another cube first`,
          });
        }
      }
      const association = paths.modelAssociation(name, id);
      if (await head.tree.has(association)) {
        out.push({ at: association, why: `it is associated with the benchmark ${name}`, fix: 'withdraw the association first' });
      }
    }
    // No dataset is read: a dataset names an operational preparator (checkRecord), and an
    // operational cube is never deleted (the immutability rule), so no dataset of a valid base
    // names a cube that may go.
  } else if (where.kind === 'dataset') {
    const id = where.id;
    const [owner, name] = [where.owner, where.name];
    for (const benchmark of await benchmarkNames(head)) {
      const association = paths.datasetAssociation(benchmark, id);
      if (await head.tree.has(association)) {
        out.push({ at: association, why: `it is associated with the benchmark ${benchmark}`, fix: 'withdraw the association first' });
      }
      // Results live under their dataset's folder: one folder read per benchmark, never a walk.
      if ((await folderNames(head.tree, `benchmarks/${benchmark}/results/${owner}`)).includes(name)) {
        const folder = `benchmarks/${benchmark}/results/${owner}/${name}/`;
        out.push({ at: folder, why: `results of the benchmark ${benchmark} were computed on it`, fix: 'results are never deleted, so the dataset stays' });
      }
    }
  } else if (where.kind === 'model-association' || where.kind === 'dataset-association') {
    const results = await resultsOfAssociation(ctx, gone.where);
    if (results.length) {
      const shown = results.slice(0, 3).join(', ') + (results.length > 3 ? ` and ${results.length - 3} more` : '');
      out.push({
        why: `${results.length} result${results.length === 1 ? '' : 's'} of the association would name nothing approved (${shown})`,
        fix: 'results are never deleted, so the association stays',
      });
    }
  } else if (where.kind === 'benchmark') {
    // Associations and results live in the benchmark's folder: they go with it or not at all.
    const left = await head.tree.list(`benchmarks/${where.benchmark}/`);
    if (left.length) {
      out.push({
        why: `${left.length} association and result file${left.length === 1 ? '' : 's'} of ${where.benchmark} would name it`,
        fix: 'withdraw its associations first (results are never deleted, so a benchmark with results stays)',
      });
    }
  }
  return out;
}

/** Findings at a deleted (or moved) path for everything of head that still names it. */
async function danglingAfterDeletion(ctx: RuleContext & { base: RegistryView }, path: string): Promise<Finding[]> {
  const gone = await ctx.base.record(path);
  if (!gone) return [];
  const dependents = await dependentsOf(ctx, gone);
  if (!dependents.length) return [];
  const to = await movedTo(ctx, path, gone.where.kind);
  const verb = to ? `moved to ${to} (ids come from paths, so a move deletes ${path})` : 'deleted';
  return dependents.map((d) =>
    findingAt('references', path, undefined, '', `${path} cannot be ${verb}: ${d.why}${d.at ? ` (${d.at})` : ''}; ${d.fix}`),
  );
}

/**
 * The first field of an edited record that what depends on it reads, when that field changed:
 * a cube's hashes, kind and state; a dataset's hashes, preparator and state; a benchmark's cubes.
 */
function editedField(before: LoadedRecord, after: LoadedRecord): string | undefined {
  const pairs = (fields: (r: never) => Array<[string, string | undefined]>) => {
    const [old, now] = [fields(before.data as never), fields(after.data as never)];
    return now.find(([, value], i) => value !== old[i]![1])?.[0];
  };
  const state = (r: { state: string }): Array<[string, string]> => [['/state', r.state]];
  switch (after.where.kind) {
    case 'cube':
      return pairs((c: CubeRecord) => [...cubeHashes(c), ...state(c)]);
    case 'dataset':
      // Its owners too: a result is signed by one of the dataset's owners.
      return pairs((d: DatasetRecord) => [...datasetHashes(d), ...state(d), ['/owners', d.owners?.join('\n')]]);
    case 'benchmark':
      return pairs((b: BenchmarkRecord) => CUBE_ROLES.map(({ field }) => [`/${field}`, b[field]]));
    default:
      return undefined;
  }
}

/**
 * The records of head that read an edited cube, dataset or benchmark: what a benchmark holds (its
 * associations and results) for a benchmark, or for a cube it names; a model's associations and
 * their results; a dataset's associations and results (one folder each). A dataset never reads a
 * cube that may still change (it names an operational preparator, whose hashes the immutability
 * rule keeps), so no dataset is read.
 */
async function readersOf(ctx: RuleContext & { base: RegistryView }, where: RecordPath): Promise<string[]> {
  const { head } = ctx;
  const out: string[] = [];
  // What a benchmark's folder holds besides its benchmark.yaml (a reader pushes that one itself).
  const folder = async (prefix: string) => out.push(...(await head.tree.list(prefix)).filter((p) => parseRecordPath(p)?.kind !== 'benchmark'));
  if (where.kind === 'benchmark') {
    await folder(`benchmarks/${where.benchmark}/`);
  } else if (where.kind === 'cube') {
    for (const name of await benchmarkNames(head)) {
      const bench = await head.benchmark(name);
      if (bench && CUBE_ROLES.some(({ field }) => bench.data[field] === where.id)) {
        out.push(paths.benchmark(name));
        await folder(`benchmarks/${name}/`);
        continue;
      }
      const association = paths.modelAssociation(name, where.id);
      if (await head.tree.has(association)) {
        out.push(association, ...(await resultsOfAssociation(ctx, parseRecordPath(association)!)));
      }
    }
  } else if (where.kind === 'dataset') {
    for (const name of await benchmarkNames(head)) {
      const association = paths.datasetAssociation(name, where.id);
      if (await head.tree.has(association)) out.push(association);
      if ((await folderNames(head.tree, `benchmarks/${name}/results/${where.owner}`)).includes(where.name)) {
        await folder(`benchmarks/${name}/results/${where.owner}/${where.name}/`);
      }
    }
  }
  return [...new Set(out)];
}

/** What to do instead of an edit that breaks the records reading it. */
const EDIT_FIX: Record<string, string> = {
  cube: 'a cube keeps what benchmarks, associations and results were made with: submit the changed cube as a new cube instead',
  dataset: 'a dataset keeps what its associations and results were computed on: submit the changed data as a new dataset instead',
  benchmark: 'a benchmark keeps the cubes its associations and results were made with: a benchmark with other cubes is a new benchmark',
};

/** What a reader of an edited record is judged by: its references, and a result's signature (its signer must own the dataset). */
async function judged(view: RegistryView, rec: LoadedRecord): Promise<Finding[]> {
  const out = await checkRecord(view, rec, true);
  if (rec.where.kind === 'result') out.push(...(await signature.check({ head: view, changed: [rec.where.path] })));
  return out;
}

/**
 * An edit checked as a deletion is: every record of head reading the edited one is judged again,
 * and what the edit breaks in them (a finding they did not have on the base) is a finding at the
 * edited field, naming the record and the line.
 */
async function brokenByEdit(ctx: RuleContext & { base: RegistryView }, before: LoadedRecord, after: LoadedRecord): Promise<Finding[]> {
  const field = editedField(before, after);
  if (field === undefined) return [];
  const changed = new Set(ctx.changed);
  const [head, base] = [memoized(ctx.head), memoized(ctx.base)];
  const broken: string[] = [];
  for (const path of await readersOf(ctx, after.where)) {
    if (changed.has(path)) continue; // judged on its own
    const rec = await ctx.head.record(path);
    if (!rec) continue;
    const now = await judged(head, rec);
    if (!now.length) continue;
    const was = await ctx.base.record(path);
    // The reader is the same file on both sides: a field it had a finding at on the base was
    // broken before this change (the message may differ, naming the new value).
    const had = new Set(was ? (await judged(base, was)).map((f) => `${f.line}:${f.column}`) : []);
    for (const f of now) if (!had.has(`${f.line}:${f.column}`)) broken.push(`${f.path}:${f.line}: ${f.message}`);
  }
  if (!broken.length) return [];
  const more = broken.length > 1 ? ` (and ${broken.length - 1} more finding${broken.length === 2 ? '' : 's'} in what reads it)` : '';
  return [
    findingAt(
      'references',
      after.where.path,
      after,
      field,
      `changing ${field.slice(1).replace(/\//g, '.')} breaks what reads ${after.where.path}: ${broken[0]}${more}; ${EDIT_FIX[after.where.kind]}`,
    ),
  ];
}

export const rule: Rule = {
  id: 'references',
  async check(ctx) {
    const out: Finding[] = [];
    const head = memoized(ctx.head);
    for (const path of ctx.changed) {
      const rec = await ctx.head.record(path);
      if (rec) {
        out.push(...(await checkRecord(head, rec, ctx.base !== undefined)));
        const before = ctx.base && (await ctx.base.record(path));
        if (before) out.push(...(await brokenByEdit({ ...ctx, base: ctx.base! }, before, rec)));
      } else if (ctx.base && !(await ctx.head.tree.has(path))) {
        out.push(...(await danglingAfterDeletion({ ...ctx, base: ctx.base }, path)));
      }
    }
    return out;
  },
};
