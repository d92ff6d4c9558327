import { Command, Option, UsageError } from 'clipanion';
import * as t from 'typanion';
import { GitHubForge } from '../../../registry/forge/github.ts';
import { GITHUB_ACTIONS_APP_ID } from '../../../registry/protection.ts';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';

export class RegistryProtectCommand extends BaseCommand {
  static override paths = [['registry', 'protect']];
  static override usage = Command.Usage({
    category: 'Admin',
    description: "Apply the registry's protection on GitHub: required checks pinned to the Actions app, merge settings, Pages",
    details: `
      Protects the repository's default branch so that only the registry's own workflows can let a
      pull request merge: the \`validate\` check run and the \`medperf-git/approval\` status are
      required, each from the GitHub Actions app (a collaborator posting the status with their own
      token unlocks nothing); pull requests must be up to date with the branch; approvals are
      dismissed when new commits are pushed; administrators are held to it. Merge commits are the
      one merge method, auto-merge is allowed (for the gate), and Pages is built by GitHub Actions.

      It changes only what differs and says what it changed; a second run changes nothing. It
      needs an admin's token. On GitHub Enterprise Server, give the Actions app's id there with
      \`--app-id\`.
    `,
    examples: [
      ['Protect a registry', '$0 registry protect mlcommons/medperf-registry'],
      ['On GitHub Enterprise Server', 'GITHUB_API_URL=https://ghe.example.org/api/v3 GITHUB_SERVER_URL=https://ghe.example.org $0 registry protect org/registry --app-id 2'],
    ],
  });

  target = Option.String({ name: 'owner/repo' });
  appId = Option.String('--app-id', String(GITHUB_ACTIONS_APP_ID), {
    description: `The id of the app whose checks are required: GitHub Actions (${GITHUB_ACTIONS_APP_ID} on github.com)`,
    validator: t.cascade(t.isNumber(), [t.isInteger(), t.isAtLeast(1)]),
  });

  async execute(): Promise<number> {
    this.registry = this.target;
    const changes = await withForge(this, async (forge) => {
      if (!(forge instanceof GitHubForge)) throw new UsageError(`${this.target} is not a GitHub repository: a local registry's merge runs every check itself`);
      return { registry: forge.registry, changes: await forge.protect(Number(this.appId)) };
    });
    if (this.json) {
      this.printJson({ registry: changes.registry, changed: changes.changes.map((c) => c.line) });
      return 0;
    }
    if (!changes.changes.length) {
      this.print(`${changes.registry} is already protected as a registry needs; nothing changed.`);
      return 0;
    }
    this.print(`Changed on ${changes.registry}:`);
    for (const c of changes.changes) this.print(`  ${c.line}`);
    return 0;
  }
}
