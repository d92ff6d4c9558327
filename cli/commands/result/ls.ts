import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { listLocalResults, type LocalResult } from '../../results.ts';
import { printList } from '../../ui.ts';
import type { Forge } from '../../../registry/forge/forge.ts';
import { benchmarkContents } from '../../../registry/collections.ts';
import { readByCommittee } from '../../../registry/envelope.ts';
import { metricValue } from '../../../registry/metrics.ts';
import type { LoadedRecord, RegistryView } from '../../../registry/view.ts';
import { withMain } from '../../main-branch.ts';
import { ENCRYPTED_FOR_THE_COMMITTEE, readerIdentities, readResult } from '../../sealed-results.ts';

/** Where a local result stands: not submitted, or its PR's state. */
export async function submission(forge: Forge, result: LocalResult): Promise<string> {
  if (!result.submitted) return 'not submitted';
  const pull = await forge.getPull(result.submitted.pull).catch(() => undefined);
  if (!pull) return `submitted in #${result.submitted.pull}`;
  return `#${pull.number} ${pull.state === 'open' ? 'pending' : pull.state === 'merged' ? 'in the registry' : 'rejected'}`;
}

/** The results of a committee-only benchmark on main, read with the acting login's identity; undefined for a public one. */
async function committeeResults(view: RegistryView, stateDir: string, login: string, benchmark: string) {
  const bench = await view.benchmark(benchmark);
  if (!bench || !readByCommittee(bench.data)) return undefined;
  const identities = await readerIdentities(stateDir, login);
  const [, contents] = (await benchmarkContents(view, [benchmark]))[0] ?? [];
  const rows = [];
  for (const path of contents?.results ?? []) {
    const rec = (await view.record(path)) as LoadedRecord<'result'> | undefined;
    if (!rec) continue;
    const reading = await readResult(view, path, rec.data, identities);
    rows.push({ path, model: rec.data.model, dataset: rec.data.dataset, version: rec.data.version, partial: rec.data.partial, executedAt: rec.data.provenance.executed_at, metrics: reading.metrics });
  }
  return { rows, primary: bench.data.results_policy.primary_metric, keyless: !identities.length };
}

export class ResultLsCommand extends BaseCommand {
  static override paths = [['result', 'ls']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'List the results on this machine and whether they were submitted',
    details: `
      With \`-b BENCHMARK\` of a benchmark whose results are read by its committee only, also lists
      that benchmark's results in the registry: their metrics are shown to whoever holds the
      identity of a recipient (the committee, each result's data owner), and to everyone else as
      "encrypted for the committee".
    `,
    examples: [
      ['Every local result', '$0 result ls'],
      ['Results of one benchmark, as JSON lines', '$0 result ls -b chestxray --json'],
    ],
  });

  benchmark = Option.String('--benchmark,-b', { description: 'Only this benchmark' });
  unsubmitted = Option.Boolean('--unsubmitted', false, { description: 'Only results not submitted yet (or whose PR was rejected)' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const rows: Array<{ result: LocalResult; state: string }> = [];
      for (const result of await listLocalResults(this.stateDir, this.benchmark)) {
        const state = await submission(forge, result);
        if (this.unsubmitted && !(state === 'not submitted' || state.endsWith('rejected'))) continue;
        rows.push({ result, state });
      }
      // A committee-only benchmark's results in the registry: the committee reads them here.
      const registry = this.benchmark ? await withMain(forge, (view) => committeeResults(view, this.stateDir, forge.login, this.benchmark!)) : undefined;
      if (registry && !this.json) this.print('On this machine:');
      printList(this.context, rows, {
        json: this.json,
        asJson: ({ result, state }) => ({ id: result.id, benchmark: result.benchmark, model: result.model, dataset: result.dataset, partial: result.partial, executed_at: result.executed_at, submission: state, metrics: result.metrics }),
        empty: 'No results here. Run a benchmark with `medperf-git run -b BENCHMARK -d DATASET`.',
        head: ['id', 'benchmark', 'model', 'dataset', 'partial', 'executed at', 'submission'],
        row: ({ result: r, state }) => [r.id, r.benchmark, r.model, r.dataset, r.partial ? 'yes' : 'no', r.executed_at, state],
      });
      if (registry) {
        if (!this.json) this.print(`In the registry (${this.benchmark}'s results are read by its committee only):`);
        printList(this.context, registry.rows, {
          json: this.json,
          asJson: (r) => ({ source: 'registry', path: r.path, benchmark: this.benchmark, model: r.model, dataset: r.dataset, version: r.version, partial: r.partial, executed_at: r.executedAt, metrics: r.metrics ?? null, encrypted: true }),
          empty: 'No results in the registry yet.',
          head: ['model', 'dataset', 'version', 'partial', 'executed at', registry.primary],
          row: (r) => [r.model, r.dataset, r.version, r.partial ? 'yes' : 'no', r.executedAt, r.metrics ? String(metricValue(r.metrics, registry.primary) ?? '') : ENCRYPTED_FOR_THE_COMMITTEE],
        });
        if (!this.json && registry.rows.some((r) => !r.metrics)) {
          this.print(
            registry.keyless
              ? `You (${forge.login || 'no login'}) have no keys on this machine: only the committee, each result's data owner and the site read these metrics (\`medperf-git keys init\` makes yours).`
              : `Only the committee, each result's data owner and the site read the metrics shown as ${ENCRYPTED_FOR_THE_COMMITTEE}.`,
          );
        }
      }
      return 0;
    });
  }
}
