import { chmodSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { as, cli, releaseForges } from '../../../testing/seeded-registry.ts';

let state: string;

beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-keys-'));
  const admin = await as(state, 'medperf-admin');
  const pr = await admin.propose({ key: 'registry', title: 'Registry', body: '', files: [{ path: 'registry.yaml', content: 'title: Test registry\nadmins:\n  - medperf-admin\n' }] });
  await admin.merge(pr.pull.number);
});

afterEach(async () => {
  await releaseForges();
  await rm(state, { recursive: true, force: true });
});

const noSecrets = (text: string) => expect(text).not.toMatch(/AGE-SECRET-KEY|PRIVATE KEY/i);
const noStack = (text: string) => expect(text).not.toMatch(/^\s+at /m);

describe('medperf-git keys', () => {
  it('init makes keys readable by their owner alone, show prints only public halves, publish opens a PR that merges with no reviewer', async () => {
    const none = await cli(state, 'alice', ['keys', 'show']);
    expect(none.out).toBe('alice has no keys on this machine: `medperf-git keys init` makes them.\nalice has published no keys (people/alice.yaml).\n');
    const early = await cli(state, 'alice', ['keys', 'publish', '--yes']);
    expect(early.code).toBe(1);
    expect(early.err).toBe('error (no-keys): alice has no keys on this machine: run `medperf-git keys init`, then `medperf-git keys publish`\n');

    const init = await cli(state, 'alice', ['keys', 'init']);
    expect(init.code, init.err).toBe(0);
    expect(init.out).toMatch(/^age recipient: age1[02-9ac-hj-np-z]{58}\nsigning key:\s+[A-Za-z0-9+/]{43}=$/m);
    noSecrets(init.out + init.err);
    const dir = join(state, 'keys', 'alice');
    expect((statSync(dir).mode & 0o777).toString(8)).toBe('700');
    for (const file of ['age-identity.txt', 'signing-key.pem']) expect((statSync(join(dir, file)).mode & 0o777).toString(8)).toBe('600');
    expect(readFileSync(join(dir, 'age-identity.txt'), 'utf8')).toMatch(/^AGE-SECRET-KEY-1[0-9A-Z]{58}\n$/);
    const identity = readFileSync(join(dir, 'age-identity.txt'), 'utf8');
    const again = await cli(state, 'alice', ['keys', 'init']);
    expect(again.out).toContain('alice has keys already');
    expect(readFileSync(join(dir, 'age-identity.txt'), 'utf8')).toBe(identity);

    const publish = await cli(state, 'alice', ['keys', 'publish', '--yes']);
    expect(publish.code, publish.err).toBe(0);
    noSecrets(publish.out);
    expect(publish.out).toContain('Publishing the keys of alice (people/alice.yaml, public halves only):\n  version: 1\n  age_recipient: age1');
    const number = /Opened pull request #(\d+)/.exec(publish.out)![1]!;
    expect(publish.out).toContain(`It needs no reviewer: once the checks pass, merge it (\`medperf-git pr merge ${number}\`)`);
    const merged = await cli(state, 'alice', ['pr', 'merge', number]);
    expect(merged.code, merged.err).toBe(0);
    expect((await cli(state, 'alice', ['keys', 'publish', '--yes'])).out).toBe('Your keys are published already: people/alice.yaml, version 1.\n');

    const shown = await cli(state, 'alice', ['keys', 'show', '--json']);
    const json = JSON.parse(shown.out);
    expect(json).toMatchObject({ login: 'alice', current: true, published: { version: 1 } });
    expect(json.local.signing_key).toBe(json.published.signing_key);
    noSecrets(shown.out);
    const other = await cli(state, 'bob', ['keys', 'show', '--login', 'alice']);
    expect(other.out).toContain('Published in people/alice.yaml, version 1:');
    expect(other.out).not.toContain('on this machine');
  }, 60_000);

  it('rotation publishes the next version keeping the earlier signing key, and the old private keys are kept aside', async () => {
    await cli(state, 'alice', ['keys', 'init']);
    const first = await cli(state, 'alice', ['keys', 'publish', '--yes']);
    await cli(state, 'alice', ['pr', 'merge', /#(\d+)/.exec(first.out)![1]!]);
    const oldKey = JSON.parse((await cli(state, 'alice', ['keys', 'show', '--json'])).out).published.signing_key;
    const rotate = await cli(state, 'alice', ['keys', 'init', '--rotate']);
    expect(rotate.out).toMatch(/The previous keys are kept in .*keys\/alice\/retired\//);
    const second = await cli(state, 'alice', ['keys', 'publish', '--yes']);
    expect(second.out).toContain(`earlier_signing_keys:\n    - version: 1\n      signing_key: ${oldKey}`);
    const merged = await cli(state, 'alice', ['pr', 'merge', /#(\d+)/.exec(second.out)![1]!]);
    expect(merged.code, merged.err).toBe(0);
    expect(JSON.parse((await cli(state, 'alice', ['keys', 'show', '--json'])).out)).toMatchObject({ current: true, published: { version: 2, earlier_signing_keys: [{ version: 1, signing_key: oldKey }] } });
  }, 60_000);

  it('refuses keys others may read, and broken key files, with what to do and no stack trace', async () => {
    await cli(state, 'alice', ['keys', 'init']);
    const file = join(state, 'keys', 'alice', 'signing-key.pem');
    chmodSync(file, 0o644);
    const open = await cli(state, 'alice', ['keys', 'show']);
    expect(open.code).toBe(1);
    expect(open.err).toBe(`error (keys-unprotected): ${file} may be read by other users (mode 644): run \`chmod 600 ${file}\`, then try again\n`);
    chmodSync(file, 0o600);
    for (const [name, text] of [['signing-key.pem', 'not a key\n'], ['age-identity.txt', 'AGE-SECRET-KEY-1NOPE\n']] as const) {
      const path = join(state, 'keys', 'alice', name);
      const saved = readFileSync(path);
      const { writeFileSync } = await import('node:fs');
      writeFileSync(path, text, { mode: 0o600 });
      const broken = await cli(state, 'alice', ['keys', 'publish', '--yes']);
      expect(broken.code).toBe(1);
      expect(broken.err).toMatch(new RegExp(`^error \\(keys-corrupt\\): .*${name.replace('.', '\\.')} is not an? .*: restore it from your backup, or make new keys with \`medperf-git keys init --rotate\`\\n$`));
      noStack(broken.err);
      writeFileSync(path, saved, { mode: 0o600 });
    }
  }, 60_000);
});
