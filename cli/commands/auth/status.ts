import { Command } from 'clipanion';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';

export class AuthStatusCommand extends BaseCommand {
  static override paths = [['auth', 'status']];
  static override usage = Command.Usage({
    category: 'Everyone',
    description: 'Say who you are on the registry and what you may do there',
    details: `
      On GitHub: the login of the token (from \`$GITHUB_TOKEN\`, \`$GH_TOKEN\` or the GitHub CLI's
      stored login), its permission on the registry and the token's scopes. The token itself is
      never printed. On a local registry: the login you act as.
    `,
    examples: [
      ['Check your GitHub login', '$0 auth status'],
      ['Check a local login', '$0 auth status --as alice'],
    ],
  });

  async execute(): Promise<number> {
    const { registry, kind, status } = await withForge(this, async (forge) => ({
      registry: forge.registry,
      kind: forge.kind,
      status: await forge.authStatus(),
    }));
    if (this.json) {
      this.printJson({ registry, forge: kind, ...status });
      return 0;
    }
    this.print(`Registry:   ${kind === 'local' ? `local registry at ${registry}` : `${registry} on GitHub`}`);
    this.print(`Logged in:  ${status.login} (${status.source})`);
    this.print(`Permission: ${status.permission}`);
    if (kind === 'github') {
      this.print(`Scopes:     ${status.scopes === undefined ? 'not reported (fine-grained token or app)' : status.scopes.join(', ') || 'none'}`);
    }
    return 0;
  }
}
