import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { qualify, withMain } from '../../main-branch.ts';
import { readLocalDataset, recomputeGeneratedUid } from '../../datasets.ts';
import { MedperfError } from '../../../registry/errors.ts';
import { withForge } from '../../forge.ts';
import { keyValues, statusLine } from '../../ui.ts';

export class DatasetCheckCommand extends BaseCommand {
  static override paths = [['dataset', 'check']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'Recompute the prepared data\'s generated_uid and compare it with the record',
    details: `
      Hashes the prepared data and labels again (MedPerf's folder hash) and compares the result with
      what was computed at preparation and with the registry's record. Exits with 1 on a mismatch.
    `,
    examples: [['Check your prepared dataset', '$0 dataset check -d hospital-a']],
  });

  dataset = Option.String('--dataset,-d', { required: true, description: 'The dataset: name, or owner/name' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const id = qualify(this.dataset, forge.login, '--dataset');
      const local = await readLocalDataset(this.stateDir, id);
      if (!local.generated_uid) throw new MedperfError('not-prepared', `the dataset ${id} is not prepared yet; run \`medperf-git dataset prepare -d ${id}\``);
      const registered = await withMain(forge, async (view) => (await view.dataset(id))?.data);
      const status = statusLine(this.context, { quiet: this.json });
      status.update('hashing the prepared data and labels');
      const now = await recomputeGeneratedUid(this.stateDir, id);
      status.done();
      const recordUid = registered && registered.state === 'operational' ? registered.generated_uid : undefined;
      const ok = now === local.generated_uid && (recordUid === undefined || recordUid === now);
      if (this.json) this.printJson({ id, ok, generated_uid: now, prepared: local.generated_uid, record: recordUid });
      else {
        this.print(keyValues([
          ['generated_uid now', now],
          ['at preparation', local.generated_uid],
          ['in the registry', recordUid ?? (registered ? 'not yet (in development)' : 'not registered')],
        ]));
        this.print(ok ? `OK: the prepared data of ${id} is unchanged.` : `MISMATCH: the prepared data of ${id} changed; prepare it again (results from it would not match the registered dataset).`);
      }
      return ok ? 0 : 1;
    });
  }
}
