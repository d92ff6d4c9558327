// Text a data owner could publish without meaning to: comments under any line ending, text on the
// editor's line, build metadata in a version, long fractions of seconds in a time.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rule as privacy } from './privacy.ts';
import { rule as schema } from './schema.ts';
import { P, SCHEMA_LINE, benchmark, dataset, datasetAssociation, result, ruleFindings, tutorialRegistry, yaml } from '../../testing/records.ts';

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

  it("refuse any editor's line but the one written for the record's kind and place: text after it, inside it, or another schema", async () => {
    const editor = SCHEMA_LINE('result');
    const at = (variant: string) => [...variant].findIndex((c, i) => c !== [...editor][i]) + 1;
    const message = `privacy the \`# yaml-language-server:\` line of a result is \`${editor}\` (with more \`../\` when the schemas folder is further up), nothing else: any other text on it could carry data out of the hospital; write it so, or remove the line`;
    const variants = [
      `${editor} Jane Roe MRN 88123`,
      `${editor}\tx`,
      `${editor} # more`,
      `${editor}  `,
      `${editor}?patient=Jane_Roe&mrn=88123`,
      `${editor}#Jane_Roe_MRN_88123`,
      `${editor}\u200bJane`,
      `${editor}\u0085Jane`,
      editor.replace('result.schema.json', 'dataset.schema.json'),
      editor.replace('../', ''),
      editor.replace('$schema=../', '$schema=https://example.org/Jane-Roe/MRN-88123/../'),
      '# yaml-language-server: $schema=https://example.org/Jane-Roe/MRN-88123/result.schema.json',
      '# yaml-language-server: Jane Roe',
    ];
    for (const line of variants) {
      const files = tutorialRegistry();
      files[P.result] = RECORDS[P.result]!().replace(editor, line);
      expect(await privacyOf.check(files, [P.result]), line).toEqual([`${P.result}:1:${at(line)} ${message}`]);
    }
    // Datasets and associations, each at its own depth.
    const files = tutorialRegistry();
    files[P.dataset] = RECORDS[P.dataset]!().replace(SCHEMA_LINE('dataset'), `${SCHEMA_LINE('dataset')}#Jane`);
    files[P.datasetAssociation] = RECORDS[P.datasetAssociation]!().replace(SCHEMA_LINE('dataset-association'), SCHEMA_LINE('dataset-association').replace('../', ''));
    expect((await privacyOf.check(files, [P.dataset, P.datasetAssociation])).map((f) => f.split(' privacy ')[0])).toEqual([
      `${P.datasetAssociation}:1:${'# yaml-language-server: $schema=../../../'.length + 1}`,
      `${P.dataset}:1:${SCHEMA_LINE('dataset').length + 1}`,
    ]);
    // A registry inside a larger repository, whose schemas folder is further up: more `../`, and no more than 16 of them.
    const further = tutorialRegistry();
    further[P.result] = RECORDS[P.result]!().replace(editor, editor.replace('$schema=', '$schema=../../'));
    expect(await privacyOf.check(further, [P.result])).toEqual([]);
    further[P.result] = RECORDS[P.result]!().replace(editor, editor.replace('$schema=', `$schema=${'../'.repeat(17)}`));
    expect((await privacyOf.check(further, [P.result])).map((f) => f.split(' privacy ')[0])).toEqual([`${P.result}:1:${editor.indexOf('schemas/') + 16 * 3 + 1}`]);
  });

  it("are refused in a person's keys too, which merge with no reviewer", async () => {
    const files = tutorialRegistry();
    const lines = files[P.person]!.trimEnd().split('\n');
    files[P.person] = [...lines, '# Jane Roe, MRN 88123, DOB 1961-04-02'].join('\n') + '\n';
    expect(await privacyOf.check(files, [P.person])).toEqual([`${P.person}:${lines.length + 1}:1 privacy ${comment("a person's keys")}`]);
    expect(await privacyOf.check(tutorialRegistry(), [P.person])).toEqual([]);
  });

  it("keep the editor's line, and a # inside quoted text is not a comment", async () => {
    const files = tutorialRegistry();
    files[P.dataset] = yaml(dataset({ description: 'ward #3, floor 2' }), SCHEMA_LINE('dataset'));
    expect(await privacyOf.check(files, [P.dataset, P.result])).toEqual([]);
  });
});

