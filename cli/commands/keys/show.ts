import { Command, Option } from 'clipanion';
import { paths } from '../../../registry/layout.ts';
import { BaseCommand } from '../../base.ts';
import { withMain } from '../../main-branch.ts';
import { withForge } from '../../forge.ts';
import { readIdentity } from '../../keys.ts';
import { keyValues } from '../../ui.ts';

export class KeysShowCommand extends BaseCommand {
  static override paths = [['keys', 'show']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Show the public halves of your keys (or of a login\'s published keys), and whether they are published',
    details: `
      Prints the age recipient and the Ed25519 signing key: yours on this machine, and the version of
      people/<login>.yaml on the registry's main branch. Private keys are never shown.
    `,
    examples: [
      ['Your keys', '$0 keys show'],
      ["A data owner's published keys", '$0 keys show --login data-owner'],
    ],
  });

  login = Option.String('--login', { description: 'Show the keys this login published (default: yours)' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const login = this.login ?? forge.login;
      const mine = !this.login || this.login.toLowerCase() === forge.login.toLowerCase();
      const local = mine ? await readIdentity(this.stateDir, login) : undefined;
      const published = await withMain(forge, async (view) => (await view.person(login))?.data);
      const path = paths.person(login);
      const current = Boolean(local && published && published.signing_key === local.keys.signing_key && published.age_recipient === local.keys.age_recipient);
      if (this.json) {
        this.printJson({ login, path, local: local?.keys ?? null, published: published ?? null, current });
        return 0;
      }
      if (mine) {
        if (local) this.print(`The keys of ${login} on this machine (${local.dir}):\n${keyValues([['age recipient', local.keys.age_recipient], ['signing key', local.keys.signing_key]])}`);
        else this.print(`${login} has no keys on this machine: \`medperf-git keys init\` makes them.`);
      }
      if (published) {
        this.print(`Published in ${path}, version ${published.version}${mine && local ? (current ? ' (these keys)' : ' (other keys: run `medperf-git keys publish`)') : ''}:`);
        this.print(keyValues([['age recipient', published.age_recipient], ['signing key', published.signing_key], ['earlier keys', published.earlier_signing_keys?.length ? published.earlier_signing_keys.map((k) => `version ${k.version}`).join(', ') : undefined]]));
      } else this.print(`${login} has published no keys (${path})${mine && local ? ': run `medperf-git keys publish`' : ''}.`);
      return 0;
    });
  }
}
