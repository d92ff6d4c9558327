import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { identityToRecipient } from 'age-encryption';
import jsYaml from 'js-yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { as, cli, releaseForges } from '../../../testing/seeded-registry.ts';

let state: string;
const REGISTRY = 'title: Test registry\nadmins:\n  - medperf-admin\n  - alice\n';

beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-site-key-'));
  const admin = await as(state, 'medperf-admin');
  const pr = await admin.propose({ key: 'registry', title: 'Registry', body: '', files: [{ path: 'registry.yaml', content: REGISTRY }] });
  await admin.merge(pr.pull.number);
});

afterEach(async () => {
  await releaseForges();
  await rm(state, { recursive: true, force: true });
});

const keyFile = () => join(state, 'site-key.txt');
const noSecrets = (text: string) => expect(text).not.toMatch(/AGE-SECRET-KEY/i);
const recipientIn = async (file: string) => identityToRecipient(readFileSync(file, 'utf8').trim());

/** registry.yaml as the open pull request `number` proposes it. */
async function proposed(number: number): Promise<Record<string, unknown>> {
  const forge = await as(state, 'alice');
  const tree = await forge.pullTree(number);
  return jsYaml.load((await tree.read('registry.yaml'))!.toString('utf8')) as Record<string, unknown>;
}

/** Another admin approves pull request `number` and it is merged. */
async function approveAndMerge(number: number): Promise<void> {
  const alice = await as(state, 'alice');
  await alice.review(number, 'APPROVE');
  const merged = await cli(state, 'alice', ['pr', 'merge', String(number)]);
  expect(merged.code, merged.err).toBe(0);
}