describe('the layout of the records medperf-git writes', () => {
  const why = (label: string) => `medperf-git writes ${label} without it, and whitespace could carry data out of the hospital`;
  it('refuses whitespace that could carry data, in results, associations and keys, when a change brings them', async () => {
    const base = tutorialRegistry();
    const bytes = [...Buffer.from('MRN 88123')];
    const cases: Array<[string, string, (t: string) => string, (t: string) => string[]]> = [
      ['a byte per line of spaces', P.result, (t) => t.replace('\nbenchmark:', `\n${bytes.map((b) => ' '.repeat(b)).join('\n')}\nbenchmark:`), () =>
        bytes.map((_, i) => `${P.result}:${i + 2}:1 privacy line ${i + 2} is only spaces: ${why('a result')}; remove it`)],
      ['blank lines', P.datasetAssociation, (t) => t.replace('\ncompatibility_test:', '\n\n\ncompatibility_test:'), () => [
        `${P.datasetAssociation}:2:1 privacy line 2 is blank: ${why('a dataset association')}; remove it`,
        `${P.datasetAssociation}:3:1 privacy line 3 is blank: ${why('a dataset association')}; remove it`,
      ]],
      ['spaces at the end of a line', P.person, (t) => t.replace(/\n/, '   \n'), (t) => [`${P.person}:1:${t.split('\n')[0]!.trimEnd().length + 1} privacy line 1 ends with spaces: ${why("a person's keys")}; remove them`]],
      ['line endings that differ line by line', P.result, (t) => t.replace(/\n/g, (m, i: number) => (i % 3 ? m : '\r\n')).replace('\r\n', '\n'), (t) =>
        t.split('\n').flatMap((l, i) => (l.endsWith('\r') ? [`${P.result}:${i + 1}:${l.length} privacy line ${i + 1} ends with "\\r\\n" where the file's first line ends with "\\n": ${why('a result')}; end every line alike`] : []))],
      ['an odd indentation', P.datasetAssociation, (t) => t.replace(/\n {2}metrics:/, '\n   metrics:'), () => []],
    ];
    for (const [what, path, edit, expected] of cases) {
      const head = { ...base, [path]: edit(base[path]!) };
      const found = (await privacyOf.change(base, head)).filter((f) => f.includes(' is only spaces') || f.includes(' is blank') || f.includes(' ends with ') || f.includes(' indented '));
      if (what === 'an odd indentation') {
        // YAML reads it as another structure or not at all; either way, it is refused.
        expect(found.length + (await schemaOf.change(base, head)).length, what).toBeGreaterThan(0);
        continue;
      }
      expect(expected(head[path]!).length, what).toBeGreaterThan(0);
      expect(found, what).toEqual(expected(head[path]!));
    }
    // Over a whole registry the rule reads no bytes again: main holds what changes brought.
    const head = { ...base, [P.result]: base[P.result]!.replace('\nbenchmark:', '\n \nbenchmark:') };
    expect((await privacyOf.full(head)).filter((f) => f.includes('only spaces'))).toEqual([]);
    // A data owner's dataset keeps blank lines where its description is a block of paragraphs.
    const withParagraphs = { ...base, [P.dataset]: yaml(dataset({ description: 'First.\n\nSecond.\n' })) };
    expect(await privacyOf.change(base, withParagraphs)).toEqual([]);
  });
});

