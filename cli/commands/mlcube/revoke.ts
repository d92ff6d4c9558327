import { Command, Option } from 'clipanion';
import { MedperfError } from '../../../registry/errors.ts';
import { paths, sameLogin } from '../../../registry/layout.ts';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { qualify } from '../../main-branch.ts';
import { mainView, registeredCube, requireLogin } from '../../preconditions.ts';
import { confirmOrCancel, pullLine } from '../../ui.ts';

export class MlcubeRevokeCommand extends BaseCommand {
  static override paths = [['mlcube', 'revoke']];
  static override usage = Command.Usage({
    category: 'Model owner',
    description: 'Remove grants of a private model\'s key, in one pull request',
    details: `
      Opens a pull request deleting mlcubes/<you>/<model>/grants/<login>.yaml for each login: once
      it is merged, their \`run\` of the model stops before anything runs. What a data owner
      decrypted before stays on their machine, and the grant stays in the registry's history: to
      keep a revoked data owner out of later weights, submit them as a new private model (a new key).
    `,
    examples: [['Revoke a data owner\'s grant', '$0 mlcube revoke -m chestxray-mobilenet --from data-owner']],
  });

  model = Option.String('--model,-m', { required: true, description: 'Your private model (owner/name, or name)' });
  from = Option.Array('--from', { required: true, description: 'A login whose grant is removed (repeatable)' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const login = requireLogin(forge);
      const id = qualify(this.model, login, '--model');
      const view = await mainView(forge, [`mlcubes/${id.split('/')[0]}/`]);
      const cube = (await registeredCube(forge, view, id)).data;
      const owners = [id.split('/')[0]!, ...(cube.owners ?? [])];
      if (!owners.some((o) => sameLogin(o, login))) {
        throw new MedperfError('not-the-owner', `only the owner${owners.length > 1 ? 's' : ''} of ${id} (${owners.join(', ')}) ${owners.length > 1 ? 'grant or revoke' : 'grants or revokes'} its key; ${login} is not`);
      }
      const files = [];
      const missing: string[] = [];
      for (const who of this.from) {
        const path = paths.modelGrant(id, who);
        if (await view.tree.has(path)) files.push({ path, content: null });
        else missing.push(who);
      }
      if (missing.length) {
        throw new MedperfError('not-granted', `${id} is not granted to ${missing.join(', ')} on the registry's main branch (no ${missing.map((w) => paths.modelGrant(id, w)).join(', ')}); nothing was revoked`);
      }
      if (!this.json) {
        this.print(`Revoking the grants of ${id} to ${this.from.join(', ')}:`);
        for (const f of files) this.print(`  delete ${f.path}`);
      }
      await confirmOrCancel(this.context, `Open a pull request on ${forge.registry} deleting ${files.length === 1 ? 'this grant' : 'these grants'}?`, { yes: this.yes }, 'Nothing revoked');
      const { pull, created } = await forge.propose({
        key: `revoke/${id}`,
        title: `Revoke ${id} from ${this.from.join(', ')}`,
        body: `Removes the grants of the private model \`${id}\` to ${this.from.join(', ')}. Opened by medperf-git.`,
        files,
      });
      if (this.json) this.printJson({ model: id, revoked: this.from, pull: pull.number, url: pull.url, created });
      else {
        this.print(pullLine(pull, created));
        this.print(
          `It needs no reviewer: once it is merged${forge.kind === 'local' ? ` (\`medperf-git pr merge ${pull.number}\`)` : ''}, their runs of ${id} stop. ` +
            'What they decrypted before stays with them; later weights go in a new private model.',
        );
      }
      return 0;
    });
  }
}
