// Text as a reader sees it. Record text is anyone's text, and some characters are not seen as
// themselves: controls a terminal obeys, and characters that show nothing or reorder what follows.
// The schemas refuse them in the text a record holds (formats `visible-line` and `visible-text`),
// and the CLI shows them escaped wherever record text reaches a terminal (cli/terminal.ts).

/**
 * The characters beyond C0 a reader does not see as themselves: DEL and the C1 controls, the line
 * and paragraph separators, every format character (Unicode's Cf: the bidirectional ones that
 * reorder what follows, "Trojan Source", and the invisible ones, zero-width spaces and joiners,
 * soft hyphens, tags), every other default-ignorable one (Hangul fillers, variation selectors, the
 * combining grapheme joiner), the braille blank, private-use characters, noncharacters and lone
 * surrogates. A character class body, for a `u` RegExp.
 */
export const UNSEEN_BEYOND_C0 = '\\x7f-\\x9f\\p{Cf}\\p{Zl}\\p{Zp}\\p{Default_Ignorable_Code_Point}\\u2800\\p{Co}\\p{Noncharacter_Code_Point}\\p{Cs}';

const UNSEEN_IN_LINE = new RegExp(`[\\x00-\\x1f${UNSEEN_BEYOND_C0}]`, 'u');
const UNSEEN_IN_TEXT = new RegExp(`[\\x00-\\x08\\x0b-\\x1f${UNSEEN_BEYOND_C0}]`, 'u');

/** Printable ASCII (nearly every name), which holds none of them. */
const PRINTABLE = /^[\x20-\x7e]*$/;

/** Whether `text` is one line a reader sees as it is, and sees something: not spaces alone. */
export function isVisibleLine(text: string): boolean {
  return (PRINTABLE.test(text) || !UNSEEN_IN_LINE.test(text)) && /\S/.test(text);
}

/** Whether `text` is seen as it is, its line breaks and tabs aside. */
export function isVisibleText(text: string): boolean {
  return PRINTABLE.test(text) || !UNSEEN_IN_TEXT.test(text);
}
