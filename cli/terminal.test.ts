// Record text reaches a terminal escaped: a cube, benchmark or dataset named with ANSI escapes,
// carriage returns, BEL, C1 controls or bidirectional overrides is shown, never obeyed, by every
// command that prints it (tables, views, merge messages, PR titles, errors), and JSON still parses
// back to the record's text.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { Cli } from 'clipanion';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_PATHS as P, exampleFiles } from '../testing/example-registry.ts';
import { ADMIN, createHarness, type Harness } from '../testing/registry-harness.ts';
import { BaseCommand, type MedperfContext } from './base.ts';
import { terminalJson, terminalText } from './terminal.ts';

/** What a terminal would obey or a reader not see: any C0 control but newline, DEL, C1, line separators, format and other default-ignorable characters, the braille blank, private use, noncharacters, lone surrogates. */
const OBEYED = /[\x00-\x09\x0b-\x1f\x7f-\x9f\p{Cf}\p{Zl}\p{Zp}\p{DI}\u2800\p{Co}\p{NChar}\p{Cs}]/u;

const PAYLOADS: Array<[string, string, string]> = [
  // [what, the text in the record, how the terminal shows it]
  ['ANSI colour and clear screen', 'Model\x1b[2J\x1b[31mRED', 'Model\\e[2J\\e[31mRED'],
  ['an OSC window title ended by BEL', 'Model\x1b]0;owned\x07', 'Model\\e]0;owned\\x07'],
  ['a carriage return that overwrites the line', 'Model\rFAILED', 'Model\\rFAILED'],
  ['a C1 CSI and NEL', 'Model\x9b2J\x85next', 'Model\\x9b2J\\x85next'],
  ['a bidi override and isolate', 'Model\u202egnp.exe\u2066x\u2069', 'Model\\u202egnp.exe\\u2066x\\u2069'],
  ['a newline that forges a line, and a tab', 'Model\nmodel-owner/fake  Fake\tx', 'Model\\nmodel-owner/fake  Fake\\tx'],
  ['zero-width characters that hide text in a name', 'Model zero\u200bwidth\u200d\ufeff\u2060\u00ad', 'Model zero\\u200bwidth\\u200d\\ufeff\\u2060\\xad'],
  ['Unicode tag characters that spell hidden text', 'Model\u{e0041}\u{e0042}\u180e', 'Model\\u{e0041}\\u{e0042}\\u180e'],
];

describe('terminalText', () => {
  it('shows each payload as its visible escape', () => {
    for (const [, text, shown] of PAYLOADS) expect(terminalText(text)).toBe(shown);
    expect(terminalText('two\nlines\r', { lines: true })).toBe('two\nlines\\r');
  });

  it('fast-check: nothing a terminal obeys survives, printable text is unchanged, and JSON parses back to the same value', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.oneof(fc.constantFrom(...'\u200b\u00ad\u{e0041}\u2064\u206f\ufeff'), fc.string({ unit: 'binary', maxLength: 1 })), maxLength: 80 }), (s) => {
        const shown = terminalText(s);
        expect(shown).not.toMatch(OBEYED);
        expect(shown).not.toContain('\n');
        expect(terminalText(s, { lines: true })).not.toMatch(OBEYED);
        if (!OBEYED.test(s) && !s.includes('\n')) expect(shown).toBe(s);
        const json = terminalJson({ name: s });
        expect(json).not.toMatch(OBEYED);
        expect(JSON.parse(json)).toEqual({ name: s });
      }),
      { numRuns: 500 },
    );
  });
});

describe('an unexpected error', () => {
  it('is printed with its message and stack escaped, whatever text it carries', async () => {
    class Boom extends BaseCommand {
      static override paths = [['boom']];
      override async execute(): Promise<number> {
        throw new Error('boom\nsecond \x1b[31mline\x07 \u202eevil');
      }
    }
    const cli = new Cli<MedperfContext>({ binaryName: 'medperf-git' });
    cli.register(Boom);
    let err = '';
    const sink = (write: (t: string) => void) => new Writable({ write: (chunk, _e, done) => (write(String(chunk)), done()) });
    const code = await cli.run(['boom'], { cwd: tmpdir(), env: {}, stdin: process.stdin, stdout: sink(() => {}), stderr: sink((t) => (err += t)) });
    expect(code).toBe(1);
    expect(err).toContain('boom');
    expect(err).toContain('second \\e[31mline\\x07 \\u202eevil');
    // Clipanion colours its own heading; nothing of the error's text is obeyed.
    for (const raw of ['\x1b[31mline', '\x07', '\u202e']) expect(err).not.toContain(raw);
  });
});

