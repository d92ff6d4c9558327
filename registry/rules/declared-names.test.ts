import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rule } from './declared-names.ts';
import { validateChange, validateRegistry } from '../validate.ts';
import { memoryTree } from '../trees.ts';
import { formatFinding } from '../findings.ts';
import {
  P,
  SCHEMA_LINE,
  benchmark,
  dataset,
  datasetAssociation,
  modelAssociation,
  result,
  ruleFindings,
  tutorialRegistry,
  without,
  yaml,
} from '../../testing/records.ts';

const { full, change } = ruleFindings(rule, { sorted: true });
const DECLARED = 'AUC, per_class.effusion.AUC';
const FIX = '`medperf-git benchmark declare-names -b chestxray`';
const undeclared = (parent: string, remedy: string) =>
  `declared-names a name under ${parent} is not one that the benchmark chestxray declares (${DECLARED}): metrics hold only the names their benchmark declares, so no text of the data leaves the hospital; ${remedy}`;
const RESULT_REMEDY = 'remove it (`medperf-git run` writes only declared names), or ask the committee of chestxray to declare it';
const ASSOCIATION_REMEDY = 'remove it, or ask the committee of chestxray to declare it';

describe('declared-names', () => {
  it('passes records that hold only the names their benchmark declares, nested or dotted', async () => {
    expect(await full(tutorialRegistry())).toEqual([]);
    const files = tutorialRegistry();
    files[P.result] = yaml(result({ metrics: { AUC: 0.84, 'per_class.effusion.AUC': 0.8 } }), SCHEMA_LINE('result'));
    files[P.dataset] = yaml(dataset({ statistics: { cases: 120, 'labels.effusion': 31 } }));
    expect(await full(files)).toEqual([]);
  });

  it('refuses a metric name a data owner made up, at its line, without repeating it', async () => {
    const files = tutorialRegistry();
    files[P.result] = yaml(result({ metrics: { AUC: 0.84, Jane_Roe_DOB_1961_04_02_MRN_88123: 1 } }), SCHEMA_LINE('result'));
    const findings = await full(files);
    expect(findings).toEqual([`${P.result}:7:3 ${undeclared('metrics', RESULT_REMEDY)}`]);
    expect(findings.join()).not.toContain('Jane');
  });

  it('refuses undeclared names at every depth, in results and in both kinds of association', async () => {
    const files = tutorialRegistry();
    files[P.result] = yaml(result({ metrics: { AUC: 0.84, per_class: { effusion: { AUC: 0.8, MRN_88123: 1 }, john_doe: { AUC: 0.1 } } } }), SCHEMA_LINE('result'));
    const test = modelAssociation().compatibility_test;
    files[P.modelAssociation] = yaml(modelAssociation({ compatibility_test: { ...test, metrics: { AUC: 0.8, ward_3: 0.1 } } }));
    files[P.datasetAssociation] = yaml(
      datasetAssociation({ compatibility_test: { ...datasetAssociation().compatibility_test, metrics: { AUC: 0.8, per_class: { 'smith.j': 1 } } } }),
    );
    expect(await full(files)).toEqual([
      `${P.datasetAssociation}:6:7 ${undeclared('compatibility_test.metrics.per_class', ASSOCIATION_REMEDY)}`,
      `${P.modelAssociation}:5:5 ${undeclared('compatibility_test.metrics', ASSOCIATION_REMEDY)}`,
      `${P.result}:10:7 ${undeclared('metrics.per_class.effusion', RESULT_REMEDY)}`,
      `${P.result}:11:5 ${undeclared('metrics.per_class', RESULT_REMEDY)}`,
    ]);
  });

  it('refuses a name given twice and a declared key with nothing under it', async () => {
    const files = tutorialRegistry();
    files[P.result] = yaml(result({ metrics: { AUC: 0.84, per_class: { effusion: { AUC: 0.8 } }, 'per_class.effusion.AUC': 0.7 } }), SCHEMA_LINE('result'));
    const test = modelAssociation().compatibility_test;
    files[P.modelAssociation] = yaml(modelAssociation({ compatibility_test: { ...test, metrics: { AUC: 0.8, per_class: { effusion: {} } } as never } }));
    expect(await full(files)).toEqual([
      `${P.modelAssociation}:6:7 declared-names a name under compatibility_test.metrics.per_class holds nothing: metrics are names declared by the benchmark chestxray with a number each; remove it`,
      `${P.result}:10:3 declared-names metrics.per_class.effusion.AUC is given twice (nested and with dots): one metric, one number; keep one of them`,
    ]);
  });

  it('refuses statistics names that no benchmark preparing the data declares', async () => {
    const files = tutorialRegistry();
    files[P.dataset] = yaml(dataset({ statistics: { cases: 120, labels: { effusion: 31, normal: 89, 'mrn-88123': 1 }, st_mary_ward_3: 2 } }));
    expect(await full(files)).toEqual([
      `${P.dataset}:11:5 declared-names a name under statistics.labels is not one that the benchmark chestxray declares (cases, labels.effusion, labels.normal): statistics hold only the names their benchmark declares, so no text of the data leaves the hospital; remove it (\`medperf-git dataset set-operational\` writes only declared names), or ask the committee to declare it`,
      `${P.dataset}:12:3 declared-names a name under statistics is not one that the benchmark chestxray declares (cases, labels.effusion, labels.normal): statistics hold only the names their benchmark declares, so no text of the data leaves the hospital; remove it (\`medperf-git dataset set-operational\` writes only declared names), or ask the committee to declare it`,
    ]);
  });

  it('accepts a statistic any benchmark preparing data with the same preparator declares', async () => {
    const files = tutorialRegistry();
    files['benchmarks/lungs/benchmark.yaml'] = yaml(benchmark({ statistics_names: ['cases', 'sites'] }));
    files[P.dataset] = yaml(dataset({ statistics: { cases: 120, sites: 2, labels: { effusion: 31 } } }));
    expect(await full(files)).toEqual([]);
  });

  it('gives a benchmark without the declaration a finding and its committee the command that adds it', async () => {
    const old = benchmark();
    delete old.metric_names;
    delete old.statistics_names;
    const files = tutorialRegistry();
    files[P.benchmark] = yaml(old);
    expect(await full(files)).toEqual([
      `${P.benchmark}:1:1 declared-names the benchmark chestxray declares no metric_names and no statistics_names: results, compatibility tests and dataset statistics may hold only the names their benchmark declares, so until it does none is accepted; its committee runs ${FIX}, which takes them from the metrics cube and the data preparator on the demo dataset (and from the records already merged) and opens the pull request that adds them`,
      `${P.datasetAssociation}:3:3 declared-names the benchmark chestxray declares no metric_names yet, so no metric can be accepted: ask its committee (bench-committee or carol) to run ${FIX}, then submit again`,
      `${P.modelAssociation}:3:3 declared-names the benchmark chestxray declares no metric_names yet, so no metric can be accepted: ask its committee (bench-committee or carol) to run ${FIX}, then submit again`,
      `${P.result}:5:1 declared-names the benchmark chestxray declares no metric_names yet, so no metric can be accepted: ask its committee (bench-committee or carol) to run ${FIX}, then submit again`,
      `${P.dataset}:6:1 declared-names no benchmark that prepares data with carol/chestxray-prep declares statistics_names yet, so no statistic can be accepted: ask the committee to run ${FIX}, then submit again`,
    ]);
  });

  it("refuses statistics when no benchmark prepares data with the dataset's preparator", async () => {
    const files = without(tutorialRegistry(), P.benchmark, P.modelAssociation, P.datasetAssociation, P.result);
    expect(await full(files)).toEqual([
      `${P.dataset}:6:1 declared-names no benchmark prepares data with carol/chestxray-prep, so no benchmark declares the names its statistics may hold: statistics are published only under names a benchmark declares; remove them, or prepare the data with a benchmark's data preparator`,
    ]);
  });

  it('ranks on a declared metric only', async () => {
    const files = tutorialRegistry();
    files[P.benchmark] = yaml(benchmark({ results_policy: { publish: 'per-model', primary_metric: 'Dice', direction: 'higher' } }));
    expect(await full(files)).toEqual([
      `${P.benchmark}:14:3 declared-names the primary metric Dice is not one of the benchmark's metric_names (${DECLARED}): rank on a declared metric, or declare it`,
    ]);
  });

  it('checks only what a change touches, against the benchmark of head', async () => {
    const base = tutorialRegistry();
    const head = { ...base, [P.result]: yaml(result({ version: 2, metrics: { AUC: 0.9, note_17: 1 } }), SCHEMA_LINE('result')) };
    expect(await change(base, head, 'dora')).toEqual([`${P.result}:7:3 ${undeclared('metrics', RESULT_REMEDY)}`]);
  });

  const key = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_:+-]{0,20}$/);
  const value = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((v) => v + 0); // no -0

  it('refuses any name the benchmark does not declare, in results, statistics and associations, nested or not (fast-check)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('result', 'dataset', 'model-association', 'dataset-association'),
        fc.array(key, { minLength: 1, maxLength: 3 }),
        value,
        async (kind, keys, v) => {
          const name = keys.join('.');
          // The declared names are one word each: a random nested or new key is never one of them.
          fc.pre(!['AUC', 'cases'].includes(name));
          const nested = keys.reduceRight<unknown>((inner, k) => ({ [k]: inner }), v) as Record<string, number>;
          const files = tutorialRegistry();
          const test = modelAssociation().compatibility_test;
          if (kind === 'result') files[P.result] = yaml(result({ metrics: { AUC: 0.8, ...nested } }), SCHEMA_LINE('result'));
          if (kind === 'dataset') files[P.dataset] = yaml(dataset({ statistics: { cases: 3, ...nested } }));
          if (kind === 'model-association') files[P.modelAssociation] = yaml(modelAssociation({ compatibility_test: { ...test, metrics: { AUC: 0.8, ...nested } } }));
          if (kind === 'dataset-association') {
            files[P.datasetAssociation] = yaml(datasetAssociation({ compatibility_test: { ...datasetAssociation().compatibility_test, metrics: { AUC: 0.8, ...nested } } }));
          }
          const findings = (await validateRegistry(memoryTree(files))).filter((f) => f.rule === 'declared-names');
          if (name.startsWith('per_class.effusion.AUC') && name === 'per_class.effusion.AUC') return;
          if (kind === 'dataset' && ['labels.effusion', 'labels.normal'].includes(name)) return;
          expect(findings).toHaveLength(1);
          expect(findings[0]!.line).toBeGreaterThan(1);
          // The undeclared key itself is not repeated in the message.
          const declaredPrefixes = kind === 'dataset' ? ['labels'] : ['per_class', 'per_class.effusion'];
          let n = 0;
          while (n < keys.length - 1 && declaredPrefixes.includes(keys.slice(0, n + 1).join('.'))) n++;
          const block = kind === 'result' ? 'metrics' : kind === 'dataset' ? 'statistics' : 'compatibility_test.metrics';
          const parent = /^a name under (\S+) is/.exec(findings[0]!.message)?.[1];
          expect(parent).toBe([block, ...keys.slice(0, n)].join('.'));
        },
      ),
      { numRuns: 150 },
    );
  });

  it('is part of every validation: a change adding an undeclared metric fails as a whole', async () => {
    const base = tutorialRegistry();
    const head = { ...base, [P.result]: yaml(result({ version: 2, metrics: { AUC: 0.9, Jane_Roe_DOB_1961_04_02_MRN_88123: 1 } }), SCHEMA_LINE('result')) };
    const findings = (await validateChange({ base: memoryTree(base), head: memoryTree(head), author: 'dora' })).map(formatFinding);
    expect(findings.filter((f) => f.includes('declared-names'))).toEqual([`${P.result}:7:3 ${undeclared('metrics', RESULT_REMEDY)}`]);
  });
});

