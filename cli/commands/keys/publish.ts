import { Command } from 'clipanion';
import { personRecordFor } from '../../../registry/identity.ts';
import { paths } from '../../../registry/layout.ts';
import { BaseCommand } from '../../base.ts';
import { withMain } from '../../main-branch.ts';
import { withForge } from '../../forge.ts';
import { noKeysError, readIdentity } from '../../keys.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { confirmOrCancel, indent, pullLine } from '../../ui.ts';

export class KeysPublishCommand extends BaseCommand {
  static override paths = [['keys', 'publish']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Publish the public halves of your keys as your record, people/<login>.yaml, in a pull request',
    details: `
      Shows the record and opens a pull request adding it; only you may add or change it, and it needs
      no reviewer. After \`keys init --rotate\` it publishes the next version of the record, which
      keeps every earlier signing key so the results signed with them still verify. Private keys are
      never sent.
    `,
    examples: [['Publish your keys', '$0 keys publish']],
  });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const login = forge.login;
      const identity = await readIdentity(this.stateDir, login);
      if (!identity) throw noKeysError(login, ', then `medperf-git keys publish`');
      const path = paths.person(login);
      const published = await withMain(forge, async (view) => (await view.person(login))?.data);
      const record = personRecordFor(identity.keys, published);
      if (!record) {
        if (this.json) this.printJson({ login, path, version: published!.version, published: true, pull: null });
        else this.print(`Your keys are published already: ${path}, version ${published!.version}.`);
        return 0;
      }
      const content = recordYaml('person', path, record);
      if (!this.json) {
        this.print(`${published ? `Rotating the keys of ${login} (version ${record.version})` : `Publishing the keys of ${login}`} (${path}, public halves only):`);
        this.print(indent(content.split('\n').slice(1).join('\n').trimEnd()));
      }
      await confirmOrCancel(this.context, `Open a pull request on ${forge.registry} ${published ? 'updating' : 'adding'} this record?`, { yes: this.yes }, 'Not published');
      const { pull, created } = await forge.propose({
        key: `keys/${login.toLowerCase()}`,
        title: `Keys of ${login}${published ? ` (version ${record.version})` : ''}`,
        body: [
          `The public halves of ${login}'s keys: the age recipient results for ${login} are encrypted to, and the Ed25519 key that verifies the results ${login} signs.`,
          '',
          published ? `A rotation: version ${record.version}, keeping every earlier signing key so results signed before it still verify.` : 'Only this login may add or change this record; it needs no reviewer.',
          '',
          'Opened by medperf-git.',
        ].join('\n'),
        files: [{ path, content }],
      });
      if (this.json) this.printJson({ login, path, version: record.version, published: false, pull: pull.number, url: pull.url, created });
      else {
        this.print(pullLine(pull, created));
        this.print(`It needs no reviewer: once the checks pass, merge it (\`medperf-git pr merge ${pull.number}\`); then results you submit are signed with this key.`);
      }
      return 0;
    });
  }
}
