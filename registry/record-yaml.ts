// The one way a record is written: the editor's modeline, then YAML with keys in the order its
// JSON Schema declares them, so every record the CLI, the importer and the tests write reads alike.
import { dump } from 'js-yaml';
import type { RecordKind } from './layout.ts';
import { schemaId, schemas } from './schema-files.ts';
import { RECORD_WRITE_SCHEMA } from './yaml.ts';

type JsonSchema = Record<string, unknown>;

const byId = new Map<string, JsonSchema>(schemas.map((s) => [String(s.$id), s]));

/** Follows a `$ref` such as `urn:medperf-git:schema:common#/$defs/asset`. */
function resolveRef(schema: JsonSchema | undefined): JsonSchema | undefined {
  let s = schema;
  for (let i = 0; s && typeof s.$ref === 'string' && i < 10; i++) {
    const [id, pointer = ''] = (s.$ref as string).split('#');
    let target: unknown = byId.get(id!);
    for (const part of pointer.split('/').filter(Boolean)) target = (target as Record<string, unknown> | undefined)?.[part];
    s = target as JsonSchema | undefined;
  }
  return s;
}

/** A copy of `value` with object keys in the order the schema declares them (others after, sorted). */
function orderKeys(value: unknown, schema: JsonSchema | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => orderKeys(v, resolveRef(schema?.items as JsonSchema | undefined)));
  if (value === null || typeof value !== 'object') return value;
  const s = resolveRef(schema);
  const props = (s?.properties ?? {}) as Record<string, JsonSchema>;
  const declared = Object.keys(props);
  const input = value as Record<string, unknown>;
  const keys = [
    ...declared.filter((k) => k in input),
    ...Object.keys(input)
      .filter((k) => !(k in props))
      .sort(),
  ];
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    if (input[k] === undefined) continue;
    const sub = props[k] ?? (typeof s?.additionalProperties === 'object' ? (s.additionalProperties as JsonSchema) : undefined);
    out[k] = orderKeys(input[k], sub);
  }
  return out;
}

/** The editor's modeline: `MODELINE_PREFIX`, `../` up to the registry's root, then `schemaFile(kind)`. */
export const MODELINE_PREFIX = '# yaml-language-server: $schema=';

/** The schema of a record kind, from the folder that holds the schemas. */
export function schemaFile(kind: string): string {
  return `schemas/${kind}.schema.json`;
}

/** The editor's modeline: the schema relative to the record, from the registry root's schemas/. */
export function schemaModeline(kind: RecordKind, path: string): string {
  const depth = path.split('/').length - 1;
  return `${MODELINE_PREFIX}${'../'.repeat(depth)}${schemaFile(kind)}`;
}

/**
 * A record's bytes: the modeline, then YAML with keys in schema order, long strings unwrapped,
 * and strings that YAML would read as something else (dates, numbers, yes/no) quoted.
 */
export function recordYaml(kind: RecordKind, path: string, data: unknown): string {
  const schema = byId.get(schemaId(kind));
  if (!schema) throw new Error(`no schema for record kind ${kind}`);
  const body = dump(orderKeys(data, schema), { lineWidth: -1, noRefs: true, quotingType: '"', sortKeys: false, schema: RECORD_WRITE_SCHEMA });
  return `${schemaModeline(kind, path)}\n${body}`;
}
