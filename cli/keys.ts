// A person's identity on this machine: the private halves of their keys, one folder per login
// under <state>/keys/<login>/ (0700), each file 0600 and written atomically. age-identity.txt holds
// the age X25519 identity (AGE-SECRET-KEY-1...), signing-key.pem the Ed25519 private key (PKCS#8).
// A rotation moves them to retired/<time>/ (encrypted results sent to the old recipient still
// need the old identity). Nothing here is ever printed or sent: only the public halves are
// (registry/identity.ts).
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { mkdir, readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { generateX25519Identity } from 'age-encryption';
import writeFileAtomic from 'write-file-atomic';
import { MedperfError } from '../registry/errors.ts';
import { ageSecretOf, publicKeysOf, type PublicKeys } from '../registry/identity.ts';
import { paths } from '../registry/layout.ts';
import { generateSigningKey, type ResultSigner } from '../registry/signing.ts';
import type { Forge } from '../registry/forge/forge.ts';
import type { RegistryView } from '../registry/view.ts';
import { statePaths } from './state.ts';

export class KeysError extends MedperfError {}

const AGE_FILE = 'age-identity.txt';
const SIGNING_FILE = 'signing-key.pem';

/** The folder of a login's keys (logins are case-insensitive). */
export function keysDir(stateDir: string, login: string): string {
  return join(statePaths(stateDir).keys, login.toLowerCase());
}

export interface LocalIdentity {
  login: string;
  ageIdentity: string;
  signingKey: KeyObject;
  keys: PublicKeys;
  dir: string;
}

/** Whether a file is there; any error but its absence is thrown. */
export async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return false;
      throw e;
    },
  );
}

/** A private key file, refused when others may read it (as ssh refuses such a key). */
export async function readPrivate(file: string): Promise<string> {
  const info = await stat(file);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new KeysError('keys-unprotected', `${file} may be read by other users (mode ${(info.mode & 0o777).toString(8)}): run \`chmod 600 ${file}\`, then try again`);
  }
  return readFile(file, 'utf8');
}

/** The login's identity on this machine, or undefined when it has none. */
export async function readIdentity(stateDir: string, login: string): Promise<LocalIdentity | undefined> {
  const dir = keysDir(stateDir, login);
  const ageFile = join(dir, AGE_FILE);
  const signingFile = join(dir, SIGNING_FILE);
  const [hasAge, hasSigning] = await Promise.all([exists(ageFile), exists(signingFile)]);
  if (!hasAge && !hasSigning) return undefined;
  if (!hasAge || !hasSigning) {
    throw new KeysError('keys-incomplete', `${dir} holds only ${hasAge ? AGE_FILE : SIGNING_FILE}: restore the other file from your backup, or make new keys with \`medperf-git keys init --rotate\``);
  }
  const ageIdentity = (await readPrivate(ageFile)).trim();
  const secret = ageSecretOf(ageIdentity);
  if (!secret) throw new KeysError('keys-corrupt', `${ageFile} is not an age identity (AGE-SECRET-KEY-1...): restore it from your backup, or make new keys with \`medperf-git keys init --rotate\``);
  let signingKey: KeyObject;
  try {
    signingKey = createPrivateKey(await readPrivate(signingFile));
    if (signingKey.asymmetricKeyType !== 'ed25519') throw new Error('not Ed25519');
  } catch (error) {
    if (error instanceof KeysError) throw error;
    throw new KeysError('keys-corrupt', `${signingFile} is not an Ed25519 private key: restore it from your backup, or make new keys with \`medperf-git keys init --rotate\``);
  }
  return { login, ageIdentity, signingKey, keys: publicKeysOf(secret, createPublicKey(signingKey)), dir };
}

/**
 * Makes the login's identity: a new age identity and a new Ed25519 key. An identity that exists
 * is kept unless `rotate`, which moves it to retired/<time>/ first.
 */
export async function initIdentity(stateDir: string, login: string, options: { rotate?: boolean } = {}): Promise<{ identity: LocalIdentity; created: boolean; retired?: string }> {
  const existing = await readIdentity(stateDir, login);
  if (existing && !options.rotate) return { identity: existing, created: false };
  const dir = keysDir(stateDir, login);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  let retired: string | undefined;
  if (existing) {
    retired = join(dir, 'retired', new Date().toISOString().replace(/[:.]/g, '-'));
    await mkdir(retired, { recursive: true, mode: 0o700 });
    await rename(join(dir, AGE_FILE), join(retired, AGE_FILE));
    await rename(join(dir, SIGNING_FILE), join(retired, SIGNING_FILE));
  }
  const ageIdentity = await generateX25519Identity();
  const { privateKey } = generateSigningKey();
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  // The signing key first: an identity with only the age file reads as incomplete, never as valid.
  await writeFileAtomic(join(dir, SIGNING_FILE), pem, { mode: 0o600 });
  await writeFileAtomic(join(dir, AGE_FILE), ageIdentity + '\n', { mode: 0o600 });
  const identity = await readIdentity(stateDir, login);
  return { identity: identity!, created: true, ...(retired ? { retired } : {}) };
}

/** The error for a login without keys on this machine; `next` says what to run after keys init. */
export function noKeysError(login: string, next: string): KeysError {
  return new KeysError('no-keys', `${login} has no keys on this machine: run \`medperf-git keys init\`${next}`);
}

/**
 * The signer of `login`'s results: their key on this machine, which must be the one their
 * published record (people/<login>.yaml on main) holds now. Refuses, saying what to run, when
 * either is missing or they differ.
 */
export async function resultSigner(stateDir: string, login: string, main: RegistryView, then: string, pendingPull?: number): Promise<ResultSigner> {
  const identity = await readIdentity(stateDir, login);
  if (!identity) throw noKeysError(login, ` and \`medperf-git keys publish\` (once, and wait for the merge), then ${then}`);
  const path = paths.person(login);
  const person = await main.person(login);
  if (!person) {
    if (await main.tree.has(path)) throw new KeysError('keys-unreadable', `${path} on the registry's main branch does not load, so your published key cannot be read; fix it with \`medperf-git keys publish\``);
    throw new KeysError(
      'keys-not-published',
      pendingPull
        ? `your keys are not published yet: pull request #${pendingPull} adds ${path}; once it is merged, ${then}`
        : `your keys are not published: run \`medperf-git keys publish\` (and wait for the merge), then ${then}`,
    );
  }
  if (person.data.signing_key !== identity.keys.signing_key) {
    throw new KeysError(
      'keys-differ',
      `the signing key on this machine (${identity.dir}) is not the one ${path} publishes (version ${person.data.version}): ` +
        (pendingPull ? `pull request #${pendingPull} publishes it; once it is merged, ${then}` : `publish it with \`medperf-git keys publish\`, then ${then}`),
    );
  }
  return { login, keyVersion: person.data.version, privateKey: identity.signingKey };
}

/**
 * The signer of the forge's login, read before anything runs or is sent; a refusal names the open
 * pull request that publishes their keys, when there is one. `then` says what to do once it is fixed.
 */
export async function signerOnMain(forge: Forge, stateDir: string, main: RegistryView, then: string): Promise<ResultSigner> {
  try {
    return await resultSigner(stateDir, forge.login, main, then);
  } catch (error) {
    if (!(error instanceof KeysError) || (error.code !== 'keys-not-published' && error.code !== 'keys-differ')) throw error;
    const pull = (await forge.listPulls({ state: 'open', paths: [paths.person(forge.login)] }))[0]?.number;
    if (pull === undefined) throw error;
    return resultSigner(stateDir, forge.login, main, then, pull);
  }
}
