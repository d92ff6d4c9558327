// Payloads of every class of "fail closed" (privacy, numbers, YAML outside the data, comments, tree
// entries, case, deletions and moves, integrity), each applied as a pull request to a copy of
// examples/registry. The attack tests check each is refused from git objects (the Action) and from
// the working tree (medperf-git validate --base main).
const R = 'benchmarks/chestxray/results/data-owner/hospital-a/model-owner/chestxray-mobilenet.yaml';
const DS = 'datasets/data-owner/hospital-a.yaml';
const DA = 'benchmarks/chestxray/datasets/data-owner/hospital-a.yaml';
const MA = 'benchmarks/chestxray/models/model-owner/chestxray-mobilenet.yaml';
const CUBE = 'mlcubes/model-owner/chestxray-mobilenet.yaml';
export interface Payload {
  name: string;
  author: string;
  apply: () => void;
}

/**
 * Every payload, applied through `read`, `write` and `del` on a checkout of main. Each must be
 * refused; the benign-looking ones (a BOM, a block scalar in a dataset's description, a bounded
 * pre-release version) are not here, as they carry nothing a reader could not see.
 */
export function attackPayloads(read: (p: string) => string, write: (p: string, c: string) => void, del: (p: string) => void): Payload[] {
  const out: Payload[] = [];
  const rerun = (edit: (t: string) => string) => () => write(R, edit(read(R).replace('version: 1', 'version: 2').replace('2026-11-05T08:00:00Z', '2026-11-06T08:00:00Z')));
  const num = (v: string) => out.push({ name: `metric ${JSON.stringify(v)}`, author: 'data-owner', apply: rerun((t) => t.replace('AUC: 0.726', `AUC: ${v}`)) });
  for (const v of ['7.26e-1', '+0.726', '0.7260', '.726', '!!float 0.726', '0o1234', '0x1F', '0.726 # MRN 88123', '"0.726"', '1_000', '0.726000000000000000000000001', '-0', '1e400', '.NaN', '0b101', '! 0.7', '&a 0.7', '12345678901234567890123']) num(v);
  const field = (name: string, from: string, to: string, path = R, author = 'data-owner', bump = path === R) =>
    out.push({ name, author, apply: bump ? rerun((t) => t.replace(from, to)) : () => write(path, read(path).replace(from, to)) });
  field('version build', 'medperf_git_version: 0.1.0', 'medperf_git_version: 0.1.0+jane');
  field('version leading zeros', 'medperf_git_version: 0.1.0', 'medperf_git_version: 00.1.0');
  out.push({ name: 'executed_at 4 fraction digits', author: 'data-owner', apply: () => write(R, read(R).replace('version: 1', 'version: 2').replace('2026-11-05T08:00:00Z', '2026-11-06T08:00:00.1234Z')) });
  out.push({ name: 'executed_at lowercase t', author: 'data-owner', apply: () => write(R, read(R).replace('version: 1', 'version: 2').replace('2026-11-05T08:00:00Z', '2026-11-06t08:00:00z')) });
  out.push({ name: 'executed_at offset text', author: 'data-owner', apply: () => write(R, read(R).replace('version: 1', 'version: 2').replace('"2026-11-05T08:00:00Z"', '2026-11-06T08:00:00+99:99')) });
  const whole = (name: string, path: string, edit: (t: string) => string, author = 'data-owner') => out.push({ name, author, apply: () => write(path, edit(read(path))) });
  const bump = (t: string) => t.replace('version: 1', 'version: 2').replace('2026-11-05T08:00:00Z', '2026-11-06T08:00:00Z');
  whole('%YAML directive', R, (t) => '%YAML 1.2\n---\n' + bump(t));
  whole('--- !!map', R, (t) => '--- !!map\n' + bump(t));
  whole('... then comment', R, (t) => bump(t) + '...\n# Jane Roe\n');
  whole('second document', R, (t) => bump(t) + '---\nname: Jane\n');
  whole('schema line trailing text', R, (t) => bump(t).replace('result.schema.json', 'result.schema.json  Jane'));
  whole('schema line tab text', R, (t) => bump(t).replace('result.schema.json', 'result.schema.json\tJane'));
  whole('schema line query text', R, (t) => bump(t).replace('result.schema.json', 'result.schema.json?patient=Jane_Roe&mrn=88123'));
  whole('schema line fragment text in dataset', DS, (t) => t.replace('dataset.schema.json', 'dataset.schema.json#Jane_Roe_MRN_88123'));
  whole('schema line URL text in dataset association', DA, (t) => t.replace(/\$schema=\S+/, '$schema=https://example.org/Jane-Roe/MRN-88123/dataset-association.schema.json'));
  whole('schema line zero-width text', R, (t) => bump(t).replace('result.schema.json', 'result.schema.json\u200bJane'));
  const hexText = Buffer.from('Jane Roe MRN 88123 DOB 19610402 ').toString('hex');
  whole('text as hashes of a compatibility test', DA, (t) => t.replace(/config_sha256: [0-9a-f]{64}/, `config_sha256: ${hexText}`).replace(/image: sha256:[0-9a-f]{64}/, `image: sha256:${hexText}`));
  whole('text as the generated_uid of a compatibility test', DA, (t) => t.replace(/dataset_generated_uid: [0-9a-f]{64}/, `dataset_generated_uid: ${hexText}`));
  whole("text as the generated_uid of a model's compatibility test", MA, (t) => t.replace(/dataset_generated_uid: [0-9a-f]{64}/, `dataset_generated_uid: ${hexText}`), 'model-owner');
  whole('NEL comment', R, (t) => bump(t).replace('partial: false', 'partial: false\u0085# Jane'));
  whole('LS comment', R, (t) => bump(t).replace('partial: false', 'partial: false\u2028# Jane'));
  whole('CR-only comment in dataset association', DA, (t) => t.replace('initiated_by: data-owner\n', 'initiated_by: data-owner\r# Jane Roe\r'));
  whole('comment after flow mapping in dataset', DS, (t) => t.replace('num_samples: 400', 'num_samples: 400 # Jane'));
  whole('flow mapping comment in dataset statistics', DS, (t) => t.replace('statistics:\n  num_samples: 400\n', 'statistics: {num_samples: 400, # Jane\n   n: 1}\n'));
  whole('string statistic', DS, (t) => t.replace('atelectasis: 41', 'atelectasis: "Jane"'));
  whole('nested __proto__ metric', R, (t) => bump(t).replace('  AUC: 0.726', '  AUC: 0.726\n  __proto__:\n    x: 1'));
  whole('duplicate key', R, (t) => bump(t).replace('  AUC: 0.726', '  AUC: 0.726\n  AUC: 0.1'));
  whole('quoted duplicate key', R, (t) => bump(t).replace('  AUC: 0.726', '  AUC: 0.726\n  "AUC": 0.1'));
  whole('unknown provenance cube', R, (t) => bump(t).replace('  dataset_generated_uid:', '    extra:\n      id: x/y\n  dataset_generated_uid:'));
  whole('unknown field in model association', MA, (t) => t + 'notes: hi\n', 'model-owner');
  whole('unknown field in registry.yaml', 'registry.yaml', (t) => t + 'notes: hi\n', 'medperf-admin');
  whole('metrics edited without version bump', R, (t) => t.replace('AUC: 0.726', 'AUC: 0.9'));
  whole('initiated_by changed', DA, (t) => t.replace('initiated_by: data-owner', 'initiated_by: medperf-admin'));
  whole('result version 2 same time', R, (t) => t.replace('version: 1', 'version: 2'));
  // New records.
  const add = (name: string, author: string, files: Record<string, (r: typeof read) => string>) => out.push({ name, author, apply: () => { for (const [p, c] of Object.entries(files)) write(p, c(read)); } });
  const hospB = (t: string) => t.replace(/hospital-a/g, 'hospital-b').replace('Hospital A', 'Hospital B');
  add('new result with version 88123196104 (and an unapproved dataset)', 'data-owner', {
    'datasets/data-owner/hospital-b.yaml': (r) => hospB(r(DS)),
    'benchmarks/chestxray/datasets/data-owner/hospital-b.yaml': (r) => r(DA),
    'benchmarks/chestxray/results/data-owner/hospital-b/model-owner/chestxray-mobilenet.yaml': (r) => hospB(r(R)).replace('version: 1', 'version: 88123196104'),
  });
  add('new result with version 2 (and an unapproved dataset)', 'data-owner', {
    'datasets/data-owner/hospital-b.yaml': (r) => hospB(r(DS)),
    'benchmarks/chestxray/datasets/data-owner/hospital-b.yaml': (r) => r(DA),
    'benchmarks/chestxray/results/data-owner/hospital-b/model-owner/chestxray-mobilenet.yaml': (r) => hospB(r(R)).replace('version: 1', 'version: 2'),
  });
  add('case: Data-Owner dataset beside data-owner', 'Data-Owner', { 'datasets/Data-Owner/hospital-a.yaml': (r) => r(DS) });
  add('case: MODEL-OWNER cube', 'MODEL-OWNER', { 'mlcubes/MODEL-OWNER/new.yaml': (r) => r(CUBE) });
  add('case: results folder Data-Owner', 'Data-Owner', { 'benchmarks/chestxray/results/Data-Owner/hospital-a/model-owner/chestxray-mobilenet.yaml': (r) => r(R) });
  add('case: README.MD', 'medperf-admin', { 'README.MD': () => '# x\n', 'README.md': () => '# y\n' });
  add('unicode: workflows fold', 'medperf-admin', { '.github/workflows/\u212Aey.yml': () => 'on: push\n', '.github/workflows/key.yml': () => 'on: push\n' });
  add('hidden file in cube folder', 'model-owner', { 'mlcubes/model-owner/.x.yaml': (r) => r(CUBE) });
  add('deep result path', 'data-owner', { 'benchmarks/chestxray/results/data-owner/hospital-a/model-owner/x/y.yaml': (r) => r(R) });
  add('outsider workflow', 'newcomer', { '.github/workflows/x.yml': () => 'on: push\n' });
  // Deletions and moves.
  const rm = (name: string, author: string, paths: string[], moves: Record<string, string> = {}) => out.push({ name, author, apply: () => { for (const [from, to] of Object.entries(moves)) write(to, read(from)); for (const p of paths) del(p); } });
  rm('delete cube and its association', 'model-owner', [CUBE, MA]);
  rm('delete dataset', 'data-owner', [DS]);
  rm('delete dataset and association', 'data-owner', [DS, DA]);
  rm('move dataset', 'data-owner', [DS], { [DS]: 'datasets/data-owner/hospital-a2.yaml' });
  rm('move cube to another owner', 'model-owner', [CUBE], { [CUBE]: 'mlcubes/model-owner2/chestxray-mobilenet.yaml' });
  rm('delete benchmark.yaml', 'bench-committee', ['benchmarks/chestxray/benchmark.yaml']);
  rm('delete registry.yaml', 'medperf-admin', ['registry.yaml']);
  rm('delete preparator cube', 'bench-committee', ['mlcubes/bench-committee/chestxray-prep.yaml']);
  // Edits that break what reads the record.
  const B = 'benchmarks/chestxray/benchmark.yaml';
  whole('withdraw a metric name results hold', B, (t) => t.replace('  - F1\n', ''), 'bench-committee');
  whole('withdraw a statistics name a dataset holds', B, (t) => t.replace('  - labels.effusion\n', ''), 'bench-committee');
  whole('withdraw every metric name', B, (t) => t.replace(/metric_names:\n(  - .*\n)+/, ''), 'bench-committee');
  const METRICS = 'mlcubes/bench-committee/chestxray-metrics.yaml';
  add('another metrics cube under the results', 'bench-committee', {
    [METRICS.replace('metrics.yaml', 'metrics2.yaml')]: (r) => r(METRICS),
    [B]: (r) => r(B).replace(/data_evaluator_mlcube: .*/, 'data_evaluator_mlcube: bench-committee/chestxray-metrics2'),
  });
  return out;
}
