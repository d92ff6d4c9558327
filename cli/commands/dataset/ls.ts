import { Command, Option } from 'clipanion';
import { parseRecordPath, paths, sameLogin } from '../../../registry/layout.ts';
import { BaseCommand } from '../../base.ts';
import { withMain } from '../../main-branch.ts';
import { listLocalDatasets } from '../../datasets.ts';
import { withForge } from '../../forge.ts';
import { printList } from '../../ui.ts';

interface Row {
  id: string;
  name: string;
  state: string;
  data_preparation_mlcube: string;
  registration: string;
  prepared_here: boolean;
}

export class DatasetLsCommand extends BaseCommand {
  static override paths = [['dataset', 'ls']];
  static override usage = Command.Usage({
    category: 'Data owner',
    description: 'List datasets: registered (main), pending (open pull requests) and prepared here',
    examples: [
      ['Every dataset', '$0 dataset ls'],
      ['Only yours, as JSON lines', '$0 dataset ls --mine --json'],
    ],
  });

  mine = Option.Boolean('--mine', false, { description: 'Only datasets you own' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const local = new Map((await listLocalDatasets(this.stateDir)).map((d) => [d.id, d]));
      const rows = new Map<string, Row>();
      await withMain(forge, async (view) => {
        for (const path of await view.tree.list('datasets/')) {
          const where = parseRecordPath(path);
          if (where?.kind !== 'dataset') continue;
          const rec = await view.dataset(where.id);
          if (!rec) continue;
          rows.set(where.id, { id: where.id, name: rec.data.name, state: rec.data.state, data_preparation_mlcube: rec.data.data_preparation_mlcube, registration: 'registered', prepared_here: Boolean(local.get(where.id)?.generated_uid) });
        }
      });
      for (const pull of await forge.listPulls({ state: 'open', paths: ['datasets/'] })) {
        for (const path of pull.paths) {
          const where = parseRecordPath(path);
          if (where?.kind !== 'dataset') continue;
          const row = rows.get(where.id);
          if (row) row.registration += `, update pending #${pull.number}`;
          else {
            const l = local.get(where.id);
            rows.set(where.id, { id: where.id, name: where.name, state: l?.record.state ?? 'development', data_preparation_mlcube: l?.data_preparation_mlcube ?? '', registration: `pending #${pull.number}`, prepared_here: Boolean(l?.generated_uid) });
          }
        }
      }
      for (const l of local.values()) {
        if (!rows.has(l.id)) rows.set(l.id, { id: l.id, name: l.record.name, state: l.record.state, data_preparation_mlcube: l.data_preparation_mlcube, registration: 'not submitted', prepared_here: Boolean(l.generated_uid) });
      }
      let list = [...rows.values()].sort((a, b) => a.id.localeCompare(b.id));
      if (this.mine) list = list.filter((r) => sameLogin(r.id.split('/')[0]!, forge.login));
      printList(this.context, list, {
        json: this.json,
        asJson: (r) => ({ ...r, path: paths.dataset(r.id) }),
        empty: 'No datasets. Register one with `medperf-git dataset submit`.',
        head: ['id', 'name', 'state', 'data preparator', 'registration', 'prepared here'],
        row: (r) => [r.id, r.name, r.state, r.data_preparation_mlcube, r.registration, r.prepared_here ? 'yes' : 'no'],
      });
      return 0;
    });
  }
}
