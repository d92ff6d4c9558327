// The synthetic registry the benchmarks share, and the floor they are measured against. A valid
// registry (1,000 benchmarks, 10,000 cubes, 10,000 datasets, 100,000 results, with the
// associations those results need) and a smaller one (10,000 results) are generated once under
// bench/.cache/validate/, each as a git repository whose `change` branch adds one result. Every
// data owner publishes keys (people/<login>.yaml) and signs the results of each dataset together,
// as one results pull request does;
// their private keys are the example identities of examples/keys.ts, made from their names.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import jsYaml from 'js-yaml';
import { examplePerson, exampleSigner } from '../examples/keys.ts';
import { signResults } from '../registry/signing.ts';
import type { ResultRecord } from '../registry/records.ts';

export const CACHE = fileURLToPath(new URL('./.cache/validate/', import.meta.url));
const GENERATOR_VERSION = '4';

export interface Size {
  benchmarks: number;
  /** Models associated with each benchmark (its reference model among them). */
  modelsPerBenchmark: number;
  datasetsPerBenchmark: number;
  extraModelCubes: number;
}

export const FULL: Size = { benchmarks: 1000, modelsPerBenchmark: 10, datasetsPerBenchmark: 10, extraModelCubes: 7000 };
export const SMALL: Size = { benchmarks: 100, modelsPerBenchmark: 10, datasetsPerBenchmark: 10, extraModelCubes: 700 };

const hex = (s: string) => createHash('sha256').update(s).digest('hex');

function cubeHash(role: string, id: string): string {
  return `    ${role}:
      id: ${id}
      config_sha256: ${hex(`config ${id}`)}
      parameters_sha256: ${hex(`parameters ${id}`)}
      image: sha256:${hex(`image ${id}`)}
`;
}

function files(size: Size): Map<string, string> {
  const out = new Map<string, string>();
  const schema = (kind: string, path: string) =>
    `# yaml-language-server: $schema=${'../'.repeat(path.split('/').length - 1)}schemas/${kind}.schema.json\n`;
  const put = (path: string, kind: string, body: string) => out.set(path, schema(kind, path) + body);
  // The results of one dataset, signed together by its data owner as one results pull request is:
  // one signature over their Merkle root, each block with its proof.
  const putSignedTogether = (batch: Array<{ path: string; body: string }>) => {
    const owner = batch[0]!.path.split('/')[3]!;
    const signed = signResults(batch.map((b) => jsYaml.load(b.body, { schema: jsYaml.CORE_SCHEMA }) as ResultRecord), exampleSigner(owner));
    batch.forEach(({ path, body }, i) => {
      const sig = signed[i]!.signature!;
      const proof = sig.proof ? `  proof:\n${sig.proof.map((h) => `    - ${h}\n`).join('')}` : '';
      put(path, 'result', `${body}signature:\n  signed_by: ${sig.signed_by}\n  key_version: ${sig.key_version}\n${proof}  ed25519: ${sig.ed25519}\n`);
    });
  };
  const owners = new Set<string>();
  put('registry.yaml', 'registry', 'title: Synthetic registry\nadmins:\n  - admin\n');
  const cube = (id: string, kind: string) =>
    put(
      `mlcubes/${id}.yaml`,
      'cube',
      `name: ${id}
description: "A synthetic ${kind} cube."
kind: ${kind}
mlcube:
  url: https://example.org/${id}/mlcube.yaml
  sha256: ${hex(`config ${id}`)}
parameters:
  url: https://example.org/${id}/parameters.yaml
  sha256: ${hex(`parameters ${id}`)}
image:
  digest: sha256:${hex(`image ${id}`)}
state: operational
`,
    );
  const extra = Array.from({ length: size.extraModelCubes }, (_, i) => `owner-${i % 997}/model-${i}`);
  for (const id of extra) cube(id, 'model');
  const test = (uid: string, prep: string, model: string, metrics: string) => `compatibility_test:
  metrics:
    AUC: 0.7
    F1: 0.3
  dataset_generated_uid: ${uid}
  cubes:
${cubeHash('data_preparation_mlcube', prep)}${cubeHash('model', model)}${cubeHash('data_evaluator_mlcube', metrics)}  medperf_git_version: 0.1.0
  executed_at: "2026-11-01T10:00:00Z"
`;
  for (let b = 0; b < size.benchmarks; b++) {
    const bench = `bench-${b}`;
    const committee = `committee-${b % 100}`;
    const prep = `${committee}/prep-${b}`;
    const ref = `${committee}/ref-${b}`;
    const metrics = `${committee}/metrics-${b}`;
    cube(prep, 'data-preparator');
    cube(ref, 'model');
    cube(metrics, 'metrics');
    put(
      `benchmarks/${bench}/benchmark.yaml`,
      'benchmark',
      `name: Synthetic benchmark ${b}
description: "Benchmark ${b} of the synthetic registry."
committee:
  - ${committee}
data_preparation_mlcube: ${prep}
reference_model: ${ref}
data_evaluator_mlcube: ${metrics}
demo_dataset:
  url: https://example.org/${bench}/demo.tar.gz
  sha256: ${hex(`demo ${bench}`)}
  generated_uid: ${hex(`demo uid ${bench}`)}
results_policy:
  publish: per-model
  primary_metric: AUC
  direction: higher
metric_names:
  - AUC
  - F1
  - accuracy
statistics_names:
  - num_samples
  - labels.positive
  - labels.negative
state: operational
`,
    );
    const models = [ref, ...Array.from({ length: size.modelsPerBenchmark - 1 }, (_, i) => extra[(b * 7 + i * 131) % extra.length]!)];
    for (const [i, model] of models.entries()) {
      put(
        `benchmarks/${bench}/models/${model}.yaml`,
        'model-association',
        `initiated_by: ${model.split('/')[0]}\n${test(hex(`demo uid ${bench}`), prep, model, metrics)}priority: ${i}\n`,
      );
    }
    for (let d = 0; d < size.datasetsPerBenchmark; d++) {
      const owner = `hospital-${(b * size.datasetsPerBenchmark + d) % 2000}`;
      const dataset = `${owner}/data-${b}-${d}`;
      const uid = hex(`uid ${dataset}`);
      put(
        `datasets/${dataset}.yaml`,
        'dataset',
        `name: data-${b}-${d}
description: "Synthetic dataset ${d} of benchmark ${b}."
location: Hospital ${d}
data_preparation_mlcube: ${prep}
input_data_hash: ${hex(`input ${dataset}`)}
generated_uid: ${uid}
statistics:
  num_samples: ${100 + d}
  labels:
    positive: ${d}
    negative: ${100}
state: operational
submitted_as_prepared: false
`,
      );
      put(`benchmarks/${bench}/datasets/${dataset}.yaml`, 'dataset-association', `initiated_by: ${owner}\n${test(uid, prep, ref, metrics)}`);
      if (!owners.has(owner)) {
        owners.add(owner);
        const person = examplePerson(owner);
        put(`people/${owner}.yaml`, 'person', `version: 1\nage_recipient: ${person.age_recipient}\nsigning_key: ${person.signing_key}\n`);
      }
      putSignedTogether(
        models.map((model) => ({
          path: `benchmarks/${bench}/results/${dataset}/${model}.yaml`,
          body: `benchmark: ${bench}
model: ${model}
dataset: ${dataset}
metrics:
  AUC: ${Number((0.5 + ((b + d) % 50) / 100).toFixed(3))}
  F1: 0.4
  accuracy: 0.8
partial: false
version: 1
provenance:
  cubes:
${cubeHash('data_preparation_mlcube', prep)}${cubeHash('model', model)}${cubeHash('data_evaluator_mlcube', metrics)}  dataset_generated_uid: ${uid}
  medperf_git_version: 0.1.0
  executed_at: "2026-11-02T10:00:00Z"
`,
        })),
      );
    }
  }
  return out;
}

