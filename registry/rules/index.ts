// Every rule the Action runs, in a fixed order. (Started with the schema and layout rules; the
// cross-record rules join this list as they land.)
import type { Rule } from '../view.ts';
import { rule as layout } from './layout.ts';
import { rule as schema } from './schema.ts';

export const rules: Rule[] = [schema, layout];
