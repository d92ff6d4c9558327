// Random records never crash a cross-record rule or the gate, and every finding is located.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { evaluateGate } from '../gate.ts';
import type { Finding } from '../findings.ts';
import { rule as declaredNames } from './declared-names.ts';
import { rule as immutability } from './immutability.ts';
import { rule as ownership } from './ownership.ts';
import { rule as privacy } from './privacy.ts';
import { rule as references } from './references.ts';
import { rule as resultPreconditions } from './result-preconditions.ts';
import { P, changeContext, fullContext, tutorialRegistry, yaml } from '../../testing/records.ts';

const RULES = [references, ownership, immutability, privacy, declaredNames, resultPreconditions];
const PATHS = Object.values(P);

/** A record replaced by random YAML: a value, a mutated field of the real record, or text with comments. */
const mutation = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => yaml(v)),
  fc
    .tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }))
    .map(([k, v]) => ({ key: k, value: v }) as const),
  fc.array(fc.oneof(fc.string(), fc.constantFrom('#', ' # ', '\n', ': ', '- ', '{', '[', '"')), { maxLength: 30 }).map((a) => a.join('')),
);

function located(findings: Finding[]): void {
  for (const f of findings) {
    expect(f.path).not.toBe('');
    expect(f.line).toBeGreaterThanOrEqual(1);
    expect(f.column).toBeGreaterThanOrEqual(1);
    expect(f.message).not.toBe('');
  }
}

describe('cross-record rules on random input', () => {
  it('never throw, and locate every finding, in full validation and in a change', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...PATHS), mutation, fc.constantFrom('dora', 'bob', 'carol', 'mallory'), async (path, m, author) => {
        const base = tutorialRegistry();
        const head = { ...base };
        if (typeof m === 'string') head[path] = m;
        else {
          // Mutate one field of the real record, keeping the rest valid.
          const lines = base[path]!.split('\n').filter((l) => !l.startsWith(`${m.key}:`));
          head[path] = lines.join('\n') + '\n' + yaml({ [m.key]: m.value });
        }
        for (const rule of RULES) {
          located(await rule.check(await fullContext(head)));
          located(await rule.check(changeContext(base, head, author)));
        }
        const ctx = changeContext(base, head, author);
        const decision = await evaluateGate({ base: ctx.base!, head: ctx.head, changed: ctx.changed, author, reviews: [] });
        expect(typeof decision.summary).toBe('string');
      }),
      { numRuns: 200 },
    );
  });
});