describe('commands print record text escaped', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await h.cleanup();
  });

  /** The example registry on main, its cube, benchmark and dataset named with the payload. */
  async function registryNamed(text: string): Promise<Record<string, string>> {
    const files = exampleFiles();
    const quoted = JSON.stringify(text);
    files[P.cube] = files[P.cube]!.replace('name: Mobilenetv2 Classification Model', `name: ${quoted}`);
    files[P.benchmark] = files[P.benchmark]!.replace('name: Chest X-ray classification', `name: ${quoted}`);
    files[P.dataset] = files[P.dataset]!.replace(/^name: .*$/m, `name: ${quoted}`);
    delete files[P.registry];
    const admin = await h.forge(ADMIN);
    const main = await admin.main();
    const gone = (await main.list('mlcubes/')).concat(await main.list('datasets/'), await main.list('benchmarks/'));
    await admin.commitToMain(
      [...Object.entries(files).map(([path, content]) => ({ path, content })), ...gone.filter((p) => !(p in files)).map((path) => ({ path, content: null }))],
      'Name the records',
    );
    return files;
  }

  for (const [what, text, shown] of PAYLOADS) {
    it(`${what}: refused by validate, and never shown raw by mlcube ls and view, benchmark ls and view, dataset view, site build, pr ls, view and merge`, async () => {
      const files = await registryNamed(text);
      const outputs: string[] = [];
      const run = async (argv: string[]) => {
        const r = await h.run(argv, { as: ADMIN });
        outputs.push(r.out, r.err);
        return r;
      };
      // Validation refuses the records' text, and says so with it escaped.
      const folder = mkdtempSync(join(tmpdir(), 'medperf-git-terminal-site-'));
      try {
        for (const [path, content] of Object.entries({ ...exampleFiles(), ...files })) {
          mkdirSync(dirname(join(folder, path)), { recursive: true });
          writeFileSync(join(folder, path), content);
        }
        const checked = await run(['validate', folder]);
        expect(checked.code).toBe(1);
        expect(checked.out).toContain(`${P.cube}:2:1 schema field \`name\` must be text on one line, as a reader sees it`);
        // site build, on what does load, forges no line either.
        const site = await run(['site', 'build', folder, '--out', join(folder, '_site')]);
        expect(site.out.split('\n').filter((l) => l.startsWith('model-owner/fake'))).toEqual([]);
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
      // On a main that holds them anyway (pushed around the checks), a reader lists the records
      // without their text: one table row for the cube, and nothing of the payload.
      const ls = await run(['mlcube', 'ls']);
      expect(ls.code).toBe(0);
      expect(ls.out.split('\n').filter((l) => l.startsWith('model-owner/'))).toEqual([expect.stringMatching(/^model-owner\/chestxray-mobilenet +registered$/)]);
      for (const argv of [['mlcube', 'view', 'model-owner/chestxray-mobilenet'], ['benchmark', 'ls'], ['benchmark', 'view', 'chestxray'], ['dataset', 'view', 'data-owner/hospital-a']]) {
        expect((await run(argv)).out, argv.join(' ')).not.toContain(shown);
      }

      // A pull request titled with the payload: listed, viewed and merged.
      const extra = `mlcubes/model-owner/extra-${PAYLOADS.findIndex(([w]) => w === what)}.yaml`;
      const { pull } = await (await h.forge('model-owner')).propose({ key: extra, title: `Add ${text}`, body: text, files: [{ path: extra, content: exampleFiles()[P.cube]! }] });
      expect((await run(['pr', 'ls'])).out).toContain(`Add ${shown}`);
      expect((await run(['pr', 'view', String(pull.number)])).out).toContain(`Add ${shown}`);

      // A file named with the payload (git allows any byte but NUL and '/' in a name), which the
      // gate holds for an admin: listed, and named by the gate, each on one line.
      const named = `.github/${text.replaceAll('/', '_')}.yml`;
      const odd = await (await h.forge(ADMIN)).propose({ key: `named-${extra}`, title: 'A workflow', body: '', files: [{ path: named, content: 'on: push\n' }] });
      const view = (await run(['pr', 'view', String(odd.pull.number)])).out;
      expect(view).toContain(`\nFiles:\n  ${terminalText(named)}\n`);
      expect(view).toContain(`\n      ${terminalText(named)}\n`);
      expect(view.split('\n').filter((l) => l.startsWith('model-owner/fake'))).toEqual([]);
      await (await h.forge(ADMIN)).close(odd.pull.number);

      await (await h.forge(ADMIN)).review(pull.number, 'APPROVE');
      const merged = await run(['pr', 'merge', String(pull.number)]);
      expect(merged.out + merged.err).toContain(`Add ${shown}`);

      for (const output of outputs) expect(output).not.toMatch(OBEYED);
    });
  }
});
