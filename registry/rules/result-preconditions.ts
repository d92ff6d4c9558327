// result-preconditions: a result is accepted only for an approved model on an approved dataset of
// an operational benchmark, as MedPerf's server accepts it. Approved means merged: for a change,
// both associations must already be on the base (an association in the same PR is still pending);
// for full validation, on the tree itself. The dataset and the benchmark must be operational.
import type { Finding } from '../findings.ts';
import { paths } from '../layout.ts';
import type { LoadedRecord, RegistryView, Rule } from '../view.ts';
import { findingAt, memoized } from './util.ts';

function committeeOf(benchmark: string, rec: LoadedRecord<'benchmark'> | undefined): string {
  const members = rec ? ` (${rec.data.committee.join(', ')})` : '';
  return `the committee of ${benchmark}${members}`;
}

async function approved(approvals: RegistryView, path: string): Promise<boolean> {
  return approvals.tree.has(path);
}

export const rule: Rule = {
  id: 'result-preconditions',
  async check(ctx) {
    const head = memoized(ctx.head);
    const approvals = ctx.base ? memoized(ctx.base) : head;
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      const rec = await ctx.head.record(path);
      if (rec?.where.kind !== 'result') continue;
      const { benchmark, model, dataset } = rec.where;
      const report = (pointer: string, message: string) => out.push(findingAt('result-preconditions', path, rec, pointer, message));
      const bench = (await approvals.benchmark(benchmark)) ?? (await head.benchmark(benchmark));
      // Said only in a finding: the committee's logins are not joined for every result.
      let said: string | undefined;
      const committee = { toString: () => (said ??= committeeOf(benchmark, bench)) };

      const modelPath = paths.modelAssociation(benchmark, model);
      if (!(await approved(approvals, modelPath))) {
        const pending = ctx.base && (await head.tree.has(modelPath));
        report(
          '/model',
          pending
            ? `the model ${model} is not approved for ${benchmark} yet: its association ${modelPath} is part of this change; ` +
                `ask ${committee} to approve it on its own pull request, then submit the result`
            : `the model ${model} is not associated with ${benchmark}: its owner runs \`medperf-git mlcube associate -b ${benchmark} -m ${model}\`, ` +
                `then ask ${committee} to approve the association`,
        );
      }

      const datasetPath = paths.datasetAssociation(benchmark, dataset);
      if (!(await approved(approvals, datasetPath))) {
        const pending = ctx.base && (await head.tree.has(datasetPath));
        report(
          '/dataset',
          pending
            ? `the dataset ${dataset} is not approved for ${benchmark} yet: its association ${datasetPath} is part of this change; ` +
                `ask ${committee} to approve it on its own pull request, then submit the result`
            : `the dataset ${dataset} is not associated with ${benchmark}: run \`medperf-git dataset associate -b ${benchmark} -d ${dataset}\`, ` +
                `then ask ${committee} to approve the association`,
        );
      }

      const data = await head.dataset(dataset);
      if (data && data.data.state !== 'operational') {
        report(
          '/dataset',
          `the dataset ${dataset} is still in development: results are accepted for operational datasets only; ` +
            `run \`medperf-git dataset set-operational -d ${dataset}\` first`,
        );
      }
      const headBench = await head.benchmark(benchmark);
      if (headBench && headBench.data.state !== 'operational') {
        report(
          '/benchmark',
          `the benchmark ${benchmark} is still in development: results are accepted once ${committee} makes it operational`,
        );
      }
    }
    return out;
  },
};
