// schema: every record file parses as YAML and matches its kind's JSON Schema. The findings come
// from loading the file (registry/load.ts): the same parse the other rules read, done once.
import type { Finding } from '../findings.ts';
import { loadThrough } from '../load.ts';
import type { Rule } from '../view.ts';

export const rule: Rule = {
  id: 'schema',
  async check(ctx) {
    const out: Finding[] = [];
    for (const path of ctx.changed) {
      // Files outside the layout load with a layout finding only, which is the layout rule's.
      const { findings } = await loadThrough(ctx.head, path);
      for (const f of findings) if (f.rule === 'yaml' || f.rule === 'schema') out.push(f);
    }
    return out;
  },
};
