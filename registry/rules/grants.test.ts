// Grants of a private model's key (mlcubes/<owner>/<name>/grants/<login>.yaml): schema-valid, only
// for a private model cube, only to a person with a published key (wrapped to that key within a
// change), only written by the model's owners, and never left behind by a cube made public or deleted.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatFinding, sortFindings } from '../findings.ts';
import { grantRecord, newModelKey, openGrant } from '../model-keys.ts';
import type { CubeRecord, ModelGrantRecord } from '../records.ts';
import { memoryTree } from '../trees.ts';
import { validateChange, validateRegistry } from '../validate.ts';
import { cube, examplePerson, P, tutorialRegistry, view, without, yaml, type Files } from '../../testing/records.ts';
import { evaluateGate } from '../gate.ts';
import { exampleIdentity } from '../../examples/keys.ts';
import { paths } from '../layout.ts';

const MODEL = 'bob/resnet';
const GRANT = paths.modelGrant(MODEL, 'dora');
const key = await newModelKey();
const hex = (c: string) => c.repeat(64);

function privateModel(over: Partial<CubeRecord> = {}): CubeRecord {
  return {
    ...cube('model', 'operational', 'f'),
    additional_files: { url: 'https://example.org/weights.tar.gz.age', sha256: hex('7') },
    private: { age_recipient: key.recipient, additional_files_sha256: hex('8') },
    ...over,
  };
}

const grant = await grantRecord(key, exampleIdentity('dora').keys.age_recipient);

/** The tutorial registry with bob's model private (and no result of it yet), and no grant yet. */
function base(): Files {
  return { ...without(tutorialRegistry(), P.result), [P.model]: yaml(privateModel()) };
}

const withGrant = (files: Files, g: unknown = grant, path = GRANT): Files => ({ ...files, [path]: yaml(g) });

async function full(files: Files): Promise<string[]> {
  return sortFindings(await validateRegistry(memoryTree(files))).map(formatFinding);
}

async function change(before: Files, after: Files, author: string): Promise<string[]> {
  return sortFindings(await validateChange({ base: memoryTree(before), head: memoryTree(after), author })).map(formatFinding);
}

