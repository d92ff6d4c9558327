// Private models on this machine. The model owner's key for each private model lives in the state
// directory, <state>/model-keys/<owner>/<name>/age-identity.txt (folders 0700, the file 0600,
// written atomically), never in the registry or a log. A data owner holds no model key on disk:
// each run opens their grant (registry/model-keys.ts) with their own identity (cli/keys.ts),
// decrypts the weights into the cache of the state directory, verifies them against the
// plaintext hash the cube record pins, and only then lays the cube out.
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../registry/errors.ts';
import { hashFile } from '../registry/hash.ts';
import { paths, sameLogin } from '../registry/layout.ts';
import { type ModelKey, modelDecrypter, modelEncrypter, newModelKey, openGrant, recipientOfModelKey } from '../registry/model-keys.ts';
import type { CubeRecord } from '../registry/records.ts';
import type { RegistryView } from '../registry/view.ts';
import { pathToFileURL } from 'node:url';
import type { Asset } from '../registry/records.ts';
import { type CubeAssets, CubeSourceError } from './cube/assets.ts';
import { cachePath, fetchAsset, storeInCache } from './fetch.ts';
import { readIdentity, readPrivate } from './keys.ts';
import { statePaths } from './state.ts';

/** A private model that this login may not run: says whom to ask, and the exact command. */
export class ModelNotGrantedError extends MedperfError {}

const KEY_FILE = 'age-identity.txt';

/** Where the owner's key of a model lives (ids are case-insensitive in their owner). */
export function modelKeyFile(stateDir: string, id: string): string {
  const [owner, name] = id.split('/') as [string, string];
  return join(statePaths(stateDir).modelKeys, owner.toLowerCase(), name, KEY_FILE);
}

/** The owner's key of a model on this machine, or undefined when this machine has none. */
export async function readModelKey(stateDir: string, id: string): Promise<ModelKey | undefined> {
  const file = modelKeyFile(stateDir, id);
  if (!existsSync(file)) return undefined;
  const identity = (await readPrivate(file)).trim();
  const recipient = await recipientOfModelKey(identity);
  if (!recipient) throw new MedperfError('model-key-corrupt', `${file} is not an age identity (AGE-SECRET-KEY-1...): restore it from your backup`);
  return { identity, recipient };
}

/** The model's key on this machine, made (and stored, 0600) when there is none yet. */
export async function ensureModelKey(stateDir: string, id: string): Promise<{ key: ModelKey; created: boolean }> {
  const existing = await readModelKey(stateDir, id);
  if (existing) return { key: existing, created: false };
  const key = await newModelKey();
  const file = modelKeyFile(stateDir, id);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, key.identity + '\n', { mode: 0o600 });
  return { key, created: true };
}

