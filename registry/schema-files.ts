// The JSON schemas in schemas/, as data: read once, when this module loads. Ajv, and compiling
// them, is schemas.ts's: what only reads a schema (metric patterns, the editor's modeline) need not load it.
import { readdirSync, readFileSync } from 'node:fs';
import { packagePath } from './package-root.ts';

export const SCHEMA_DIR = packagePath('schemas') + '/';

/** The `$id` of each schema: `urn:medperf-git:schema:<name>`. */
export function schemaId(name: string): string {
  return `urn:medperf-git:schema:${name}`;
}

export type CubeConfigFormat = 'mlcube' | 'container-config';

function loadSchemas(): Array<Record<string, unknown>> {
  return readdirSync(SCHEMA_DIR)
    .filter((f) => f.endsWith('.schema.json'))
    .sort()
    .map((f) => JSON.parse(readFileSync(SCHEMA_DIR + f, 'utf8')) as Record<string, unknown>);
}

export const schemas = loadSchemas();