describe('a grant', () => {
  it('passes for a private model, granted by its owner to a person with a published key, and opens with that person\'s identity', async () => {
    expect(await full(withGrant(base()))).toEqual([]);
    expect(await change(base(), withGrant(base()), 'bob')).toEqual([]);
    // Revoking is deleting it, by the owner.
    expect(await change(withGrant(base()), base(), 'bob')).toEqual([]);
    expect((await openGrant(grant, exampleIdentity('dora').ageIdentity, key.recipient, GRANT)).identity).toBe(key.identity);
  });

  it('is refused by the schema in every malformed shape', async () => {
    const variants: Array<[unknown, RegExp]> = [
      [{ age_recipient: grant.age_recipient }, /wrapped_key/],
      [{ wrapped_key: grant.wrapped_key }, /age_recipient/],
      [{ ...grant, note: 'for dora' }, /note/],
      [{ ...grant, wrapped_key: 'AGE-SECRET-KEY-1' + 'Q'.repeat(58) }, /wrapped_key/],
      [{ ...grant, wrapped_key: grant.wrapped_key.replace('-----END AGE ENCRYPTED FILE-----', '') }, /wrapped_key/],
      [{ ...grant, wrapped_key: grant.wrapped_key.replace('\n', '\nhello world\n') }, /wrapped_key/],
      [{ ...grant, wrapped_key: `-----BEGIN AGE ENCRYPTED FILE-----\n${'QUFB\n'.repeat(900)}-----END AGE ENCRYPTED FILE-----\n` }, /wrapped_key/],
      [{ ...grant, age_recipient: 'age1notarecipient' }, /age_recipient/],
      [{ ...grant, age_recipient: 42 }, /age_recipient/],
    ];
    for (const [g, field] of variants) {
      const found = await full(withGrant(base(), g));
      expect(found.length, JSON.stringify(g).slice(0, 80)).toBeGreaterThan(0);
      expect(found.every((f) => f.startsWith(`${GRANT}:`) && / schema /.test(f)), found.join('\n')).toBe(true);
      expect(found.join('\n')).toMatch(field);
    }
  });

  it('is refused by the schema whatever text replaces the wrapped key, unless it is armored age', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), async (text) => {
        const found = await full(withGrant(base(), { ...grant, wrapped_key: text }));
        expect(found.some((f) => f.startsWith(`${GRANT}:`) && f.includes('wrapped_key'))).toBe(true);
      }),
      { numRuns: 40, seed: 11 },
    );
  });

  it('names a private model cube and a person with a published key', async () => {
    const cases: Array<[Files, string]> = [
      [without(withGrant(base()), P.model), `${GRANT}:1:1 references a grant of the model ${MODEL}, which does not exist: there is no ${P.model}`],
      [{ ...withGrant(base()), [P.model]: yaml({ ...privateModel(), kind: 'metrics' }) }, `${GRANT}:1:1 references only models are granted: ${MODEL} is a metrics cube`],
      [
        { ...withGrant(base()), [P.model]: yaml(cube('model', 'operational', 'f')) },
        `${GRANT}:1:1 references ${MODEL} is not private (its additional files are not encrypted), so there is no key to grant: remove ${GRANT}`,
      ],
      [
        withGrant(base(), grant, paths.modelGrant(MODEL, 'erin')),
        `${paths.modelGrant(MODEL, 'erin')}:1:1 references erin has no published key (people/erin.yaml): they run \`medperf-git keys init\` and \`medperf-git keys publish\`, then the model is granted to them`,
      ],
    ];
    for (const [files, message] of cases) {
      const found = await full(files);
      expect(found, message).toContain(message);
    }
  });

  it('is wrapped to the grantee\'s current key within a change, and left alone on main after they rotate', async () => {
    const other = await grantRecord(key, exampleIdentity('erin').keys.age_recipient);
    const found = await change(base(), withGrant(base(), other), 'bob');
    expect(found).toEqual([
      `${GRANT}:1:1 references age_recipient must be the one people/dora.yaml publishes (version 1: ${examplePerson('dora').age_recipient}): grant again with \`medperf-git mlcube grant -m ${MODEL} --to dora\``,
    ]);
    expect((await full(withGrant(base(), other))).filter((f) => f.includes('age_recipient must'))).toEqual([]);
  });

  it('needs no reviewer, as the cube\'s own record does: granted and revoked by its owner alone', async () => {
    const changed = [GRANT];
    for (const [before, after] of [[base(), withGrant(base())], [withGrant(base()), base()]] as const) {
      const decision = await evaluateGate({ base: view(before), head: view(after), changed, author: 'bob', reviews: [], headSha: 'a'.repeat(40) });
      expect(decision.satisfied).toBe(true);
      expect(decision.autoMergeable).toBe(true);
    }
  });

  it('is written only by the model\'s owners, whoever else tries', async () => {
    for (const author of ['dora', 'carol', 'admin1', 'mallory']) {
      expect(await change(base(), withGrant(base()), author)).toContain(`${GRANT}:1:1 ownership ${author} may not add ${GRANT}: grants of the model ${MODEL} belong to its owner bob`);
      expect(await change(withGrant(base()), base(), author)).toContain(`${GRANT}:1:1 ownership ${author} may not delete ${GRANT}: grants of the model ${MODEL} belong to its owner bob`);
    }
    const coOwned: Files = { ...base(), [P.model]: yaml(privateModel({ owners: ['carol'] })) };
    expect(await change(coOwned, withGrant(coOwned), 'carol')).toEqual([]);
  });

  it('is not left behind by a model made public or deleted', async () => {
    const development = { ...withGrant(base()), [P.model]: yaml(privateModel({ state: 'development' })) };
    const madePublic = { ...development, [P.model]: yaml({ ...cube('model', 'development', 'f') }) };
    expect(await change(development, madePublic, 'bob')).toContain(
      `${P.model}:1:1 references ${MODEL} is not private, but 1 grant of its key remain (${GRANT}): revoke them in the same change (\`medperf-git mlcube revoke\`)`,
    );
    const noResults = without(development, P.modelAssociation);
    const deleted = without(noResults, P.model);
    expect((await change(noResults, deleted, 'bob')).join('\n')).toContain(`1 grant of its key would name nothing (${GRANT}); revoke them in the same change`);
    expect(await change(noResults, without(deleted, GRANT), 'bob')).toEqual([]);
  });

  it('keeps an operational private model\'s pins: its recipient and plaintext hash never change', async () => {
    const variants: Array<[Partial<CubeRecord>, string]> = [
      [{ private: { age_recipient: (await newModelKey()).recipient, additional_files_sha256: hex('8') } }, 'private.age_recipient of an operational cube never changes'],
      [{ private: { age_recipient: key.recipient, additional_files_sha256: hex('9') } }, 'private.additional_files_sha256 of an operational cube never changes'],
    ];
    for (const [over, message] of variants) {
      expect((await change(base(), { ...base(), [P.model]: yaml(privateModel(over)) }, 'bob')).join('\n')).toContain(message);
    }
  });

  it('pins a private cube\'s additional files: a private record without them is refused by the schema', async () => {
    const { additional_files: _gone, ...noFiles } = privateModel();
    expect((await full({ ...base(), [P.model]: yaml(noFiles) })).join('\n')).toMatch(new RegExp(`${P.model}:\\d+:\\d+ schema .*additional_files`));
    expect((await full({ ...base(), [P.model]: yaml(privateModel({ private: { age_recipient: key.recipient } as never })) })).join('\n')).toMatch(/additional_files_sha256/);
  });
});

describe('opening a grant', () => {
  it('refuses a grant that another identity, an altered text or another key gives', async () => {
    const dora = exampleIdentity('dora').ageIdentity;
    await expect(openGrant(grant, exampleIdentity('erin').ageIdentity, key.recipient, GRANT)).rejects.toThrow(`${GRANT} does not open with your identity`);
    const body = grant.wrapped_key.split('\n');
    body[2] = body[2]!.slice(0, 10) + (body[2]![10] === 'A' ? 'B' : 'A') + body[2]!.slice(11);
    const altered: ModelGrantRecord = { ...grant, wrapped_key: body.join('\n') };
    await expect(openGrant(altered, dora, key.recipient, GRANT)).rejects.toThrow(/does not open with your identity/);
    const otherKey = await grantRecord(await newModelKey(), exampleIdentity('dora').keys.age_recipient);
    await expect(openGrant(otherKey, dora, key.recipient, GRANT)).rejects.toThrow(`${GRANT} holds a key that is not the model's (its record pins ${key.recipient})`);
  });
});