/** The result the `change` branch adds (removed from main), and who adds it: the data owner. */
const CHANGED = { path: 'benchmarks/bench-0/results/hospital-0/data-0-0/committee-0/ref-0.yaml', author: 'hospital-0' };

function git(dir: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Writes the registry as a git repository: main without one result, `change` adding it. */
export function generate(name: string, size: Size): { dir: string; changed: string; author: string; records: number } {
  const dir = join(CACHE, name);
  const marker = join(CACHE, `${name}.complete`);
  const { path, author } = CHANGED;
  const people = Math.min(2000, size.benchmarks * size.datasetsPerBenchmark);
  const records = size.benchmarks * (1 + size.modelsPerBenchmark * (1 + size.datasetsPerBenchmark) + 2 * size.datasetsPerBenchmark + 3) + size.extraModelCubes + 1 + people;
  if (existsSync(marker) && readFileSync(marker, 'utf8') === GENERATOR_VERSION) {
    return { dir, changed: path, author, records };
  }
  // Generated only when missing: the texts are dropped before anything is measured.
  const all = files(size);
  if (!all.has(path) || all.size !== records) throw new Error('the generator and CHANGED disagree');
  const started = Date.now();
  rmSync(dir, { recursive: true, force: true });
  const made = new Set<string>();
  for (const [p, text] of all) {
    const parent = dirname(join(dir, p));
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    writeFileSync(join(dir, p), text);
  }
  const env = ['-c', 'user.name=bench', '-c', 'user.email=bench@example.org', '-c', 'commit.gpgsign=false'];
  git(dir, 'init', '-q', '-b', 'main');
  const content = readFileSync(join(dir, path));
  rmSync(join(dir, path));
  git(dir, 'add', '-A');
  git(dir, ...env, 'commit', '-q', '-m', 'synthetic registry');
  git(dir, 'checkout', '-q', '-b', 'change');
  writeFileSync(join(dir, path), content);
  git(dir, 'add', path);
  git(dir, ...env, 'commit', '-q', '-m', 'one result');
  writeFileSync(marker, GENERATOR_VERSION);
  console.log(`# generated ${name}: ${all.size} records in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return { dir, changed: path, author, records };
}

export function listRecords(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
      if (!rel && e.name === '.git') continue;
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p);
      else out.push(p);
    }
  };
  walk('');
  return out;
}

export interface Timing {
  /** CPU seconds of this process (every thread): the work done, whatever else the machine runs. */
  cpu: number;
  wall: number;
}

export async function timed(fn: () => unknown): Promise<Timing> {
  const wall = performance.now();
  const cpu = process.cpuUsage();
  await fn();
  const used = process.cpuUsage(cpu);
  return { cpu: (used.user + used.system) / 1e6, wall: (performance.now() - wall) / 1000 };
}

export const best = (a: Timing, b: Timing): Timing => (a.cpu <= b.cpu ? a : b);

/** The floor: list, read and YAML-parse every record file, nothing else. */
export function floor(dir: string): void {
  let n = 0;
  for (const p of listRecords(dir)) {
    const doc = jsYaml.load(readFileSync(join(dir, p), 'utf8'), { schema: jsYaml.CORE_SCHEMA });
    if (doc) n++;
  }
  if (n === 0) throw new Error('floor parsed nothing');
}