describe('the text a record holds', () => {
  const line = 'text on one line, as a reader sees it, not blank: no control characters, and no invisible ones (zero-width, bidirectional or other format characters, fillers, line separators, private use, noncharacters)';
  const text = "free text typed and confirmed by the record's owner, as a reader sees it: no control characters but line breaks and tabs, and no invisible ones (zero-width, bidirectional or other format characters, fillers, line separators, private use, noncharacters)";
  const hidden: Array<[string, string]> = [
    ['NUL', 'Chest\0Jane Roe'],
    ['zero-width space', 'hospital\u200ba'],
    ['zero-width joiner and word joiner', 'a\u200d\u2060b'],
    ['bidi override', 'Hospital A\u202e81288 NRM\u202c'],
    ['bidi isolate', 'x\u2066y\u2069'],
    ['soft hyphen', 'Ja\u00adne'],
    ['byte order mark', 'x\ufeffy'],
    ['tag characters', 'x\u{e004a}\u{e0061}'],
    ['private use', 'x\ue000y\u{f0000}'],
    ['C1 control', 'x\u0085y'],
    ['ESC', 'x\u001b[31my'],
    ['line separator', 'x\u2028y'],
    ['Hangul fillers', 'x\u3164\u115f\u1160\uffa0y'],
    ['variation selector and combining grapheme joiner', 'x\ufe0f\u034fy'],
    ['Khmer inherent vowel', 'x\u17b4y'],
    ['braille blank', 'x\u2800y'],
    ['noncharacters', 'x\ufffe\uffffy'],
    ['a lone surrogate', 'x\ud800y'],
  ];
  it('refuses characters a reader does not see, in a dataset\'s name, location and description, each variant', async () => {
    for (const [what, value] of hidden) {
      const files = tutorialRegistry();
      files[P.dataset] = yaml(dataset({ name: value, location: value, description: value }));
      const got = JSON.stringify(value.length > 40 ? value.slice(0, 37) + '...' : value);
      expect(await schemaOf.check(files, [P.dataset]), what).toEqual([
        `${P.dataset}:1:1 schema field \`name\` must be ${line} (got ${got})`,
        `${P.dataset}:2:1 schema field \`location\` must be ${line} (got ${got})`,
        `${P.dataset}:${files[P.dataset]!.split('\n').findIndex((l) => l.startsWith('description:')) + 1}:1 schema field \`description\` must be ${text} (got ${got})`,
      ]);
    }
  });

  it('refuses a name of spaces alone, which a list shows blank', async () => {
    const files = tutorialRegistry();
    files[P.dataset] = yaml(dataset({ name: '   ' }));
    expect(await schemaOf.check(files, [P.dataset])).toEqual([`${P.dataset}:1:1 schema field \`name\` must be ${line} (got "   ")`]);
  });

  it('refuses a URL that is not printable ASCII: percent-encoded, it hides nothing', async () => {
    for (const url of ['https://example.org/\u202eevil', 'https://exa\u200bmple.org/x', 'https://example.org/\u0085\u009b2J', 'https://example.org/\ue000', 'https://example.org/ünïcode']) {
      const files = tutorialRegistry();
      files[P.benchmark] = yaml({ ...benchmark(), docs_url: url });
      const found = await schemaOf.check(files, [P.benchmark]);
      expect(found, url).toEqual([expect.stringMatching(/ schema field `docs_url` must be a web page about the benchmark: https or http, printable ASCII, anything else percent-encoded \(got /)]);
    }
    const files = tutorialRegistry();
    files[P.benchmark] = yaml({ ...benchmark(), docs_url: 'https://example.org/%C3%BCn%C3%AFcode?a=1&b=~x#y' });
    expect(await schemaOf.check(files, [P.benchmark])).toEqual([]);
  });

  it('takes any text a reader sees as it is: accents, scripts, emoji, and line breaks and tabs in a description', async () => {
    await fc.assert(
      // Not spaces alone: a name a list would show blank is refused (above).
      fc.asyncProperty(fc.string({ unit: fc.constantFrom(...'aé ñ中文Ωß-.,;:()\'"#&/😀'), minLength: 1, maxLength: 60 }).filter((v) => /\S/.test(v)), async (value) => {
        const files = tutorialRegistry();
        files[P.dataset] = yaml(dataset({ name: value, location: value, description: `${value}\n\tsecond line` }));
        expect(await schemaOf.check(files, [P.dataset])).toEqual([]);
      }),
      { numRuns: 60 },
    );
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
