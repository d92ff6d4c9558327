// A small registry in memory for the rule and gate tests: the tutorial's chestxray benchmark with
// its three cubes, one model owner's cube, one data owner's dataset, both associations and one
// result. Tests copy it, change what they test, and build views over the two trees.
import { stringify } from 'yaml';
import { paths } from '../registry/layout.ts';
import { schemaModeline } from '../registry/record-yaml.ts';
import type {
  BenchmarkRecord,
  CubeRecord,
  DatasetAssociationRecord,
  DatasetRecord,
  ModelAssociationRecord,
  RegistryConfig,
  ResultRecord,
} from '../registry/records.ts';
import { type Finding, formatFinding, sortFindings } from '../registry/findings.ts';
import type { RegistryView, Rule, RuleContext } from '../registry/view.ts';
import { memoryTree } from '../registry/trees.ts';
import { createView } from '../registry/load.ts';
import { examplePerson, signedExample } from '../examples/keys.ts';
import { sealedResult, sealMetrics, type EnvelopeRecipient } from '../registry/envelope.ts';

export { examplePerson, exampleSigner, signedExample } from '../examples/keys.ts';

export type Files = Record<string, string>;

const hex = (c: string) => c.repeat(64);
/** The editor's line `record-yaml.ts` writes for a record of `kind` at its place in P. */
export const SCHEMA_LINE = (kind: 'result' | 'dataset' | 'dataset-association') =>
  schemaModeline(kind, { result: P.result, dataset: P.dataset, 'dataset-association': P.datasetAssociation }[kind]);

export function yaml(data: unknown, firstLine?: string): string {
  return (firstLine ? firstLine + '\n' : '') + stringify(data, { lineWidth: 0 });
}

export function cube(kind: CubeRecord['kind'], state: CubeRecord['state'] = 'operational', digit = 'a'): CubeRecord {
  return {
    name: `a ${kind} cube`,
    kind,
    mlcube: { url: 'https://example.org/mlcube.yaml', sha256: hex(digit) },
    parameters: { url: 'https://example.org/parameters.yaml', sha256: hex('b') },
    image: { digest: `sha256:${hex('c')}` },
    state,
  };
}

export function benchmark(over: Partial<BenchmarkRecord> = {}): BenchmarkRecord {
  return {
    name: 'Chest X-ray pathology classification',
    committee: ['bench-committee', 'carol'],
    data_preparation_mlcube: 'carol/chestxray-prep',
    reference_model: 'carol/chestxray-ref',
    data_evaluator_mlcube: 'carol/chestxray-metrics',
    demo_dataset: { url: 'https://example.org/demo.tar.gz', sha256: hex('d'), generated_uid: hex('e') },
    results_policy: { publish: 'per-model', primary_metric: 'AUC', direction: 'higher' },
    state: 'operational',
    metric_names: ['AUC', 'per_class.effusion.AUC'],
    statistics_names: ['cases', 'labels.effusion', 'labels.normal'],
    ...over,
  };
}

export function dataset(over: Partial<DatasetRecord> = {}): DatasetRecord {
  return {
    name: 'St. Mary chest x-rays',
    location: 'St. Mary',
    data_preparation_mlcube: 'carol/chestxray-prep',
    input_data_hash: hex('1'),
    generated_uid: hex('2'),
    statistics: { cases: 120, labels: { effusion: 31, normal: 89 } },
    state: 'operational',
    submitted_as_prepared: false,
    ...over,
  };
}

const compatibilityTest = {
  metrics: { AUC: 0.81 },
  dataset_generated_uid: hex('e'),
  medperf_git_version: '0.1.0',
};

export function modelAssociation(over: Partial<ModelAssociationRecord> = {}): ModelAssociationRecord {
  return { initiated_by: 'bob', compatibility_test: compatibilityTest, priority: 0, ...over };
}

export function datasetAssociation(over: Partial<DatasetAssociationRecord> = {}): DatasetAssociationRecord {
  return { initiated_by: 'dora', compatibility_test: { ...compatibilityTest, dataset_generated_uid: hex('2') }, ...over };
}

export function result(over: Partial<ResultRecord> = {}): ResultRecord {
  // The hashes of the fixture cubes below (cube(kind, 'operational', digit)), as a run records them.
  const cubeHash = (id: string, digit = 'a') => ({ id, config_sha256: hex(digit), parameters_sha256: hex('b'), image: `sha256:${hex('c')}` });
  return {
    benchmark: 'chestxray',
    model: 'bob/resnet',
    dataset: 'dora/xrays',
    metrics: { AUC: 0.84, per_class: { effusion: { AUC: 0.8 } } },
    partial: false,
    version: 1,
    provenance: {
      cubes: {
        data_preparation_mlcube: cubeHash('carol/chestxray-prep'),
        model: cubeHash('bob/resnet', 'f'),
        data_evaluator_mlcube: cubeHash('carol/chestxray-metrics'),
      },
      dataset_generated_uid: hex('2'),
      medperf_git_version: '0.1.0',
      executed_at: '2026-11-20T10:00:00Z',
    },
    ...over,
  };
}

