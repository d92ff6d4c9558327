// Every rule the Action runs, in a fixed order: first what a file is (schema, layout), then how it
// relates to other records (references), who may change it and how (ownership, immutability), what
// it may publish (privacy, declared-names, confidential: in clear or encrypted as its benchmark
// says), whether its data owner signed it (signature), and whether a result may be accepted at all
// (result-preconditions).
import type { Rule } from '../view.ts';
import { rule as confidential } from './confidential.ts';
import { rule as declaredNames } from './declared-names.ts';
import { rule as immutability } from './immutability.ts';
import { rule as layout } from './layout.ts';
import { rule as ownership } from './ownership.ts';
import { rule as privacy } from './privacy.ts';
import { rule as references } from './references.ts';
import { rule as resultPreconditions } from './result-preconditions.ts';
import { rule as schema } from './schema.ts';
import { rule as signature } from './signatures.ts';

export const rules: Rule[] = [schema, layout, references, ownership, immutability, privacy, declaredNames, confidential, signature, resultPreconditions];