describe('medperf-git site key', () => {
  it('makes the site key readable by the admin alone, never prints it, and proposes its public half as site_recipient', async () => {
    const made = await cli(state, 'medperf-admin', ['site', 'key', '--yes']);
    expect(made.code, made.err).toBe(0);
    noSecrets(made.out + made.err);
    expect((statSync(keyFile()).mode & 0o777).toString(8)).toBe('600');
    expect(readFileSync(keyFile(), 'utf8')).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}\n$/);
    const recipient = await recipientIn(keyFile());
    expect(made.out).toContain(`A new site key will be made in ${keyFile()} (readable by you alone; never printed).`);
    expect(made.out).toContain(`Setting the site key in registry.yaml:\n  site_recipient: ${recipient}\n`);
    const number = Number(/Opened pull request #(\d+)/.exec(made.out)![1]);
    expect(made.out).toContain("It needs another registry admin's approval (alice).");
    expect(made.out).toContain('The local registry keeps it for the checks its merges run');
    expect(await (await as(state, 'alice')).siteKeys()).toEqual([readFileSync(keyFile(), 'utf8').trim()]);
    expect((statSync(join(state, 'forge', 'secrets', 'site-key.txt')).mode & 0o777).toString(8)).toBe('600');
    expect(await proposed(number)).toEqual({ title: 'Test registry', admins: ['medperf-admin', 'alice'], site_recipient: recipient });

    // Run again (as after an interruption): the same key, the same pull request.
    const again = await cli(state, 'medperf-admin', ['site', 'key', '--yes']);
    expect(again.code, again.err).toBe(0);
    expect(again.out).toContain(`The site key in ${keyFile()} is used (site_recipient: ${recipient}).`);
    expect(again.out).toContain(`Updated pull request #${number}`);
    expect(await recipientIn(keyFile())).toBe(recipient);

    await approveAndMerge(number);
    const done = await cli(state, 'medperf-admin', ['site', 'key', '--json']);
    expect(done.code, done.err).toBe(0);
    expect(JSON.parse(done.out)).toEqual({ file: keyFile(), site_recipient: recipient, pull: null, retired: null });
  });

  it('refuses a login that is not an admin, and an admin whose key is not the one registry.yaml names, writing nothing', async () => {
    const outsider = await cli(state, 'bob', ['site', 'key', '--yes']);
    expect(outsider.code).toBe(1);
    expect(outsider.err).toContain('error (not-admin): bob is not an admin of');
    expect(outsider.err).toContain('(admins: medperf-admin, alice): a registry admin makes the site key; nothing was written');
    expect(readdirSync(state)).not.toContain('site-key.txt');

    const made = await cli(state, 'medperf-admin', ['site', 'key', '--yes']);
    await approveAndMerge(Number(/Opened pull request #(\d+)/.exec(made.out)![1]));
    const named = await recipientIn(keyFile());

    // Another admin, on another machine (its own state folder), without the file.
    const elsewhere = await mkdtemp(join(tmpdir(), 'medperf-site-key-other-'));
    try {
      const other = join(elsewhere, 'site-key.txt');
      const refused = await cli(state, 'alice', ['site', 'key', '--out', other, '--yes']);
      expect(refused.code).toBe(1);
      expect(refused.err).toBe(
        `error (site-key-exists): registry.yaml names a site key already (site_recipient: ${named}); its secret half is with the admin who made it and in the repository secret MEDPERF_GIT_SITE_KEY. To replace it with a new one, run \`medperf-git site key --rotate\`; nothing was written\n`,
      );
      expect(readdirSync(elsewhere)).toEqual([]);
      // A file with another key is not taken for the registry's.
      writeFileSync(other, 'AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ\n', { mode: 0o600 });
      const corrupt = await cli(state, 'alice', ['site', 'key', '--out', other, '--yes']);
      expect(corrupt.code).toBe(1);
      expect(corrupt.err).toContain(`error (site-key-corrupt): ${other} is not an age identity`);
      // A new key made with --rotate, then given without it: refused, naming --rotate.
      const unconfirmed = await cli(state, 'alice', ['site', 'key', '--out', join(elsewhere, 'new.txt'), '--rotate', '--json']);
      expect(unconfirmed.code).toBe(1);
      expect(unconfirmed.err).toContain('cannot ask without a terminal; pass --yes to confirm, nothing was done');
      expect(readdirSync(elsewhere)).toEqual(['site-key.txt']);
      const made2 = await cli(state, 'alice', ['site', 'key', '--out', join(elsewhere, 'new.txt'), '--rotate', '--json', '--yes']);
      expect(made2.code, made2.err).toBe(0);
      expect(JSON.parse(made2.out)).toMatchObject({ retired: null, reencrypt: [] });
      const fresh = await cli(state, 'alice', ['site', 'key', '--out', join(elsewhere, 'new.txt'), '--yes']);
      expect(fresh.code).toBe(1);
      expect(fresh.err).toContain(`error (site-key-exists): ${join(elsewhere, 'new.txt')} holds another key than the one registry.yaml names (site_recipient: ${named}): to replace registry.yaml's with it, run \`medperf-git site key --rotate --out ${join(elsewhere, 'new.txt')}\`; nothing was changed`);
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('rotates: keeps the old key beside the new one, proposes the new one and says the secret holds both until the results are re-encrypted', async () => {
    const made = await cli(state, 'medperf-admin', ['site', 'key', '--yes']);
    await approveAndMerge(Number(/Opened pull request #(\d+)/.exec(made.out)![1]));
    const old = await recipientIn(keyFile());

    const rotated = await cli(state, 'medperf-admin', ['site', 'key', '--rotate', '--yes']);
    expect(rotated.code, rotated.err).toBe(0);
    noSecrets(rotated.out + rotated.err);
    const retired = readdirSync(state).filter((n) => /^site-key\.retired-.*\.txt$/.test(n));
    expect(retired).toHaveLength(1);
    expect(await recipientIn(join(state, retired[0]!))).toBe(old);
    const recipient = await recipientIn(keyFile());
    expect(recipient).not.toBe(old);
    expect(rotated.out).toContain(`Replacing the site key in registry.yaml:\n  site_recipient: ${recipient}   # was ${old}\n`);
    // The local registry keeps the new key first and the old one after it, until the results are re-encrypted.
    expect(await (await as(state, 'alice')).siteKeys()).toEqual([readFileSync(keyFile(), 'utf8').trim(), readFileSync(join(state, retired[0]!), 'utf8').trim()]);
    const number = Number(/Opened pull request #(\d+)/.exec(rotated.out)![1]);
    expect((await proposed(number)).site_recipient).toBe(recipient);
  });
});
