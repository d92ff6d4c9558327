import { Command, Option, UsageError } from 'clipanion';
import { parseRecordPath } from '../../../registry/layout.ts';
import { loadRecord } from '../../../registry/load.ts';
import type { CubeRecord } from '../../../registry/records.ts';
import { BaseCommand } from '../../base.ts';
import { mainView, requireLogin } from '../../preconditions.ts';
import { withForge } from '../../forge.ts';
import { CUBE_KINDS } from '../../cube/assets.ts';
import { printList } from '../../ui.ts';

export interface CubeListing {
  id: string;
  name?: string;
  kind?: CubeRecord['kind'];
  state?: CubeRecord['state'];
  /** registered: on main; pending: an open pull request adds it. */
  status: 'registered' | 'pending';
  pull?: number;
}

export class MlcubeLsCommand extends BaseCommand {
  static override paths = [['mlcube', 'ls']];
  static override usage = Command.Usage({
    category: 'Model owner',
    description: 'List the registered MLCubes (and those pending registration)',
    details: `
      Registered cubes are on the registry's main branch; pending ones are in open pull requests.
      \`--mine\` keeps the cubes you own.
    `,
    examples: [
      ['List every cube', '$0 mlcube ls'],
      ['List your models as JSON lines', '$0 mlcube ls --mine --kind model --json'],
    ],
  });

  mine = Option.Boolean('--mine', false, { description: 'Only the cubes you own' });
  kind = Option.String('--kind', { description: 'Only cubes of this kind: data-preparator, model or metrics' });

  async execute(): Promise<number> {
    if (this.kind && !(CUBE_KINDS as readonly string[]).includes(this.kind)) {
      throw new UsageError(`--kind must be one of ${CUBE_KINDS.join(', ')}, not ${this.kind}`);
    }
    const cubes = await withForge(this, async (forge) => {
      const login = this.mine ? requireLogin(forge) : undefined;
      const view = await mainView(forge, ['mlcubes/']);
      const out = new Map<string, CubeListing>();
      for (const path of await view.tree.list('mlcubes/')) {
        const where = parseRecordPath(path);
        if (where?.kind !== 'cube') continue;
        const record = (await view.cube(where.id))?.data;
        if (login && where.owner !== login && !(record?.owners ?? []).includes(login)) continue;
        out.set(where.id, { id: where.id, name: record?.name, kind: record?.kind, state: record?.state, status: 'registered' });
      }
      for (const pull of await forge.listPulls({ state: 'open', paths: ['mlcubes/'] })) {
        for (const path of pull.paths) {
          const where = parseRecordPath(path);
          if (where?.kind !== 'cube' || out.has(where.id)) continue;
          if (login && where.owner !== login) continue;
          const bytes = await (await forge.pullTree(pull.number)).read(path);
          const record = bytes ? (loadRecord(path, bytes).record?.data as CubeRecord | undefined) : undefined;
          out.set(where.id, { id: where.id, name: record?.name, kind: record?.kind, state: record?.state, status: 'pending', pull: pull.number });
        }
      }
      return [...out.values()].filter((c) => !this.kind || c.kind === this.kind).sort((a, b) => a.id.localeCompare(b.id));
    });
    printList(this.context, cubes, {
      json: this.json,
      empty: this.mine ? 'You have no cubes in this registry.' : 'No cubes in this registry.',
      head: ['ID', 'NAME', 'KIND', 'STATE', 'STATUS'],
      row: (c) => [c.id, c.name, c.kind, c.state, c.status === 'pending' ? `pending (#${c.pull})` : c.status],
    });
    return 0;
  }
}
