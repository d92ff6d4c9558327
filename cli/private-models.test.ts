// A private model on a data owner's machine: the key comes from their grant or, for its owner, from
// the state directory; a missing identity or grant stops with whom to ask; a tampered grant or
// ciphertext, or decrypted files that are not the pinned ones, are refused and leave nothing behind.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sha256Hex } from '../registry/hash.ts';
import { paths } from '../registry/layout.ts';
import { grantRecord } from '../registry/model-keys.ts';
import type { CubeRecord } from '../registry/records.ts';
import { cube, examplePerson, view, yaml } from '../testing/records.ts';
import { cachePath } from './fetch.ts';
import { initIdentity } from './keys.ts';
import { decryptedAdditionalFiles, encryptIntoCache, ensureModelKey, modelKeyFile, modelKeyring } from './private-models.ts';

const MODEL = 'bob/resnet';
let state: string;

beforeEach(async () => {
  state = await mkdtemp(join(tmpdir(), 'medperf-private-models-'));
});
afterEach(async () => {
  await rm(state, { recursive: true, force: true });
});

async function privateRecord(plain: Buffer): Promise<{ record: CubeRecord; ciphertext: string; plainFile: string }> {
  const { key } = await ensureModelKey(state, MODEL);
  const plainFile = join(state, 'weights.tar.gz');
  writeFileSync(plainFile, plain);
  const cipher = await encryptIntoCache(plainFile, key.recipient, state);
  const record: CubeRecord = {
    ...cube('model'),
    additional_files: { url: `file://${cipher.path}`, sha256: cipher.sha256 },
    private: { age_recipient: key.recipient, additional_files_sha256: sha256Hex(plain) },
  };
  return { record, ciphertext: cipher.path, plainFile };
}

describe('a private model\'s key', () => {
  it('is kept for its owner alone, in a file only they read', async () => {
    const { record } = await privateRecord(Buffer.from('weights'));
    expect(statSync(modelKeyFile(state, MODEL)).mode & 0o777).toBe(0o600);
    expect(statSync(join(modelKeyFile(state, MODEL), '..')).mode & 0o777).toBe(0o700);
    const main = view({ [paths.cube(MODEL)]: yaml(record) });
    expect((await modelKeyring(state, 'bob', main).keyFor(MODEL, record)).recipient).toBe(record.private!.age_recipient);
    // dora, on the same machine, is not served the owner's key.
    await initIdentity(state, 'dora');
    await expect(modelKeyring(state, 'dora', main).keyFor(MODEL, record)).rejects.toThrow(
      `the model ${MODEL} is private and it is not granted to dora: ask its owner bob to run \`medperf-git mlcube grant -m ${MODEL} --to dora\`; nothing was run`,
    );
  });

  it('stops a data owner without an identity, saying what to run and whom to ask', async () => {
    const { record } = await privateRecord(Buffer.from('weights'));
    const main = view({ [paths.cube(MODEL)]: yaml(record), [paths.person('dora')]: yaml(examplePerson('dora')) });
    await expect(modelKeyring(state, 'dora', main).keyFor(MODEL, record)).rejects.toThrow(
      `the model ${MODEL} is private and dora has no keys on this machine to open a grant with: run \`medperf-git keys init\` and \`medperf-git keys publish\`, then ask its owner bob to run \`medperf-git mlcube grant -m ${MODEL} --to dora\`; nothing was run`,
    );
  });

  it('opens a grant with the data owner\'s identity, and refuses a tampered one', async () => {
    const { record } = await privateRecord(Buffer.from('weights'));
    const { key } = await ensureModelKey(state, MODEL);
    const { identity } = await initIdentity(state, 'dora');
    const grant = await grantRecord(key, identity.keys.age_recipient);
    const files = (g: unknown) => view({ [paths.cube(MODEL)]: yaml(record), [paths.modelGrant(MODEL, 'dora')]: yaml(g) });
    expect((await modelKeyring(state, 'dora', files(grant)).keyFor(MODEL, record)).identity).toBe(key.identity);
    const lines = grant.wrapped_key.split('\n');
    lines[3] = lines[3]!.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    await expect(modelKeyring(state, 'dora', files({ ...grant, wrapped_key: lines.join('\n') })).keyFor(MODEL, record)).rejects.toThrow(
      `${paths.modelGrant(MODEL, 'dora')} does not open with your identity`,
    );
  });
});

describe('a private model\'s files', () => {
  it('decrypt into the cache, verified against the plaintext hash', async () => {
    const plain = Buffer.from('the weights, in clear '.repeat(5000));
    const { record, ciphertext } = await privateRecord(plain);
    expect(readFileSync(ciphertext).includes(Buffer.from('the weights'))).toBe(false);
    const { key } = await ensureModelKey(state, MODEL);
    const path = await decryptedAdditionalFiles(MODEL, record, ciphertext, key, state);
    expect(path).toBe(cachePath(state, sha256Hex(plain)));
    expect(readFileSync(path).equals(plain)).toBe(true);
  });

  it('refuse a tampered ciphertext, anywhere in it, and leave nothing in the cache', async () => {
    const plain = Buffer.from('the weights, in clear '.repeat(5000));
    const { record, ciphertext, plainFile } = await privateRecord(plain);
    await rm(plainFile);
    const { key } = await ensureModelKey(state, MODEL);
    const bytes = readFileSync(ciphertext);
    for (const at of [30, 120, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const copy = Buffer.from(bytes);
      copy[at]! ^= 1;
      const tampered = join(state, `tampered-${at}`);
      writeFileSync(tampered, copy);
      await expect(decryptedAdditionalFiles(MODEL, record, tampered, key, state), `byte ${at}`).rejects.toThrow(`${MODEL}'s additional files do not decrypt with the model's key`);
      expect(existsSync(cachePath(state, sha256Hex(plain)))).toBe(false);
    }
    expect(readdirSync(join(cachePath(state, sha256Hex(plain)), '..')).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('refuse decrypted files that are not the ones the record pins', async () => {
    const { record, ciphertext } = await privateRecord(Buffer.from('weights'));
    const { key } = await ensureModelKey(state, MODEL);
    const pinned = { ...record, private: { ...record.private!, additional_files_sha256: '9'.repeat(64) } };
    await expect(decryptedAdditionalFiles(MODEL, pinned, ciphertext, key, state)).rejects.toThrow(/sha256|hash/);
  });
});
