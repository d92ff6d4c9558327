// Private models: a model's additional files (its weights) are encrypted with age to a key made for
// that model, and the model's owner grants the key to a data owner by wrapping it, with age, to the
// recipient that data owner published (people/<login>.yaml). A grant is a record,
// mlcubes/<owner>/<name>/grants/<login>.yaml, that only the holder of the grantee's identity can
// open. Keys in, texts and records out: storing the key and decrypting files is the CLI's part
// (cli/private-models.ts).
import { armor, Decrypter, Encrypter, generateX25519Identity, identityToRecipient } from 'age-encryption';
import { MedperfError } from './errors.ts';
import { associationAt } from './collections.ts';
import { sameLogin } from './layout.ts';
import type { ModelGrantRecord } from './records.ts';
import type { RegistryView } from './view.ts';

export class ModelKeyError extends MedperfError {}

/** A model key: the age identity (AGE-SECRET-KEY-1...) the model's files are encrypted to, and its recipient. */
export interface ModelKey {
  identity: string;
  recipient: string;
}

/** A fresh key for one model. */
export async function newModelKey(): Promise<ModelKey> {
  const identity = await generateX25519Identity();
  return { identity, recipient: await identityToRecipient(identity) };
}

/** The recipient of a model key's identity text; undefined when the text is not an age X25519 identity. */
export async function recipientOfModelKey(identity: string): Promise<string | undefined> {
  if (!/^AGE-SECRET-KEY-1[0-9A-Z]{58}$/.test(identity)) return undefined;
  try {
    return await identityToRecipient(identity);
  } catch {
    return undefined;
  }
}

/** The grant of a model key to one person: the key wrapped to their published recipient, armored. */
export async function grantRecord(key: ModelKey, granteeRecipient: string): Promise<ModelGrantRecord> {
  const e = new Encrypter();
  e.addRecipient(granteeRecipient);
  const wrapped = armor.encode(await e.encrypt(key.identity));
  return { age_recipient: granteeRecipient, wrapped_key: wrapped };
}

/**
 * The model key a grant holds, opened with the grantee's age identity and checked against the
 * recipient the cube record pins: a grant that does not open, or holds another key, is refused.
 */
export async function openGrant(grant: ModelGrantRecord, ageIdentity: string, modelRecipient: string, where: string): Promise<ModelKey> {
  let identity: string;
  try {
    const d = new Decrypter();
    d.addIdentity(ageIdentity);
    identity = (await d.decrypt(armor.decode(grant.wrapped_key), 'text')).trim();
  } catch (error) {
    throw new ModelKeyError(
      'grant-unopenable',
      `${where} does not open with your identity (${(error as Error).message}): it was wrapped to another key, or altered; ask the model's owner to grant it again`,
    );
  }
  const recipient = await recipientOfModelKey(identity);
  if (recipient !== modelRecipient) {
    throw new ModelKeyError('grant-wrong-key', `${where} holds a key that is not the model's (its record pins ${modelRecipient}): the grant was altered or is stale; ask the model's owner to grant it again`);
  }
  return { identity, recipient };
}

/** An age encrypter to a model's recipient (binary age, for files of any size as streams). */
export function modelEncrypter(recipient: string): Encrypter {
  const e = new Encrypter();
  e.addRecipient(recipient);
  return e;
}

/** An age decrypter with a model's key. */
export function modelDecrypter(key: ModelKey): Decrypter {
  const d = new Decrypter();
  d.addIdentity(key.identity);
  return d;
}

/**
 * MedPerf's auto-grant: the owners of every dataset whose association with `benchmark` is merged
 * (on main), in order, each once.
 */
export async function approvedDataOwners(view: RegistryView, benchmark: string): Promise<string[]> {
  const out: string[] = [];
  for (const path of await view.tree.list(`benchmarks/${benchmark}/datasets/`)) {
    const ref = associationAt(path);
    if (ref?.kind !== 'dataset' || !(await view.datasetAssociation(benchmark, ref.entity))) continue;
    const owner = ref.entity.split('/')[0]!;
    if (!out.some((l) => sameLogin(l, owner))) out.push(owner);
  }
  return out;
}

/** What `mlcube grant` does for each login it is asked about. */
export interface GrantPlan {
  /** Logins to grant, with the recipient their published record holds now. */
  grant: Array<{ login: string; recipient: string; renewed: boolean }>;
  /** Logins granted already, to the recipient they publish now. */
  already: string[];
  /** Logins without a published key (people/<login>.yaml): they cannot be granted yet. */
  noKeys: string[];
}

/**
 * Who a private model's key is granted to, read off a view of main: each login with a published
 * key, unless its grant there already wraps the key to that key (a grant to a rotated key is renewed).
 * The model's owner needs no grant of their own.
 */
export async function planGrants(view: RegistryView, model: string, logins: readonly string[]): Promise<GrantPlan> {
  const plan: GrantPlan = { grant: [], already: [], noKeys: [] };
  const owner = model.split('/')[0]!;
  for (const login of logins) {
    if (sameLogin(login, owner)) continue;
    const person = await view.person(login);
    if (!person) {
      plan.noKeys.push(login);
      continue;
    }
    const existing = await view.modelGrant(model, login);
    if (existing?.data.age_recipient === person.data.age_recipient) plan.already.push(login);
    else plan.grant.push({ login, recipient: person.data.age_recipient, renewed: Boolean(existing) });
  }
  return plan;
}
