import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { listLocalResults, type LocalResult } from '../../results.ts';
import { printList } from '../../ui.ts';
import type { Forge } from '../../../registry/forge/forge.ts';

/** Where a local result stands: not submitted, or its PR's state. */
export async function submission(forge: Forge, result: LocalResult): Promise<string> {
  if (!result.submitted) return 'not submitted';
  const pull = await forge.getPull(result.submitted.pull).catch(() => undefined);
  if (!pull) return `submitted in #${result.submitted.pull}`;
  return `#${pull.number} ${pull.state === 'open' ? 'pending' : pull.state === 'merged' ? 'in the registry' : 'rejected'}`;
}

export class ResultLsCommand extends BaseCommand {
  static override paths = [['result', 'ls']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'List the results on this machine and whether they were submitted',
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
      printList(this.context, rows, {
        json: this.json,
        asJson: ({ result, state }) => ({ id: result.id, benchmark: result.benchmark, model: result.model, dataset: result.dataset, partial: result.partial, executed_at: result.executed_at, submission: state, metrics: result.metrics }),
        empty: 'No results here. Run a benchmark with `medperf-git run -b BENCHMARK -d DATASET`.',
        head: ['id', 'benchmark', 'model', 'dataset', 'partial', 'executed at', 'submission'],
        row: ({ result: r, state }) => [r.id, r.benchmark, r.model, r.dataset, r.partial ? 'yes' : 'no', r.executed_at, state],
      });
      return 0;
    });
  }
}
