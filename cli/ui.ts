// What every command shows its user: confirmations that honour --yes and never hang a script,
// tables, key/value summaries, and one live status line for long work. Everything goes through
// the command's injected streams, so tests see exactly what a user sees.
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import Table from 'cli-table3';
import { MedperfError } from '../registry/errors.ts';
import { formatMetric, type Leaderboard } from '../registry/leaderboard.ts';
import type { MedperfContext } from './base.ts';
import { terminalJson, terminalText } from './terminal.ts';

/** A confirmation was needed but nobody can answer it (no terminal, and no --yes). */
export class ConfirmationNeededError extends MedperfError {
  constructor(question: string) {
    super('confirmation-needed', `${question.replace(/\s*\[y\/N\]\s*$/, '')}: cannot ask without a terminal; pass --yes to confirm, nothing was done`);
  }
}

/** The user answered no. */
export class CancelledError extends MedperfError {
  constructor(what = 'Cancelled') {
    super('cancelled', `${what}; nothing was done`);
  }
}

/**
 * Tests may mark the context interactive (and feed answers through stdin); otherwise a prompt is
 * only shown when stdin is a terminal.
 */
export type UiContextExtras = { interactive?: boolean };

function isInteractive(context: MedperfContext): boolean {
  const extras = context as MedperfContext & UiContextExtras;
  if (extras.interactive !== undefined) return extras.interactive;
  return Boolean((context.stdin as Readable & { isTTY?: boolean }).isTTY);
}

/** Reads one line from the context's stdin, leaving the stream usable for the next question. */
async function readLine(stdin: Readable, stdout: Writable, prompt: string): Promise<string> {
  const rl = createInterface({ input: stdin, output: stdout, terminal: false });
  stdout.write(terminalText(prompt));
  try {
    return await new Promise<string>((resolve) => {
      rl.once('line', (line) => resolve(line));
      rl.once('close', () => resolve(''));
    });
  } finally {
    rl.close();
  }
}

export interface ConfirmOptions {
  /** --yes was given. */
  yes: boolean;
}

/**
 * Asks `question [y/N]`. --yes answers yes without asking; without a terminal (and without --yes)
 * it throws ConfirmationNeededError rather than hang or assume. Anything but y/yes is no.
 */
export async function confirm(context: MedperfContext, question: string, options: ConfirmOptions): Promise<boolean> {
  if (options.yes) return true;
  if (!isInteractive(context)) throw new ConfirmationNeededError(question);
  const answer = await readLine(context.stdin, context.stdout, `${question} [y/N] `);
  return /^\s*y(es)?\s*$/i.test(answer);
}

/**
 * Fails early, before any long work, when a confirmation will be needed and nobody can give it:
 * a script without --yes learns so in a second, not after the compatibility test.
 */
export function ensureConfirmable(context: MedperfContext, question: string, options: ConfirmOptions): void {
  if (!options.yes && !isInteractive(context)) throw new ConfirmationNeededError(question);
}

/** confirm(), throwing CancelledError on no: for the one question before a PR is opened. */
export async function confirmOrCancel(context: MedperfContext, question: string, options: ConfirmOptions, cancelled?: string): Promise<void> {
  if (!(await confirm(context, question, options))) throw new CancelledError(cancelled);
}

/**
 * A plain table: a header row and aligned columns separated by two spaces, no borders, no colour,
 * no trailing spaces, so it reads well in a terminal, a log and a test.
 */
export function table(head: string[], rows: Array<Array<string | number | boolean | undefined | null>>): string {
  const t = new Table({
    head,
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '',
      bottom: '', 'bottom-mid': '', 'bottom-left': '', 'bottom-right': '',
      left: '', 'left-mid': '', mid: '', 'mid-mid': '',
      right: '', 'right-mid': '', middle: '  ',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0, compact: true },
  });
  // Every cell is one line of plain text: a control character in a record's text is shown escaped.
  for (const row of rows) t.push(row.map((c) => (c === undefined || c === null ? '' : terminalText(String(c)))));
  return t
    .toString()
    .split('\n')
    .map((l) => l.replace(/\s+$/, ''))
    .join('\n');
}

/** A benchmark's ranking as a terminal shows it: a heading line and the table, as the site publishes it. */
export function rankingText(board: Leaderboard): string {
  const counted = board.publish !== 'aggregate';
  const head = ['rank', 'model', board.primaryMetric, ...(counted ? ['datasets'] : [])];
  const rows = board.rows.map((r) => [
    r.rank ?? '-',
    r.model,
    r.primary === null ? (r.withheld ?? '-') : formatMetric(r.primary),
    ...(counted ? [r.datasetCount] : []),
  ]);
  // The heading is one line whatever the record's text holds: its newlines are shown, not obeyed.
  return `${terminalText(`Leaderboard of ${board.benchmark} (${board.name}), ranked on ${board.primaryMetric}, ${board.direction} is better:`)}\n${table(head, rows)}`;
}

