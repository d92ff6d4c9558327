// Text a data owner could publish without meaning to: comments under any line ending, text on the
// editor's line, build metadata in a version, long fractions of seconds in a time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rule as privacy } from './privacy.ts';
import { rule as schema } from './schema.ts';
import { P, SCHEMA_LINE, dataset, datasetAssociation, result, ruleFindings, tutorialRegistry, yaml } from '../../testing/records.ts';

const privacyOf = ruleFindings(privacy, { sorted: true });
const schemaOf = ruleFindings(schema, { sorted: true });

const LABELS: Record<string, string> = {
  [P.result]: 'a result',
  [P.dataset]: 'a dataset',
  [P.datasetAssociation]: 'a dataset association',
};
const RECORDS: Record<string, () => string> = {
  [P.result]: () => yaml(result(), SCHEMA_LINE('result')),
  [P.dataset]: () => yaml(dataset(), SCHEMA_LINE('dataset')),
  [P.datasetAssociation]: () => yaml(datasetAssociation(), SCHEMA_LINE('dataset-association')),
};
const comment = (label: string) =>
  `comments are not allowed in ${label}: a comment could carry data out of the hospital; remove it (only the leading \`# yaml-language-server: $schema=...\` line may stay)`;

describe('comments in the records a data owner writes', () => {
  it('are refused in results, datasets and dataset associations, on any line, with any line ending', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(P.result, P.dataset, P.datasetAssociation),
        fc.constantFrom('\n', '\r\n', '\r'),
        fc.nat(),
        fc.stringMatching(/^[A-Za-z0-9 ,.:]{0,30}$/),
        fc.boolean(),
        async (path, eol, where, words, indented) => {
          const lines = RECORDS[path]!().trimEnd().split('\n');
          const at = 1 + (where % lines.length); // after the editor's line
          const indent = indented ? (/^ */.exec(lines[at] ?? '')?.[0] ?? '') : '';
          lines.splice(at, 0, `${indent}# Patient ${words}`);
          const files = tutorialRegistry();
          files[path] = lines.join(eol) + eol;
          expect(await privacyOf.check(files, [path])).toEqual([`${path}:${at + 1}:${indent.length + 1} privacy ${comment(LABELS[path]!)}`]);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('are refused after a value too', async () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const files = tutorialRegistry();
      files[P.datasetAssociation] = RECORDS[P.datasetAssociation]!().replace('initiated_by: dora', 'initiated_by: dora # Jane Roe').split('\n').join(eol);
      expect(await privacyOf.check(files, [P.datasetAssociation]), JSON.stringify(eol)).toEqual([`${P.datasetAssociation}:2:20 privacy ${comment('a dataset association')}`]);
    }
  });

  it("refuse text after the schema on the editor's line, and any other text there", async () => {
    for (const tail of [' Jane Roe MRN 88123', '\tx', ' # more']) {
      const files = tutorialRegistry();
      files[P.result] = RECORDS[P.result]!().replace(/^(# yaml-language-server: \$schema=\S+)/, `$1${tail}`);
      const schemaPath = SCHEMA_LINE('result').slice('# yaml-language-server: '.length);
      expect(await privacyOf.check(files, [P.result]), tail).toEqual([
        `${P.result}:1:${SCHEMA_LINE('result').length + 1} privacy text after the schema on the \`# yaml-language-server:\` line: nothing may follow \`${schemaPath}\` on that line, as text there could carry data out of the hospital; remove it`,
      ]);
    }
    const files = tutorialRegistry();
    files[P.dataset] = '# yaml-language-server: Jane Roe\n' + yaml(dataset());
    expect(await privacyOf.check(files, [P.dataset])).toEqual([
      `${P.dataset}:1:1 privacy the \`# yaml-language-server:\` line must be exactly \`# yaml-language-server: $schema=<schema>\`; anything else there could carry data out of the hospital`,
    ]);
  });

  it("keep the editor's line, and a # inside quoted text is not a comment", async () => {
    const files = tutorialRegistry();
    files[P.dataset] = yaml(dataset({ description: 'ward #3, floor 2' }), SCHEMA_LINE('dataset'));
    expect(await privacyOf.check(files, [P.dataset, P.result])).toEqual([]);
  });
});

describe('versions and times', () => {
  it('refuse build metadata and free pre-release text in medperf_git_version', async () => {
    for (const version of ['0.1.0+John.Smith.1961', '0.1.0-Jane-Roe', '0.1.0+build.5', '00.1.0', '0.1.0-rc.1.2', '1.2.3-alpha.x', '12345.0.0']) {
      const files = tutorialRegistry();
      const r = result();
      files[P.result] = yaml({ ...r, provenance: { ...r.provenance, medperf_git_version: version } }, SCHEMA_LINE('result'));
      const found = await schemaOf.check(files, [P.result]);
      expect(found, version).toEqual([
        `${P.result}:30:3 schema field \`provenance.medperf_git_version\` must be a medperf-git version: MAJOR.MINOR.PATCH, optionally -alpha, -beta or -rc with a number; no build metadata (free text) (got ${JSON.stringify(version)})`,
      ]);
    }
    for (const version of ['0.1.0', '1.20.3', '2.0.0-rc.1', '2.0.0-beta']) {
      const files = tutorialRegistry();
      const r = result();
      files[P.result] = yaml({ ...r, provenance: { ...r.provenance, medperf_git_version: version } }, SCHEMA_LINE('result'));
      expect(await schemaOf.check(files, [P.result]), version).toEqual([]);
    }
  });

  it('refuse times with more than millisecond precision, in results and associations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[0-9]{4,12}$/), fc.constantFrom('Z', '+02:00'), async (fraction, zone) => {
        const at = `2026-11-20T10:00:00.${fraction}${zone}`;
        const files = tutorialRegistry();
        const r = result();
        files[P.result] = yaml({ ...r, provenance: { ...r.provenance, executed_at: at } }, SCHEMA_LINE('result'));
        const a = datasetAssociation();
        files[P.datasetAssociation] = yaml({ ...a, compatibility_test: { ...a.compatibility_test, executed_at: at } });
        const found = await schemaOf.check(files, [P.result, P.datasetAssociation]);
        const what = 'must be a time in RFC 3339 form with at most millisecond precision, as Date.toISOString() writes it (2026-11-20T10:00:00.123Z)';
        expect(found).toEqual([
          `${P.datasetAssociation}:7:3 schema field \`compatibility_test.executed_at\` ${what} (got ${JSON.stringify(at)})`,
          `${P.result}:31:3 schema field \`provenance.executed_at\` ${what} (got ${JSON.stringify(at)})`,
        ]);
      }),
      { numRuns: 40 },
    );
    const files = tutorialRegistry();
    const r = result();
    files[P.result] = yaml({ ...r, provenance: { ...r.provenance, executed_at: '2026-11-20T10:00:00.123Z' } }, SCHEMA_LINE('result'));
    expect(await schemaOf.check(files, [P.result])).toEqual([]);
  });
});
