import { Command } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { storageUsage } from '../../storage.ts';
import { formatBytes, table } from '../../ui.ts';

export class StorageLsCommand extends BaseCommand {
  static override paths = [['storage', 'ls']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Show what the state directory holds: downloads, cube folders, prepared datasets, predictions, results, logs; and their sizes',
    details: `
      Lists each area of the state directory (\`~/.medperf-git\`, or \`$MEDPERF_GIT_HOME\`) with its
      size and number of files. \`medperf-git storage cleanup\` shows what of it may be removed.
    `,
    examples: [['What takes the space', '$0 storage ls']],
  });

  async execute(): Promise<number> {
    const usage = await storageUsage(this.stateDir);
    const total = usage.reduce((sum, u) => sum + u.bytes, 0);
    if (this.json) {
      this.printJson({ root: this.stateDir, bytes: total, areas: usage });
      return 0;
    }
    this.print(`State directory: ${this.stateDir}`);
    this.print(table(['area', 'size', 'files', 'holds'], [...usage.map((u) => [u.area, formatBytes(u.bytes), u.files, u.what]), ['total', formatBytes(total), usage.reduce((n, u) => n + u.files, 0), '']]));
    this.print('What of it no record needs: `medperf-git storage cleanup` (it asks before removing anything).');
    return 0;
  }
}
