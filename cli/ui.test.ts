import type { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { capturedContext } from '../testing/cli.ts';
import { confirm, keyValues, statusLine, table } from './ui.ts';

function context(input?: string, interactive?: boolean) {
  const { context: ctx, out, err } = capturedContext({ input, interactive });
  return { ctx, out, err };
}

describe('confirm', () => {
  it('--yes answers without asking', async () => {
    const c = context();
    expect(await confirm(c.ctx, 'Open the pull request?', { yes: true })).toBe(true);
    expect(c.out()).toBe('');
  });
  it('refuses to ask without a terminal, saying to pass --yes', async () => {
    const c = context();
    await expect(confirm(c.ctx, 'Open the pull request?', { yes: false })).rejects.toThrow(
      'Open the pull request?: cannot ask without a terminal; pass --yes to confirm, nothing was done',
    );
  });
  it('asks on a terminal; only y or yes is yes', async () => {
    const yes = context('y\n', true);
    expect(await confirm(yes.ctx, 'Open the pull request?', { yes: false })).toBe(true);
    expect(yes.out()).toBe('Open the pull request? [y/N] ');
    expect(await confirm(context('\n', true).ctx, 'Go?', { yes: false })).toBe(false);
    expect(await confirm(context('nope\n', true).ctx, 'Go?', { yes: false })).toBe(false);
    expect(await confirm(context('', true).ctx, 'Go?', { yes: false })).toBe(false);
  });
});

describe('tables and summaries', () => {
  it('aligns columns without borders or trailing spaces', () => {
    expect(table(['MODEL', 'STATE', 'PRIORITY'], [['model-owner/mobilenet', 'approved', 1], ['x/y', 'pending', undefined]])).toBe(
      ['MODEL                  STATE     PRIORITY', 'model-owner/mobilenet  approved  1', 'x/y                    pending'].join('\n'),
    );
  });
  it('aligns key/value pairs and skips missing values', () => {
    expect(keyValues([['name', 'cnn'], ['description', undefined], ['state', 'operational']])).toBe('name:  cnn\nstate: operational');
  });
});

describe('status line', () => {
  it('prints a step once per change outside a terminal', () => {
    const c = context();
    const s = statusLine(c.ctx);
    s.update('infer: running');
    s.update('infer: running 1s');
    s.update('hashing: 6% of 40 MB');
    s.update('hashing: 50% of 40 MB');
    s.update('evaluate: running');
    s.done('compatibility test passed');
    expect(c.err()).toBe('infer: running\nhashing: 6% of 40 MB\nevaluate: running\ncompatibility test passed\n');
  });
  it('rewrites the line in place on a terminal', () => {
    const c = context();
    (c.ctx.stderr as PassThrough & { isTTY?: boolean }).isTTY = true;
    const s = statusLine(c.ctx);
    s.update('infer: running');
    s.update('infer: running 1s');
    s.done();
    expect(c.err()).toBe('\r\x1b[Kinfer: running\r\x1b[Kinfer: running 1s\r\x1b[K');
  });
});
