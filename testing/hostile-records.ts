// Hostile records: a data owner's result of just under the 1 MiB limit made of what costs a reader
// most, and records just under the entry limit, which are read whole. The validate-hostile
// benchmark times them; the tests check what each is told.
import { MAX_RECORD_BYTES } from '../registry/yaml.ts';
import { EXAMPLE_PATHS as P, exampleFiles } from './example-registry.ts';

/** Lines made by `line(i)` appended to `head` until the file is just under the record limit. */
function fill(head: string, line: (i: number) => string): string {
  const parts = [head];
  let size = Buffer.byteLength(head);
  for (let i = 0; ; i++) {
    const next = line(i);
    if (size + next.length >= MAX_RECORD_BYTES) break;
    parts.push(next);
    size += next.length;
  }
  return parts.join('');
}

/** A flow mapping of distinct short keys of about `bytes`, its first key repeated at its end. */
function flowKeys(bytes: number): string {
  const keys: string[] = [];
  let size = 2;
  for (let i = 0; size < bytes - 16; i++) {
    keys.push(`k${i.toString(36)}: 1`);
    size += keys.at(-1)!.length + 2;
  }
  return `{${keys.join(', ')}, k0: 1}`;
}

/** The hostile variants of the example registry's result, by what they are made of. */
export function hostileResults(): Record<string, string> {
  const result = exampleFiles()[P.result]!;
  const n = (i: number) => String(i).padStart(7, '0');
  return {
    comments: fill(result, (i) => `# patient ${n(i)} born 1961-04-02, seen by Dr. Roe\n`),
    'unknown fields': fill(result, (i) => `field_${n(i)}: ${i}\n`),
    anchors: fill(result.replace('metrics:\n', 'metrics: &m\n'), (i) => `alias_${n(i)}: *m\n`),
    'flat list': fill(`${result}notes:\n`, (i) => `  - ${i}\n`),
    // Under the entry limit a record is read whole: many findings, each mapping below the limit.
    'unknown fields, to the entry limit': result + Array.from({ length: 9_950 }, (_, i) => `field_${n(i)}: ${i}\n`).join(''),
    // A duplicate key is found where it starts, by one pass over the file, however many keys precede it.
    'duplicate key after a long flow mapping': `${flowKeys(64 * 1024)}\n`,
    'duplicate key after a long flow mapping, to the size limit': `${flowKeys(MAX_RECORD_BYTES - 16)}\n`,
    'duplicate key in metrics, after many keys': result.replace('metrics:\n', `metrics: ${flowKeys(60 * 1024)}\nunused:\n`),
    'nested metrics, to the entry limit': result.replace('metrics:\n', `metrics:\n${Array.from({ length: 10 }, (_, j) => `  group_${j}:\n${Array.from({ length: 990 }, (_, i) => `    m_${n(i)}: 0.5\n`).join('')}`).join('')}`),
  };
}

