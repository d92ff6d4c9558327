import { Command, Option } from 'clipanion';
import * as t from 'typanion';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { gatherNeeds, removable, removeAll } from '../../storage.ts';
import { confirmOrCancel, formatBytes, statusLine, table } from '../../ui.ts';

export class StorageCleanupCommand extends BaseCommand {
  static override paths = [['storage', 'cleanup']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Remove from the state directory what no registered record and no unfinished run needs (asks first)',
    details: `
      Lists, with sizes and reasons, what may go: downloads no record pins (records on main and in
      open pull requests count), cube folders of versions no record pins, predictions of
      executions whose result the registry holds, prepared datasets neither registered nor in an
      open pull request, what interrupted tasks of stopped processes left, finished compatibility
      tests, and logs older than \`--logs-days\`. Local results, unfinished executions, a rerun in
      progress, cluster jobs and the local registry are never removed. Then it asks; \`--dry-run\`
      only lists, \`--yes\` removes without asking.
    `,
    examples: [
      ['See what would go', '$0 storage cleanup --dry-run'],
      ['Remove it, keeping a week of logs', '$0 storage cleanup --logs-days 7'],
    ],
  });

  dryRun = Option.Boolean('--dry-run', false, { description: 'Only list what would be removed' });
  logsDays = Option.String('--logs-days', '30', {
    description: 'Remove task logs older than this many days (default 30)',
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(0)]),
  });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const status = statusLine(this.context, { quiet: this.json });
      status.update('reading what the registry\'s records need');
      const needs = await gatherNeeds(forge, this.stateDir);
      const items = await removable(this.stateDir, needs, { logsDays: this.logsDays });
      status.done();
      const bytes = items.reduce((sum, i) => sum + i.bytes, 0);
      if (!items.length) {
        if (this.json) this.printJson({ removed: [], bytes: 0, dry_run: this.dryRun });
        else this.print('Nothing to remove: every file in the state directory is needed.');
        return 0;
      }
      if (!this.json) {
        this.print(table(['area', 'size', 'path', 'why'], items.map((i) => [i.area, formatBytes(i.bytes), i.path, i.reason])));
        this.print(`${items.length} item(s), ${formatBytes(bytes)}.`);
      }
      if (this.dryRun) {
        if (this.json) this.printJson({ removable: items, bytes, dry_run: true });
        else this.print('Nothing was removed (--dry-run).');
        return 0;
      }
      await confirmOrCancel(this.context, `Remove these ${items.length} item(s) (${formatBytes(bytes)})?`, { yes: this.yes });
      const freed = await removeAll(items);
      if (this.json) this.printJson({ removed: items, bytes: freed, dry_run: false });
      else this.print(`Removed ${items.length} item(s), ${formatBytes(freed)} freed.`);
      return 0;
    });
  }
}