export const P = {
  registry: paths.registry(),
  prep: paths.cube('carol/chestxray-prep'),
  ref: paths.cube('carol/chestxray-ref'),
  metrics: paths.cube('carol/chestxray-metrics'),
  model: paths.cube('bob/resnet'),
  dataset: paths.dataset('dora/xrays'),
  benchmark: paths.benchmark('chestxray'),
  modelAssociation: paths.modelAssociation('chestxray', 'bob/resnet'),
  datasetAssociation: paths.datasetAssociation('chestxray', 'dora/xrays'),
  result: paths.result('chestxray', 'dora/xrays', 'bob/resnet'),
  person: paths.person('dora'),
};

/** `files` with the result at P.result replaced by `r`, written as a data owner's result file is. */
export const withResult = (files: Files, r: ResultRecord): Files => ({ ...files, [P.result]: yaml(r, SCHEMA_LINE('result')) });

export function registryConfig(over: Partial<RegistryConfig> = {}): RegistryConfig {
  return { title: 'MedPerf tutorial registry', admins: ['admin1', 'admin2'], ...over };
}

/** The whole tutorial registry, every record valid and approved, the result signed by dora's published key. */
export function tutorialRegistry(): Files {
  return {
    [P.registry]: yaml(registryConfig()),
    [P.prep]: yaml(cube('data-preparator')),
    [P.ref]: yaml(cube('model')),
    [P.metrics]: yaml(cube('metrics')),
    [P.model]: yaml(cube('model', 'operational', 'f')),
    [P.dataset]: yaml(dataset()),
    [P.benchmark]: yaml(benchmark()),
    [P.modelAssociation]: yaml(modelAssociation()),
    [P.datasetAssociation]: yaml(datasetAssociation()),
    [P.result]: yaml(signedExample(result()), SCHEMA_LINE('result')),
    [P.person]: yaml(examplePerson('dora')),
  };
}

export function without(files: Files, ...drop: string[]): Files {
  return Object.fromEntries(Object.entries(files).filter(([p]) => !drop.includes(p)));
}

export function view(files: Files): RegistryView {
  return createView(memoryTree(files));
}

/** Full validation of a tree: every record path is checked, there is no base. */
export async function fullContext(files: Files): Promise<RuleContext> {
  const head = view(files);
  return { head, changed: Object.keys(files).sort() };
}

/** A change from base to head by author: changed is every path that differs. */
export function changeContext(base: Files, head: Files, author?: string): RuleContext {
  const changed = [...new Set([...Object.keys(base), ...Object.keys(head)])]
    .filter((p) => base[p] !== head[p])
    .sort();
  return { base: view(base), head: view(head), changed, author };
}

/**
 * What a rule reports, as a user reads it (`path:line:col rule-id message`): over a whole registry
 * (`full`), over a change by an author (`change`), or over given paths of one tree (`check`).
 * Sorted by file and line, or in the rule's own order.
 */
export function ruleFindings(rule: Rule, options: { sorted: boolean }) {
  const show = (findings: Finding[]) => (options.sorted ? sortFindings(findings) : findings).map(formatFinding);
  return {
    full: async (files: Files) => show(await rule.check(await fullContext(files))),
    change: async (base: Files, head: Files, author?: string) => show(await rule.check(changeContext(base, head, author))),
    check: async (files: Record<string, string | Buffer>, changed = Object.keys(files)) => show(await rule.check({ head: createView(memoryTree(files)), changed })),
  };
}

/** The site's example recipient (registry.yaml site_recipient of the committee-only fixtures). */
export const SITE_LOGIN = 'medperf-git-site';

/** The readers of a committee-only result of the fixture: dora (its data owner), the committee, the site. */
export function committeeReaders(): EnvelopeRecipient[] {
  return [
    ...['dora', 'bench-committee', 'carol'].map((login) => ({ login, age_recipient: examplePerson(login).age_recipient })),
    { site: true as const, age_recipient: examplePerson(SITE_LOGIN).age_recipient },
  ];
}

/**
 * A result as a committee-only benchmark holds it: its metrics sealed to `recipients` (by default
 * the required set) with dora's signature of the clear result inside, the record signed by dora.
 */
export async function sealedExample(record: ResultRecord = result(), recipients: EnvelopeRecipient[] = committeeReaders()): Promise<ResultRecord> {
  const clear = signedExample(record);
  const envelope = await sealMetrics({ metrics: record.metrics!, signature: clear.signature! }, recipients);
  return signedExample(sealedResult(record, envelope));
}

/** The tutorial registry with a committee-only benchmark: every reader's keys, the site recipient, a sealed result. */
export async function committeeRegistry(): Promise<Files> {
  const files = tutorialRegistry();
  return {
    ...files,
    [P.registry]: yaml(registryConfig({ site_recipient: examplePerson(SITE_LOGIN).age_recipient })),
    [P.benchmark]: yaml(benchmark({ results_policy: { publish: 'per-model', primary_metric: 'AUC', direction: 'higher', read: 'committee' } })),
    [paths.person('bench-committee')]: yaml(examplePerson('bench-committee')),
    [paths.person('carol')]: yaml(examplePerson('carol')),
    [P.datasetAssociation]: yaml(datasetAssociation({ compatibility_test: { ...datasetAssociation().compatibility_test, metrics: {} } })),
    [P.result]: yaml(await sealedExample(), SCHEMA_LINE('result')),
  };
}
