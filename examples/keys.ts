// The identities of the example logins (data-owner, model-owner, bench-committee, medperf-admin,
// and the logins of the test fixtures), made from their names: anyone can remake these private
// keys, so they sign example and test records only and protect nothing. The example registry
// commits their public halves (people/<login>.yaml) and results signed with them.
//
//   node --import tsx examples/keys.ts   writes examples/registry/people/ and re-signs its results
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import yaml from 'js-yaml';
import { identityFromSeed } from '../registry/identity.ts';
import { parseRecordPath } from '../registry/layout.ts';
import type { PersonRecord, ResultRecord } from '../registry/records.ts';
import { signResult, type ResultSigner } from '../registry/signing.ts';

/** The logins of the example registry, each with published keys. */
export const EXAMPLE_LOGINS = ['bench-committee', 'data-owner', 'medperf-admin', 'model-owner'];

const identities = new Map<string, ReturnType<typeof identityFromSeed>>();

/** The example identity of a login (the same on every machine). */
export function exampleIdentity(login: string) {
  let id = identities.get(login);
  if (!id) {
    id = identityFromSeed(createHash('sha512').update(`medperf-git example identity\n${login}`).digest());
    identities.set(login, id);
  }
  return id;
}

/** people/<login>.yaml of an example login, at version 1. */
export function examplePerson(login: string): PersonRecord {
  return { version: 1, ...exampleIdentity(login).keys };
}

/** The signer of an example login, with the version of its published record. */
export function exampleSigner(login: string, keyVersion = 1, imported?: boolean): ResultSigner {
  return { login, keyVersion, privateKey: exampleIdentity(login).signing.privateKey, ...(imported ? { imported } : {}) };
}

/** A result signed by an example login (its data owner, by default the owner in its dataset id). */
export function signedExample(record: ResultRecord, login = record.dataset.split('/')[0]!, keyVersion = 1): ResultRecord {
  return signResult(record, exampleSigner(login, keyVersion));
}

/** Writes people/<login>.yaml of example logins into a registry folder. */
export async function writeExamplePeople(dir: string, logins: string[], modelinePrefix = ''): Promise<void> {
  const { recordYaml } = await import('../registry/record-yaml.ts');
  mkdirSync(join(dir, 'people'), { recursive: true });
  for (const login of logins) {
    const path = `people/${login}.yaml`;
    writeFileSync(join(dir, path), recordYaml('person', path, examplePerson(login)).replace('$schema=', `$schema=${modelinePrefix}`));
  }
}

/** A result record's text signed again by its data owner's example key, its modeline kept as it is. */
export async function resignedText(path: string, text: string): Promise<string> {
  const { recordYaml } = await import('../registry/record-yaml.ts');
  const record = yaml.load(text) as ResultRecord;
  const [modeline] = text.split('\n', 1);
  const body = recordYaml('result', path, signedExample(record)).replace(/^#[^\n]*\n/, '');
  return (modeline!.startsWith('#') ? modeline + '\n' : '') + body;
}

/** Re-signs every result of a registry folder with its data owner's example key. */
export async function signExampleRegistry(dir: string): Promise<string[]> {
  const signed: string[] = [];
  const walk = async (rel: string) => {
    for (const name of readdirSync(join(dir, rel)).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      if (statSync(join(dir, p)).isDirectory()) await walk(p);
      else if (parseRecordPath(p)?.kind === 'result') {
        writeFileSync(join(dir, p), await resignedText(p, readFileSync(join(dir, p), 'utf8')));
        signed.push(p);
      }
    }
  };
  await walk('');
  return signed;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = fileURLToPath(new URL('./registry/', import.meta.url));
  await writeExamplePeople(dir, EXAMPLE_LOGINS, '../../');
  for (const p of await signExampleRegistry(dir)) console.log(`signed ${p}`);
}
