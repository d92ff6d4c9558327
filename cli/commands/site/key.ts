import { Command, Option } from 'clipanion';
import { mkdir, rename } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import writeFileAtomic from 'write-file-atomic';
import { benchmarkNames } from '../../../registry/collections.ts';
import type { Forge } from '../../../registry/forge/forge.ts';
import { LocalForge } from '../../../registry/forge/local.ts';
import { readByCommittee } from '../../../registry/envelope.ts';
import { MedperfError } from '../../../registry/errors.ts';
import { ageSecretOf } from '../../../registry/identity.ts';
import { paths } from '../../../registry/layout.ts';
import { recordYaml } from '../../../registry/record-yaml.ts';
import type { RegistryConfig } from '../../../registry/records.ts';
import { includesLogin } from '../../../registry/rules/ownership.ts';
import { BaseCommand } from '../../base.ts';
import { withForge } from '../../forge.ts';
import { exists, readPrivate } from '../../keys.ts';
import { withMain } from '../../main-branch.ts';
import { confirmOrCancel, indent, pullLine } from '../../ui.ts';

export class SiteKeyError extends MedperfError {}

/** A new site key (an age X25519 identity) in `file`, readable by its owner alone, and its public half. */
export async function makeSiteKey(file: string): Promise<{ identity: string; recipient: string }> {
  const identity = await generateX25519Identity();
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${identity}\n`, { mode: 0o600 });
  return { identity, recipient: await identityToRecipient(identity) };
}

/** What the admin does with the site key file. */
function storeSecret(file: string): string {
  return `Store it as the repository secret MEDPERF_GIT_SITE_KEY (on GitHub: \`gh secret set MEDPERF_GIT_SITE_KEY < ${file}\`) and keep the file safe: it opens every committee-only result.`;
}

/**
 * On a local registry the forge itself keeps the site key, as GitHub keeps the repository secret:
 * its merges open committee-only results with it. Says so; undefined on GitHub.
 */
async function keepWithLocalRegistry(forge: Forge, identity: string): Promise<string | undefined> {
  if (!(forge instanceof LocalForge)) return undefined;
  await forge.storeSiteKey(identity);
  return `The local registry keeps it for the checks its merges run (with any key it replaces, until the results sealed to that one are re-encrypted); keep the file safe: it opens every committee-only result.`;
}

/** The site key's file when --out names none: beside the state folder's other keys. */
export function defaultSiteKeyFile(stateDir: string): string {
  return join(stateDir, 'site-key.txt');
}

export class SiteKeyCommand extends BaseCommand {
  static override paths = [['site', 'key']];
  static override usage = Command.Usage({
    category: 'Admin',
    description: "Make the site key that opens committee-only results for the leaderboard, and propose it as registry.yaml's site_recipient",
    details: `
      Committee-only results are encrypted to the committee, the data owner and the site: the
      registry's site key, which the gate uses to check them and the pages job to publish what each
      benchmark's policy allows. An admin makes it once: this writes the age identity to a file
      readable by you alone (\`--out\`, by default site-key.txt in the state folder; it is never
      printed) and opens a pull request setting registry.yaml's \`site_recipient\` to its public
      half, which another registry admin approves. Store the file as the repository secret
      MEDPERF_GIT_SITE_KEY. Run again, it reuses the file, so an interrupted run picks up where it
      stopped.

      \`--rotate\` replaces the site key registry.yaml names (a key that may have leaked): the old
      file is kept beside the new one as site-key.retired-<time>.txt. Until each committee-only
      benchmark's committee has re-encrypted its results (\`medperf-git result reencrypt -b BENCH\`),
      the secret holds both keys, the new one first, one per line.
    `,
    examples: [
      ['Make the site key and propose it', '$0 site key'],
      ['Replace a site key that may have leaked', '$0 site key --rotate'],
    ],
  });

  out = Option.String('--out', { description: 'The site key file (default: site-key.txt in the state folder)' });
  rotate = Option.Boolean('--rotate', false, { description: 'Replace the site key registry.yaml names with a new one' });

  async execute(): Promise<number> {
    return withForge(this, async (forge) => {
      const login = forge.login;
      const file = resolve(this.out ?? defaultSiteKeyFile(this.stateDir));
      const { config, committeeOnly } = await withMain(forge, async (view) => {
        const config = await view.registryConfig();
        const committeeOnly: string[] = [];
        for (const name of await benchmarkNames(view)) {
          const bench = await view.benchmark(name);
          if (bench && readByCommittee(bench.data)) committeeOnly.push(name);
        }
        return { config, committeeOnly };
      });
      if (!config) {
        throw new SiteKeyError('registry-unreadable', `${paths.registry()} on the main branch of ${forge.registry} is missing or does not load: fix it first (\`medperf-git validate\` says what is wrong); nothing was written`);
      }
      if (!includesLogin(config.admins, login)) {
        throw new SiteKeyError('not-admin', `${login} is not an admin of ${forge.registry} (admins: ${config.admins.join(', ')}): a registry admin makes the site key; nothing was written`);
      }
      const named = config.site_recipient;
      const existing = await this.readKeyFile(file);
      let recipient = existing ? await identityToRecipient(existing) : undefined;

      if (named && !this.rotate && recipient !== named) {
        throw new SiteKeyError(
          'site-key-exists',
          existing
            ? `${file} holds another key than the one registry.yaml names (site_recipient: ${named}): to replace registry.yaml's with it, run \`medperf-git site key --rotate${this.out ? ` --out ${this.out}` : ''}\`; nothing was changed`
            : `registry.yaml names a site key already (site_recipient: ${named}); its secret half is with the admin who made it and in the repository secret MEDPERF_GIT_SITE_KEY. To replace it with a new one, run \`medperf-git site key --rotate\`; nothing was written`,
        );
      }
      if (recipient !== undefined && recipient === named && !this.rotate) {
        const kept = await keepWithLocalRegistry(forge, existing!);
        if (this.json) this.printJson({ file, site_recipient: recipient, pull: null, retired: null });
        else {
          this.print(`registry.yaml names this site key already (site_recipient: ${recipient}).`);
          this.print(kept ?? storeSecret(file));
        }
        return 0;
      }

      // Nothing is written before the admin confirms: a new key (the old file kept beside it on a
      // rotation), then the pull request.
      const path = paths.registry();
      const makeNew = recipient === undefined || recipient === named;
      const retired = makeNew && existing ? join(dirname(file), `site-key.retired-${new Date().toISOString().replace(/[:.]/g, '-')}.txt`) : undefined;
      if (!this.json) {
        if (makeNew) this.print(`A new site key will be made in ${file} (readable by you alone; never printed)${retired ? `; the key it replaces stays in ${retired}` : ''}.`);
        else this.print(`The site key in ${file} is used (site_recipient: ${recipient}).`);
      }
      await confirmOrCancel(
        this.context,
        `${makeNew ? 'Make the site key and open' : 'Open'} a pull request on ${forge.registry} ${named ? 'replacing' : 'setting'} the site_recipient of ${path}?`,
        { yes: this.yes },
        'No site key made or proposed',
      );
      let identity = existing;
      if (makeNew) {
        if (retired) await rename(file, retired);
        ({ identity, recipient } = await makeSiteKey(file));
      }
      const kept = await keepWithLocalRegistry(forge, identity!);
      const next: RegistryConfig = { ...config, site_recipient: recipient! };
      const content = recordYaml('registry', path, next);
      if (!this.json) {
        this.print(`${named ? 'Replacing' : 'Setting'} the site key in ${path}:`);
        this.print(indent(`site_recipient: ${recipient}${named ? `   # was ${named}` : ''}`));
      }
      const secret = kept
        ? kept
        : named
        ? `Set the repository secret MEDPERF_GIT_SITE_KEY to both keys, the new one first, until the committee-only results are re-encrypted (on GitHub: \`cat ${file} ${retired ?? 'OLD-SITE-KEY-FILE'} | gh secret set MEDPERF_GIT_SITE_KEY\`), then to the new one alone.`
        : storeSecret(file);
      const reencrypt = committeeOnly.map((b) => `\`medperf-git result reencrypt -b ${b}\``);
      const { pull, created } = await forge.propose({
        key: 'site-key',
        title: named ? 'Replace the site key' : 'Set the site key',
        body: [
          `Sets \`site_recipient\` in ${path} to \`${recipient}\`: committee-only results are encrypted to it (with the committee and the data owner), and the gate and the pages job open them with its secret half, the repository secret MEDPERF_GIT_SITE_KEY.`,
          '',
          named
            ? `It replaces \`${named}\`. Results encrypted to the old key are reported by full validation until their committee re-encrypts them${reencrypt.length ? ` (${reencrypt.join(', ')})` : ''}; until then the secret holds both keys.`
            : 'A registry admin approves it.',
          '',
          'Opened by medperf-git.',
        ].join('\n'),
        files: [{ path, content }],
      });
      if (this.json) {
        this.printJson({ file, site_recipient: recipient, pull: pull.number, url: pull.url, created, retired: retired ?? null, reencrypt: committeeOnly });
        return 0;
      }
      this.print(pullLine(pull, created));
      this.print(`It needs another registry admin's approval (${config.admins.filter((a) => a.toLowerCase() !== login.toLowerCase()).join(', ') || 'add a second admin to registry.yaml first'}).`);
      this.print(secret);
      if (named && committeeOnly.length) {
        this.print(`Once it is merged, each committee-only benchmark's committee re-encrypts its results to the new key: ${reencrypt.join(', ')}.`);
      }
      return 0;
    });
  }

  /** The identity in the site key file, or undefined when there is no file; refuses anything else. */
  private async readKeyFile(file: string): Promise<string | undefined> {
    if (!(await exists(file))) return undefined;
    const identity = (await readPrivate(file)).trim();
    if (!ageSecretOf(identity)) {
      throw new SiteKeyError('site-key-corrupt', `${file} is not an age identity (AGE-SECRET-KEY-1...): restore it from your backup, or give another file with --out; nothing was changed`);
    }
    return identity;
  }
}