/** A file encrypted with age to a model's recipient, written into the cache under the ciphertext's sha256. */
export async function encryptIntoCache(file: string, recipient: string, stateDir: string): Promise<{ sha256: string; path: string }> {
  const plain = Readable.toWeb(createReadStream(file, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
  const encrypted = await modelEncrypter(recipient).encrypt(plain);
  return storeInCache(Readable.fromWeb(encrypted as never), { stateDir, what: `the encryption of ${file}` });
}

/**
 * A private model's additional files in clear, in the cache: decrypted from the verified
 * ciphertext with the model's key and verified against the record's plaintext hash (a copy the
 * cache holds already is checked again). A ciphertext that does not decrypt is refused.
 */
export async function decryptedAdditionalFiles(id: string, record: CubeRecord, ciphertext: string, key: ModelKey, stateDir: string): Promise<string> {
  const sha256 = record.private!.additional_files_sha256;
  const cached = cachePath(stateDir, sha256);
  if (existsSync(cached) && (await hashFile(cached)) === sha256) return cached;
  const what = `${id}'s decrypted additional files`;
  try {
    const source = Readable.toWeb(createReadStream(ciphertext, { highWaterMark: 1 << 20 })) as ReadableStream<Uint8Array>;
    const plain = await modelDecrypter(key).decrypt(source);
    const total = (await stat(ciphertext)).size;
    return (await storeInCache(Readable.fromWeb(plain as never), { stateDir, what, expected: sha256, total })).path;
  } catch (error) {
    if (error instanceof MedperfError) throw error;
    throw new MedperfError('model-decrypt-failed', `${id}'s additional files do not decrypt with the model's key (${(error as Error).message}): the ciphertext was altered; nothing was run`);
  }
}

/** Where a private model's key comes from when a cube is laid out to run. */
export interface ModelKeyring {
  keyFor(id: string, record: CubeRecord): Promise<ModelKey>;
}

/** The command a model owner runs to grant their model to a login. */
export function grantCommand(id: string, login: string): string {
  return `medperf-git mlcube grant -m ${id} --to ${login}`;
}

/**
 * The keys `login` holds on this machine: the model owner's own key, or else the grant on `view`
 * (main) opened with the login's identity. Without a grant or an identity it refuses, naming the
 * model's owner and the command they run; nothing has run yet when it does.
 */
export function modelKeyring(stateDir: string, login: string, view: RegistryView): ModelKeyring {
  return {
    async keyFor(id, record) {
      const recipient = record.private!.age_recipient;
      const owner = id.split('/')[0]!;
      // The owners' key on this machine serves only them: a data owner on the same machine opens a grant.
      const own = sameLogin(login, owner) || (record.owners ?? []).some((o) => sameLogin(o, login)) ? await readModelKey(stateDir, id) : undefined;
      if (own) {
        if (own.recipient === recipient) return own;
        throw new MedperfError('model-key-differs', `the key of ${id} on this machine (${modelKeyFile(stateDir, id)}) is not the one its record pins (${recipient}); nothing was run`);
      }
      const ask = `ask its owner ${owner} to run \`${grantCommand(id, login || 'YOUR-LOGIN')}\``;
      if (!login) throw new ModelNotGrantedError('model-not-granted', `the model ${id} is private: act as a login (--as LOGIN) with a grant, or ${ask}; nothing was run`);
      const identity = await readIdentity(stateDir, login);
      if (!identity) {
        throw new ModelNotGrantedError(
          'model-no-identity',
          `the model ${id} is private and ${login} has no keys on this machine to open a grant with: run \`medperf-git keys init\` and \`medperf-git keys publish\`, then ${ask}; nothing was run`,
        );
      }
      const grant = await view.modelGrant(id, login);
      if (!grant) {
        const path = paths.modelGrant(id, login);
        const why = (await view.tree.has(path)) ? `${path} does not load` : `it is not granted to ${login}`;
        throw new ModelNotGrantedError('model-not-granted', `the model ${id} is private and ${why}: ${ask}; nothing was run`);
      }
      return openGrant(grant.data, identity.ageIdentity, recipient, paths.modelGrant(id, login));
    },
  };
}

/**
 * A cube's assets made private (`mlcube submit --private`): the additional files encrypted to the
 * model's key (made here, or the one this machine holds), the record pinning the ciphertext and,
 * under `private`, the key's recipient and the plaintext's sha256. Only the ciphertext is named for
 * hosting. When `existing` already pins an encryption of the same files to the same key, its
 * ciphertext is kept, so submitting again changes nothing.
 */
export async function privateCubeAssets(
  assets: CubeAssets,
  options: { id: string; stateDir: string; baseUrl?: string; existing?: CubeRecord },
): Promise<{ assets: CubeAssets; private: NonNullable<CubeRecord['private']>; keyFile: string; keyCreated: boolean }> {
  const plain = assets.additional_files;
  if (!plain) throw new CubeSourceError(`${options.id}: --private encrypts the cube's additional files (its weights), and it has none`);
  const { key, created } = await ensureModelKey(options.stateDir, options.id);
  const pin = { age_recipient: key.recipient, additional_files_sha256: plain.sha256 };
  // The packed or downloaded plaintext, through the verified cache.
  const plainPath = await fetchAsset(plain, { stateDir: options.stateDir, what: `${options.id}'s additional files` });
  const toUpload = assets.toUpload.filter((u) => u.url !== plain.url);
  const notes = assets.notes.filter((n) => !n.startsWith('additional_files/ was packed'));
  const kept = options.existing?.private;
  let encrypted: Asset;
  if (kept && kept.age_recipient === pin.age_recipient && kept.additional_files_sha256 === pin.additional_files_sha256 && options.existing!.additional_files) {
    encrypted = options.existing!.additional_files;
  } else {
    const cipher = await encryptIntoCache(plainPath, key.recipient, options.stateDir);
    const url = options.baseUrl ? options.baseUrl.replace(/\/+$/, '') + '/additional_files.tar.gz.age' : pathToFileURL(cipher.path).href;
    if (options.baseUrl) toUpload.push({ file: cipher.path, url });
    encrypted = { url, sha256: cipher.sha256 };
    notes.push(`the additional files were encrypted to the model's key (sha256 of the ciphertext ${cipher.sha256}): ${cipher.path}`);
  }
  return {
    assets: { ...assets, additional_files: encrypted, toUpload, notes },
    private: pin,
    keyFile: modelKeyFile(options.stateDir, options.id),
    keyCreated: created,
  };
}
