import { Command, Option } from 'clipanion';
import type { RegistrySpec } from '../../../registry/forge/select.ts';
import { parseRegistry, readProfile, resolveRegistry, writeProfile } from '../../profile.ts';
import { BaseCommand } from '../../base.ts';

export class RegistryUseCommand extends BaseCommand {
  static override paths = [['registry', 'use']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Choose the registry (and local login) later commands use',
    details: `
      The registry is \`owner/repo\` on GitHub (\`https://HOST/owner/repo\` on GitHub Enterprise
      Server), or the folder of a local registry. It is remembered in the profile of the state
      directory; \`--registry\` and \`$MEDPERF_GIT_REGISTRY\` override it for one command. With
      \`--as\`, the login to act as on a local registry is remembered too. Without a registry,
      prints the current choice.
    `,
    examples: [
      ['Use a registry on GitHub', '$0 registry use mlcommons/medperf-registry'],
      ['Use a local registry as its admin', '$0 registry use ./tutorial-registry --as admin'],
      ['Show the registry in use', '$0 registry use'],
    ],
  });

  target = Option.String({ name: 'registry', required: false });

  async execute(): Promise<number> {
    const cwd = this.context.cwd;
    if (this.target) {
      const spec = parseRegistry(this.target, this.context.env, cwd);
      const profile = await readProfile(this.stateDir);
      profile.registry = spec.kind === 'local' ? spec.root : /^https?:/.test(this.target) ? this.target : `github:${spec.owner}/${spec.repo}`;
      if (this.as) profile.login = this.as;
      await writeProfile(this.stateDir, profile);
      this.print(`Using ${describe(spec)}.`);
      if (spec.kind === 'local' && profile.login) this.print(`Acting as ${profile.login} on it.`);
      return 0;
    }
    const { spec, source } = await resolveRegistry({ registry: this.registry, env: this.context.env, stateDir: this.stateDir, cwd });
    const profile = await readProfile(this.stateDir);
    this.print(`Using ${describe(spec)} (from ${source === 'default' ? 'the default' : source}).`);
    if (spec.kind === 'local' && profile.login) this.print(`Acting as ${profile.login} on it.`);
    return 0;
  }
}

function describe(spec: RegistrySpec): string {
  return spec.kind === 'local'
    ? `the local registry at ${spec.root}`
    : `the GitHub registry ${spec.owner}/${spec.repo}${spec.serverUrl === 'https://github.com' ? '' : ` on ${spec.serverUrl}`}`;
}
