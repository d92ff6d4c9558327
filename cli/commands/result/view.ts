import { Command, Option } from 'clipanion';
import { metricRows } from '../../../registry/metrics.ts';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { findLocalResult, resultRecord } from '../../results.ts';
import { MedperfError, NotFoundError } from '../../../registry/errors.ts';
import { parseRecordPath } from '../../../registry/layout.ts';
import type { LoadedRecord } from '../../../registry/view.ts';
import { withMain } from '../../main-branch.ts';
import { ENCRYPTED_FOR_THE_COMMITTEE, readerIdentities, readResult } from '../../sealed-results.ts';
import { indent, keyValues, table } from '../../ui.ts';
import { submission } from './ls.ts';

export class ResultViewCommand extends BaseCommand {
  static override paths = [['result', 'view']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Show a local result: its metrics and the record that is (or would be) submitted; or a result of the registry, by its path',
    details: `
      A path (benchmarks/BENCHMARK/results/...) shows that result of the registry's main branch. Under
      a committee-only benchmark its metrics are encrypted: they are opened with your identity when
      you are a recipient (a committee member, its data owner), and shown only when its data owner's
      signature verifies; everyone else is told it is encrypted for the committee.
    `,
    examples: [
      ['Show a result by its local id', '$0 result view 3f2a9c81d0e4'],
      ['Show a result of the registry', '$0 result view benchmarks/chestxray/results/data-owner/hospital-a/model-owner/chestxray-mobilenet.yaml'],
    ],
  });

  id = Option.String({ name: 'result-id' });

  async execute(): Promise<number> {
    if (this.id.includes('/')) return this.viewRegistered(this.id);
    const result = await findLocalResult(this.stateDir, this.id);
    return withForge(this, async (forge) => {
      const state = await submission(forge, result);
      const { path, record } = resultRecord(result, result.submitted?.version ?? 1);
      if (this.json) {
        this.printJson({ id: result.id, submission: state, path, record });
        return 0;
      }
      this.print(keyValues([
        ['result', result.id],
        ['benchmark', result.benchmark],
        ['model', result.model],
        ['dataset', result.dataset],
        ['partial', result.partial ? 'yes' : 'no'],
        ['executed at', result.executed_at],
        ['submission', state],
      ]));
      this.print('Metrics:');
      this.print(indent(table(['metric', 'value'], metricRows(result.metrics))));
      this.print(`Record (${path}):`);
      this.print(indent(recordYaml('result', path, record).trimEnd()));
      return 0;
    });
  }

  /** A result of the registry's main branch, by its path: its metrics opened when they are encrypted and this login may read them. */
  private async viewRegistered(path: string): Promise<number> {
    return withForge(this, (forge) =>
      withMain(forge, async (view) => {
        const where = parseRecordPath(path);
        const rec = where?.kind === 'result' ? ((await view.record(path)) as LoadedRecord<'result'> | undefined) : undefined;
        if (!rec) throw new NotFoundError(`no result ${path} on the registry's main branch; \`medperf-git result ls -b BENCHMARK\` lists a committee-only benchmark's results`);
        const identities = await readerIdentities(this.stateDir, forge.login);
        const reading = await readResult(view, path, rec.data, identities);
        if (!reading.metrics) {
          throw new MedperfError(
            'encrypted-for-the-committee',
            reading.closed === 'no-identity'
              ? `${path} is ${ENCRYPTED_FOR_THE_COMMITTEE}, and ${forge.login || 'you'} ${forge.login ? 'has' : 'have'} no keys on this machine: a committee member or its data owner reads it with their keys (\`medperf-git keys init\` and \`medperf-git keys publish\` make yours)`
              : `${path} is ${ENCRYPTED_FOR_THE_COMMITTEE}: ${forge.login} is not one of its recipients (${rec.data.encrypted_metrics!.recipients.map((r) => (r.site ? 'the site' : r.login)).join(', ')})`,
          );
        }
        if (this.json) {
          this.printJson({ path, record: rec.data, metrics: reading.metrics, encrypted: reading.encrypted });
          return 0;
        }
        this.print(keyValues([
          ['result', path],
          ['benchmark', rec.data.benchmark],
          ['model', rec.data.model],
          ['dataset', rec.data.dataset],
          ['version', String(rec.data.version)],
          ['partial', rec.data.partial ? 'yes' : 'no'],
          ['executed at', rec.data.provenance.executed_at],
          ['read by', reading.encrypted ? 'the committee, the data owner and the site (opened with your key; the data owner\'s signature verifies)' : 'everyone'],
        ]));
        this.print('Metrics:');
        this.print(indent(table(['metric', 'value'], metricRows(reading.metrics))));
        return 0;
      }),
    );
  }
}