/** `key: value` lines with the values aligned, skipping undefined values. */
export function keyValues(pairs: Array<[string, string | number | boolean | undefined | null]>): string {
  const shown = pairs.filter(([, v]) => v !== undefined && v !== null) as Array<[string, string | number | boolean]>;
  const width = Math.max(0, ...shown.map(([k]) => k.length + 1));
  return shown.map(([k, v]) => `${(k + ':').padEnd(width)} ${terminalText(String(v))}`.replace(/\s+$/, '')).join('\n');
}

/** Indents every line of a block. */
export function indent(text: string, by = '  '): string {
  return text
    .split('\n')
    .map((l) => (l.length ? by + l : l))
    .join('\n');
}

export interface StatusLine {
  /** Shows what is happening now; on a terminal it replaces the previous status in place. */
  update(text: string): void;
  /** Ends the status: clears it on a terminal, and prints `text` as a permanent line when given. */
  done(text?: string): void;
}

/**
 * One status line on stderr (stdout stays clean for --json). On a terminal it is rewritten in
 * place; elsewhere (logs, CI, tests) a line is printed only when its words change, not its
 * counters, so a log gets "infer: running" once rather than once a second.
 */
export function statusLine(context: MedperfContext, options: { quiet?: boolean } = {}): StatusLine {
  const stream = context.stderr as Writable & { isTTY?: boolean; columns?: number };
  const tty = Boolean(stream.isTTY);
  let shown = false;
  let lastStep: string | undefined;
  return {
    update(line) {
      if (options.quiet) return;
      const text = terminalText(line);
      if (tty) {
        const width = (stream.columns ?? 80) - 1;
        stream.write(`\r\x1b[K${text.length > width ? text.slice(0, width - 1) + '…' : text}`);
        shown = true;
        return;
      }
      // Counters and timers ("running 12s", "6% of 40 MB") change every tick; the words do not.
      const step = text.replace(/\s+[\d.,]+.*$/, '');
      if (step !== lastStep) {
        lastStep = step;
        stream.write(text + '\n');
      }
    },
    done(text) {
      if (tty && shown) stream.write('\r\x1b[K');
      shown = false;
      lastStep = undefined;
      if (text && !options.quiet) stream.write(terminalText(text, { lines: true }) + '\n');
    },
  };
}

/**
 * Runs long work under a status line that is cleared however the work ends, so an error is never
 * printed on the end of a half-written status.
 */
export async function withStatus<T>(context: MedperfContext, fn: (status: StatusLine) => Promise<T>): Promise<T> {
  const status = statusLine(context);
  let ended = false;
  const wrapped: StatusLine = {
    update: (text) => status.update(text),
    done: (text) => {
      ended = true;
      status.done(text);
    },
  };
  try {
    return await fn(wrapped);
  } finally {
    if (!ended) status.done();
  }
}

/** Bytes for people: 1.4 MB. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`;
}

/** The line saying where a proposed change now waits for review and checks. */
export function pullLine(pull: { number: number; url: string }, created: boolean): string {
  return `${created ? 'Opened' : 'Updated'} pull request #${pull.number}: ${pull.url}`;
}

/**
 * What a command prints once it proposed a record that needs no reviewer (a dataset's own): with
 * --json, `json` and the pull request; otherwise the pull request, how to merge it, and what next.
 */
export function printSelfMerging(
  command: { json: boolean; print(line?: string): void; printJson(value: unknown): void },
  proposed: { pull: { number: number; url: string }; created: boolean },
  json: Record<string, unknown>,
  next: string,
): number {
  const { pull, created } = proposed;
  if (command.json) {
    const { record, ...rest } = json;
    command.printJson({ ...rest, pull: pull.number, url: pull.url, created, record });
    return 0;
  }
  command.print(pullLine(pull, created));
  command.print(`It needs no reviewer: once its checks pass, merge it (\`medperf-git pr merge ${pull.number}\`).`);
  command.print(next);
  return 0;
}

/** Prints each item as one JSON line (the --json form of every list). */
export function jsonLines(stdout: Writable, items: unknown[]): void {
  for (const item of items) stdout.write(terminalJson(item) + '\n');
}

/** How every list command prints: JSON lines with --json, else a table, or a sentence when there is nothing. */
export function printList<T>(
  context: MedperfContext,
  items: T[],
  options: {
    json: boolean;
    /** The JSON line of an item; default the item itself. */
    asJson?: (item: T) => unknown;
    empty: string;
    head: string[];
    row: (item: T) => Array<string | number | boolean | undefined | null>;
  },
): void {
  if (options.json) jsonLines(context.stdout, options.asJson ? items.map(options.asJson) : items);
  else context.stdout.write((items.length ? table(options.head, items.map(options.row)) : terminalText(options.empty, { lines: true })) + '\n');
}
