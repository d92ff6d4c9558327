// The forge a command works through, chosen from its --registry and --as options, the environment
// and the profile (profile.ts). Commands that submit, associate, approve or run call
// `forgeFor(this)` and release it with `dispose()` when done.
import { UsageError } from 'clipanion';
import type { Forge, PullRequest } from '../registry/forge/forge.ts';
import { APPROVAL_STATUS } from '../registry/forge/forge.ts';
import { type OpenForgeOptions, openForge } from './profile.ts';
import type { BaseCommand } from './base.ts';

/** Tests of the local forge may pass their own validation and gate through the context. */
export type ForgeContextExtras = { forgeChecks?: OpenForgeOptions['checks']; forgeGithub?: OpenForgeOptions['github'] };

export function forgeFor(command: BaseCommand): Promise<Forge> {
  const context = command.context as typeof command.context & ForgeContextExtras;
  return openForge({
    registry: command.registry,
    as: command.as,
    env: context.env,
    stateDir: command.stateDir,
    cwd: context.cwd,
    checks: context.forgeChecks,
    github: context.forgeGithub,
  });
}

/** `open (pending)`, `merged (approved)`, `closed (rejected)`: GitHub's word and MedPerf's. */
export function describeState(pull: PullRequest): string {
  return `${pull.state} (${APPROVAL_STATUS[pull.state].toLowerCase()})`;
}

/** Runs `fn` with the command's forge and releases it afterwards. */
export async function withForge<T>(command: BaseCommand, fn: (forge: Forge) => Promise<T>): Promise<T> {
  const forge = await forgeFor(command);
  try {
    return await fn(forge);
  } finally {
    await forge.dispose();
  }
}

/** A pull request number as typed (`3` or `#3`). */
export function pullNumber(text: string): number {
  const m = /^#?([1-9][0-9]*)$/.exec(text.trim());
  if (!m) throw new UsageError(`not a pull request number: ${text}`);
  return Number(m[1]);
}
