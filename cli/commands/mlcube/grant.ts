import { Command, Option, UsageError } from 'clipanion';
import { MedperfError } from '../../../registry/errors.ts';
import { paths, sameLogin } from '../../../registry/layout.ts';
import { approvedDataOwners, grantRecord, planGrants } from '../../../registry/model-keys.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import { BaseCommand, exclusiveOptions } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { qualify } from '../../main-branch.ts';
import { approvedBenchmark, mainView, registeredCube, requireLogin } from '../../preconditions.ts';
import { modelKeyFile, readModelKey } from '../../private-models.ts';
import { confirmOrCancel, pullLine } from '../../ui.ts';

export class MlcubeGrantCommand extends BaseCommand {
  static override paths = [['mlcube', 'grant']];
  static override usage = Command.Usage({
    category: 'Model owner',
    description: 'Grant a private model\'s key to data owners, in one pull request',
    details: `
      Wraps the key of your private model (made by \`mlcube submit --private\`, kept in your state
      directory) to each data owner's published age recipient (people/<login>.yaml) and opens one
      pull request adding their grants, mlcubes/<you>/<model>/grants/<login>.yaml. Only you may add
      or remove them, and they need no reviewer. A granted data owner's \`run\` and \`dataset
      associate\` decrypt the model on their machine.

      \`--benchmark BENCH --approved\` grants every data owner whose dataset association with the
      benchmark is merged (MedPerf's auto-grant); run it again as more datasets join. Logins who
      have a grant to their current key already are left as they are; a grant to a key they have
      since rotated is renewed.

      A grant is public: anyone who reads the registry sees that the login was granted the model,
      and the recipient it was wrapped to. Only that login's identity opens it.
    `,
    examples: [
      ['Grant your model to one data owner', '$0 mlcube grant -m chestxray-mobilenet --to data-owner'],
      ['Grant it to every data owner approved for a benchmark', '$0 mlcube grant -m chestxray-mobilenet --benchmark chestxray --approved'],
    ],
  });

  static override schema = [exclusiveOptions(['to', 'benchmark'], 'give either --to LOGIN or --benchmark BENCHMARK --approved, not both')];

  model = Option.String('--model,-m', { required: true, description: 'Your private model (owner/name, or name)' });
  to = Option.Array('--to', { description: 'A login to grant the model to (repeatable)' });
  benchmark = Option.String('--benchmark,-b', { description: 'Grant every data owner whose dataset association with this benchmark is merged (with --approved)' });
  approved = Option.Boolean('--approved', false, { description: 'With --benchmark: the data owners of its approved datasets' });

