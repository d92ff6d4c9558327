// What reaches a terminal. A record's text is anyone's text: a cube named "\x1b]0;...\x07" or
// "ok\rFAILED" would retitle the window, recolour the screen or overwrite what the user reads.
// Everything a command prints goes through terminalText (BaseCommand's print, warn and errors,
// tables, key/value views, status lines, prompts), so a control character is shown, never obeyed.
// Kept apart from ui.ts so that every command can use it without loading tables.

/**
 * The characters a terminal acts on rather than shows: C0 controls (newline aside, when lines are
 * kept), DEL, C1 controls, and the bidirectional and line-separator format characters that reorder
 * or break what follows ("Trojan Source").
 */
const BEYOND_C0 = '\\x7f-\\x9f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069';
const CONTROLS = new RegExp(`[\\x00-\\x1f${BEYOND_C0}]`, 'g');
const CONTROLS_BUT_NEWLINE = new RegExp(`[\\x00-\\x09\\x0b-\\x1f${BEYOND_C0}]`, 'g');
/** What JSON.stringify leaves raw. */
const JSON_RAW = new RegExp(`[${BEYOND_C0}]`, 'g');
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '\x1b': '\\e' };

function visible(c: string): string {
  const named = NAMED[c];
  if (named) return named;
  const code = c.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
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
 * JSON.stringify for a terminal: JSON already escapes C0 controls; the C1 and bidirectional ones
 * it leaves raw are written as \u escapes too, so the same value parses back.
 */
export function terminalJson(value: unknown): string {
  return JSON.stringify(value).replace(JSON_RAW, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
