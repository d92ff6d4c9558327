// What reaches a terminal. A record's text is anyone's text: a cube named "\x1b]0;...\x07" or
// "ok\rFAILED" would retitle the window, recolour the screen or overwrite what the user reads.
// Everything a command prints goes through terminalText (BaseCommand's print, warn and errors,
// tables, key/value views, status lines, prompts), so a control character is shown, never obeyed.
// Kept apart from ui.ts so that every command can use it without loading tables.
import { UNSEEN_BEYOND_C0 } from '../registry/text.ts';

/**
 * The characters a terminal acts on or a reader does not see as themselves: C0 controls (newline
 * aside, when lines are kept) and those of registry/text.ts.
 */
const CONTROLS = new RegExp(`[\\x00-\\x1f${UNSEEN_BEYOND_C0}]`, 'gu');
const CONTROLS_BUT_NEWLINE = new RegExp(`[\\x00-\\x09\\x0b-\\x1f${UNSEEN_BEYOND_C0}]`, 'gu');
/** What JSON.stringify leaves raw. */
const JSON_RAW = new RegExp(`[${UNSEEN_BEYOND_C0}]`, 'gu');
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };
const hex = (code: number, width: number) => code.toString(16).padStart(width, '0');

function visible(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.codePointAt(0)!;
  return code <= 0xff ? `\\x${hex(code, 2)}` : code <= 0xffff ? `\\u${hex(code, 4)}` : `\\u{${hex(code, 5)}}`;
}

/**
 * Text as a terminal may show it: each control character becomes a visible escape (`\e`, `\r`,
 * `\x07`, `\u202e`). `lines: true` keeps newlines, for whole messages; a table cell or a value is
 * one line, so its newlines are shown too.
 */
export function terminalText(text: string, options: { lines?: boolean } = {}): string {
  return text.replace(options.lines ? CONTROLS_BUT_NEWLINE : CONTROLS, visible);
}

/**
 * JSON.stringify for a terminal: JSON already escapes C0 controls; the C1 and format characters
 * it leaves raw are written as \u escapes too, so the same value parses back.
 */
export function terminalJson(value: unknown): string {
  // A character beyond the BMP is two \u escapes, one per UTF-16 unit, as JSON writes it.
  return JSON.stringify(value).replace(JSON_RAW, (c) => [...Array(c.length).keys()].map((i) => `\\u${hex(c.charCodeAt(i), 4)}`).join(''));
}
