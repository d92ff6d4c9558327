import { Command, Option } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { initIdentity } from '../../keys.ts';
import { keyValues } from '../../ui.ts';

export class KeysInitCommand extends BaseCommand {
  static override paths = [['keys', 'init']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Make your keys: an age identity (to read results encrypted for you) and an Ed25519 key (to sign your results)',
    details: `
      The private halves stay in the state directory (\`keys/<login>/\`, readable by you alone) and are
      never printed or sent; keep a backup of that folder. Publish the public halves with
      \`medperf-git keys publish\`. Keys that exist are kept; \`--rotate\` makes new ones (the old ones
      move to \`keys/<login>/retired/\`), which you then publish as the next version of your record:
      results signed with the old key still verify.
    `,
    examples: [
      ['Make your keys', '$0 keys init'],
      ['Replace them (a lost or leaked key)', '$0 keys init --rotate'],
    ],
  });

  rotate = Option.Boolean('--rotate', false, { description: 'Make new keys even when you have some (the old ones are kept under retired/)' });

  async execute(): Promise<number> {
    const login = await withForge(this, async (forge) => forge.login);
    const { identity, created, retired } = await initIdentity(this.stateDir, login, { rotate: this.rotate });
    if (this.json) {
      this.printJson({ login, created, ...identity.keys, ...(retired ? { retired } : {}) });
      return 0;
    }
    this.print(created ? `Made the keys of ${login} in ${identity.dir} (readable by you alone; keep a backup).` : `${login} has keys already, in ${identity.dir}; \`--rotate\` makes new ones.`);
    if (retired) this.print(`The previous keys are kept in ${retired}.`);
    this.print(keyValues([
      ['age recipient', identity.keys.age_recipient],
      ['signing key', identity.keys.signing_key],
    ]));
    this.print('Publish them with `medperf-git keys publish`.');
    return 0;
  }
}