  async execute(): Promise<number> {
    if (!this.to?.length && !this.benchmark) throw new UsageError('say whom to grant: --to LOGIN, or --benchmark BENCHMARK --approved');
    if (this.benchmark && !this.approved) throw new UsageError('--benchmark grants the data owners of its approved datasets: add --approved');
    if (this.approved && !this.benchmark) throw new UsageError('--approved goes with --benchmark BENCHMARK');
    return withForge(this, async (forge) => {
      const login = requireLogin(forge);
      const id = qualify(this.model, login, '--model');
      const view = await mainView(forge, [`mlcubes/${id.split('/')[0]}/`, 'people/', ...(this.benchmark ? [`benchmarks/${this.benchmark}/`] : [])]);
      const cube = (await registeredCube(forge, view, id)).data;
      const owners = [id.split('/')[0]!, ...(cube.owners ?? [])];
      if (!owners.some((o) => sameLogin(o, login))) {
        throw new MedperfError('not-the-owner', `only the owner${owners.length > 1 ? 's' : ''} of ${id} (${owners.join(', ')}) ${owners.length > 1 ? 'grant or revoke' : 'grants or revokes'} its key; ${login} is not`);
      }
      if (!cube.private) throw new MedperfError('model-not-private', `the model ${id} is not private: its files are not encrypted, so anyone may run it and there is no key to grant`);
      const key = await readModelKey(this.stateDir, id);
      if (!key) {
        throw new MedperfError(
          'model-key-missing',
          `the key of ${id} is not on this machine (${modelKeyFile(this.stateDir, id)}): grants are made where the model was submitted with --private, or where its key was restored from a backup`,
        );
      }
      if (key.recipient !== cube.private.age_recipient) {
        throw new MedperfError('model-key-differs', `the key of ${id} on this machine (${modelKeyFile(this.stateDir, id)}) is not the one its record pins (${cube.private.age_recipient}); nothing was granted`);
      }
      let logins: string[];
      if (this.benchmark) {
        await approvedBenchmark(forge, view, this.benchmark);
        logins = await approvedDataOwners(view, this.benchmark);
      } else logins = this.to!;
      const plan = await planGrants(view, id, logins);
      if (plan.noKeys.length && !this.benchmark) {
        throw new MedperfError(
          'grantee-no-keys',
          `${plan.noKeys.join(', ')} ${plan.noKeys.length === 1 ? 'has' : 'have'} no published key (${plan.noKeys.map((l) => paths.person(l)).join(', ')}): ` +
            'they run `medperf-git keys init` and `medperf-git keys publish` (merged), then grant again; nothing was granted',
        );
      }
      const files = await Promise.all(
        plan.grant.map(async (g) => {
          const path = paths.modelGrant(id, g.login);
          return { path, content: recordYaml('model-grant', path, await grantRecord(key, g.recipient)) };
        }),
      );
      const json = { model: id, granted: plan.grant.map((g) => g.login), already: plan.already, noKeys: plan.noKeys };
      if (!this.json) {
        if (plan.already.length) this.print(`Granted already: ${plan.already.join(', ')}.`);
        if (plan.noKeys.length) this.print(`Not granted, for want of a published key (they run \`medperf-git keys publish\`, then you grant again): ${plan.noKeys.join(', ')}.`);
      }
      if (!files.length) {
        if (this.json) this.printJson({ ...json, pull: null });
        else this.print(this.benchmark && !logins.length ? `No dataset is approved for ${this.benchmark} yet; nobody to grant.` : 'Nothing to grant.');
        return 0;
      }
      if (!this.json) {
        this.print(`Granting the key of ${id} to ${plan.grant.map((g) => `${g.login}${g.renewed ? ' (renewed: their key changed)' : ''}`).join(', ')}:`);
        for (const f of files) this.print(`  ${f.path}`);
        this.print('Each grant is public (who is granted, and to which recipient); only the grantee\'s identity opens it.');
      }
      await confirmOrCancel(this.context, `Open a pull request on ${forge.registry} adding ${files.length === 1 ? 'this grant' : 'these grants'}?`, { yes: this.yes }, 'Nothing granted');
      const names = plan.grant.map((g) => g.login);
      const { pull, created } = await forge.propose({
        key: `grant/${id}`,
        title: `Grant ${id} to ${names.length > 3 ? `${names.slice(0, 3).join(', ')} and ${names.length - 3} more` : names.join(', ')}`,
        body: [
          `Grants the key of the private model \`${id}\` to ${names.join(', ')}${this.benchmark ? ` (the data owners approved for ${this.benchmark})` : ''}: the key, wrapped with age to each grantee's published recipient.`,
          '',
          'Only the model\'s owners may add or remove grants; they need no reviewer. Opened by medperf-git.',
        ].join('\n'),
        files,
      });
      if (this.json) this.printJson({ ...json, pull: pull.number, url: pull.url, created });
      else {
        this.print(pullLine(pull, created));
        this.print(`It needs no reviewer: once the checks pass, merge it${forge.kind === 'local' ? ` (\`medperf-git pr merge ${pull.number}\`)` : ''}; then the grantees run the model.`);
      }
      return 0;
    });
  }
}