describe('declared-names: a benchmark change keeps declaring what records hold', () => {
  const main = tutorialRegistry();
  main[P.benchmark] = yaml(benchmark({ metric_names: ['AUC', 'per_class.effusion.AUC', 'F1'], statistics_names: ['cases', 'labels.effusion', 'labels.normal', 'age'] }));
  const line = (files: Record<string, string>, path: string, text: string) => files[path]!.split('\n').findIndex((l) => l.includes(text)) + 1;
  const edit = (over: Parameters<typeof benchmark>[0]) => ({ ...main, [P.benchmark]: yaml(benchmark({ metric_names: ['AUC', 'per_class.effusion.AUC', 'F1'], statistics_names: ['cases', 'labels.effusion', 'labels.normal', 'age'], ...over })) });
  const held = (names: string, count: string, at: string) =>
    `declared-names metric_names no longer declares ${names}, which ${count} of chestxray still hold${count.startsWith('1 ') ? 's' : ''} (${at}): a benchmark keeps declaring every name its results and associations hold; declare ${names.includes(',') ? 'them' : 'it'} again`;
  const stats = (names: string, at: string) =>
    `declared-names statistics_names no longer declares ${names}, which 1 dataset prepared with carol/chestxray-prep still holds (${at}), and no other benchmark preparing data with carol/chestxray-prep declares ${names.includes(',') ? 'them' : 'it'}: a benchmark keeps declaring every name its datasets' statistics hold; declare ${names.includes(',') ? 'them' : 'it'} again`;

  it('refuses to withdraw a metric name that results or associations hold, at metric_names, naming where', async () => {
    expect(await change(main, main, 'carol')).toEqual([]);
    const result = `${P.result}:${line(main, P.result, 'metrics:')}`;
    const models = `${P.modelAssociation}:${line(main, P.modelAssociation, '  metrics:')}`;
    const datasets = `${P.datasetAssociation}:${line(main, P.datasetAssociation, '  metrics:')}`;
    const one = edit({ metric_names: ['AUC', 'F1'] });
    expect(await change(main, one, 'carol')).toEqual([`${P.benchmark}:${line(one, P.benchmark, 'metric_names')}:1 ${held('per_class.effusion.AUC', '1 record', result)}`]);
    // Withdrawn with the primary metric: the association's names too (and the primary metric's own finding).
    const two = edit({ metric_names: ['F1'], results_policy: { publish: 'per-model', primary_metric: 'F1', direction: 'higher' } });
    expect(await change(main, two, 'carol')).toEqual([`${P.benchmark}:${line(two, P.benchmark, 'metric_names')}:1 ${held('AUC, per_class.effusion.AUC', '3 records', `${datasets}, ${models}, ${result}`)}`]);
    // The whole declaration gone: said at the top, beside the finding that none is declared.
    const none = edit({ metric_names: undefined, results_policy: { publish: 'per-model', primary_metric: 'AUC', direction: 'higher' } });
    expect(await change(main, none, 'carol')).toContain(`${P.benchmark}:1:1 ${held('AUC, per_class.effusion.AUC', '3 records', `${datasets}, ${models}, ${result}`)}`);
    // A name nothing holds is withdrawn freely.
    expect(await change(main, edit({ metric_names: ['AUC', 'per_class.effusion.AUC'] }), 'carol')).toEqual([]);
  });

  it('refuses to withdraw a statistics name a dataset of the preparator holds, unless another benchmark still declares it', async () => {
    const at = `${P.dataset}:${line(main, P.dataset, 'statistics:')}`;
    const one = edit({ statistics_names: ['cases', 'labels.normal', 'age'] });
    expect(await change(main, one, 'carol')).toEqual([`${P.benchmark}:${line(one, P.benchmark, 'statistics_names')}:1 ${stats('labels.effusion', at)}`]);
    const all = edit({ statistics_names: undefined });
    expect(await change(main, all, 'carol')).toContain(`${P.benchmark}:1:1 ${stats('cases, labels.effusion, labels.normal', at)}`);
    // Unused names go freely; and a name another benchmark preparing with the same cube declares stays declared.
    expect(await change(main, edit({ statistics_names: ['cases', 'labels.effusion', 'labels.normal'] }), 'carol')).toEqual([]);
    const other = { ...main, 'benchmarks/other/benchmark.yaml': yaml(benchmark({ statistics_names: ['labels.effusion'] })) };
    expect(await change(other, { ...other, [P.benchmark]: one[P.benchmark]! }, 'carol')).toEqual([]);
    // The benchmark moving to another preparator withdraws every name from the old one's datasets.
    const moved = edit({ data_preparation_mlcube: 'carol/prep-2' });
    expect(await change(main, moved, 'carol')).toEqual([`${P.benchmark}:${line(moved, P.benchmark, 'statistics_names')}:1 ${stats('cases, labels.effusion, labels.normal', at)}`]);
  });

  it('judges a record the same change touches on its own', async () => {
    const rerun = { ...edit({ metric_names: ['AUC', 'F1'] }), [P.result]: yaml(result({ version: 2, metrics: { AUC: 0.9 } }), SCHEMA_LINE('result')) };
    expect(await change(main, rerun, 'carol')).toEqual([]);
    const restated = { ...edit({ statistics_names: ['cases', 'labels.normal', 'age'] }), [P.dataset]: yaml(dataset({ statistics: { cases: 120, labels: { normal: 89 } } })) };
    expect(await change(main, restated, 'carol')).toEqual([]);
  });
});
