// The one Ajv instance: every schema in schemas/ is added once, when the first record or cube is
// validated, and every caller shares the compiled validators (compiling is the expensive part of Ajv).
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import type { RecordKind } from './layout.ts';
import { type CubeConfigFormat, schemaId, schemas, SCHEMA_DIR } from './schema-files.ts';
import { isVisibleLine, isVisibleText } from './text.ts';

// ajv-formats is CommonJS; under NodeNext its default import is the module object.
type AddFormats = (ajv: Ajv2020) => unknown;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);


let instance: Ajv2020 | undefined;

/**
 * The Ajv instance, made on first use: adding the schemas checks each against the meta-schema,
 * which costs a process that validates nothing (a cluster job on its node) a tenth of a second.
 */
export function ajv(): Ajv2020 {
  if (instance) return instance;
  instance = new Ajv2020({
    strict: true,
    // The cube schema's oneOf says "mlcube or container_config, not both" with `required` lists of
    // properties declared beside the oneOf, which strictRequired would refuse.
    strictRequired: false,
    allErrors: true,
    // Every pattern is ASCII (Unicode classes are formats: registry/text.ts); V8 runs non-unicode
    // regular expressions markedly faster.
    unicodeRegExp: false,
    // Errors carry their schema and value, for messages that name what was expected.
    verbose: true,
  });
  addFormats(instance);
  // Text a record holds is seen as it is (registry/text.ts).
  instance.addFormat('visible-line', { type: 'string', validate: isVisibleLine });
  instance.addFormat('visible-text', { type: 'string', validate: isVisibleText });
  for (const schema of schemas) instance.addSchema(schema);
  return instance;
}

const compiled = new Map<string, ValidateFunction>();

function compiledFor(name: string): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    v = ajv().getSchema(schemaId(name));
    if (!v) throw new Error(`no schema ${schemaId(name)} in ${SCHEMA_DIR}`);
    compiled.set(name, v);
  }
  return v;
}

/** The compiled validator of a record kind (registry.yaml, cube, dataset, ...). */
export function validatorFor(kind: RecordKind): ValidateFunction {
  return compiledFor(kind);
}

/** Checks a cube's own configuration (mlcube.yaml or container_config.yaml); the Ajv errors when invalid. */
export function validateCubeConfig(format: CubeConfigFormat, data: unknown): ErrorObject[] {
  const v = compiledFor(format);
  return v(data) ? [] : [...(v.errors ?? [])];
}

export type { ErrorObject, ValidateFunction };

/** A schema error in words a record's author can act on, and the JSON pointer it is about. */
export interface SchemaMessage {
  pointer: string;
  message: string;
}

function fieldName(pointer: string): string {
  if (pointer === '') return 'the record';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const s = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(s) ? `[${s}]` : out ? `.${s}` : s;
  }
  return out;
}

const TYPE_WORDS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  integer: 'an integer',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
  null: 'null',
};

function typeWords(type: unknown): string {
  const types = Array.isArray(type) ? type : [type];
  return types.map((t) => TYPE_WORDS[String(t)] ?? String(t)).join(' or ');
}

function shortValue(value: unknown): string {
  const s = typeof value === 'string' ? value : JSON.stringify(value);
  if (s === undefined) return '';
  return ` (got ${JSON.stringify(s.length > 40 ? s.slice(0, 37) + '...' : s)})`;
}

function describe(kind: string, e: ErrorObject): SchemaMessage {
  const field = `field \`${fieldName(e.instancePath)}\``;
  const parent = e.parentSchema as Record<string, unknown> | undefined;
  switch (e.keyword) {
    case 'additionalProperties': {
      const extra = String((e.params as { additionalProperty: string }).additionalProperty);
      const pointer = `${e.instancePath}/${extra.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      const allowed = Object.keys((parent?.properties as object | undefined) ?? {}).join(', ');
      const where = e.instancePath === '' ? `${kind} records` : `\`${fieldName(e.instancePath)}\``;
      return { pointer, message: `unknown field \`${fieldName(pointer)}\` (${where} allow only ${allowed})` };
    }
    case 'required': {
      const missing = String((e.params as { missingProperty: string }).missingProperty);
      const name = e.instancePath === '' ? missing : `${fieldName(e.instancePath)}.${missing}`;
      return { pointer: e.instancePath, message: `missing required field \`${name}\`` };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues.map(String).join(', ');
      return { pointer: e.instancePath, message: `${field} must be one of ${allowed}${shortValue(e.data)}` };
    }
    case 'type': {
      if (e.instancePath === '') return { pointer: '', message: `the record must be a YAML mapping of fields, not ${typeOf(e.data)}` };
      return { pointer: e.instancePath, message: `${field} must be ${typeWords((e.params as { type: unknown }).type)}` };
    }
    case 'pattern':
    case 'format': {
      // What the schema says the field is, else the pattern or the format's name.
      const description = typeof parent?.description === 'string' ? parent.description : undefined;
      const { pattern, format } = e.params as { pattern?: string; format?: string };
      const what = description
        ? description.charAt(0).toLowerCase() + description.slice(1).replace(/\.$/, '')
        : format === 'date-time'
          ? 'a date-time like 2024-05-01T12:00:00Z (RFC 3339)'
          : format
            ? `a ${format}`
            : `text matching ${pattern}`;
      return { pointer: e.instancePath, message: `${field} must be ${what}${shortValue(e.data)}` };
    }
    case 'propertyNames': {
      const name = String((e.params as { propertyName: string }).propertyName);
      return {
        pointer: `${e.instancePath}/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
        message: `${field} has an invalid name \`${name}\`: names are up to 64 letters, digits and _ . : + -`,
      };
    }
    case 'oneOf': {
      const branches = (parent?.oneOf as Array<{ required?: string[] }> | undefined) ?? [];
      const names = branches.flatMap((b) => b.required ?? []);
      if (names.length === branches.length && names.length > 1) {
        return { pointer: e.instancePath, message: `exactly one of ${names.map((n) => `\`${n}\``).join(' or ')} is required` };
      }
      return { pointer: e.instancePath, message: `${field} must match exactly one allowed form` };
    }
    case 'anyOf': {
      const branches = (parent?.anyOf as Array<{ type?: unknown }> | undefined) ?? [];
      const types = branches.map((b) => typeWords(b.type)).join(' or ');
      const why = e.instancePath.startsWith('/statistics') ? ' (statistics are numbers only)' : e.instancePath.includes('metrics') ? ' (metrics are numbers only)' : '';
      return { pointer: e.instancePath, message: `${field} must be ${types}${why}` };
    }
    case 'uniqueItems':
      return { pointer: e.instancePath, message: `${field} lists the same value twice` };
    default:
      return { pointer: e.instancePath, message: `${field} ${e.message ?? 'is not valid'}` };
  }
}

function typeOf(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  return typeof value === 'string' ? 'a string' : typeof value === 'object' ? 'a mapping' : `a ${typeof value}`;
}

/**
 * Ajv's errors as messages, one per problem: the errors of a oneOf/anyOf's branches are folded into
 * one message, unless a branch points deeper into the value (then that deeper error is the useful one).
 */
export function describeSchemaErrors(kind: string, errors: ErrorObject[]): SchemaMessage[] {
  const combinators = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  const inside = (e: ErrorObject, c: ErrorObject) => e !== c && e.schemaPath.startsWith(c.schemaPath + '/');
  const kept = errors.filter(
    (e) =>
      // Errors inside propertyNames carry the name; the propertyNames error says it once.
      (e as { propertyName?: string }).propertyName === undefined &&
      // A branch's error is kept only when it is about something deeper than its combinator.
      combinators.every((c) => !inside(e, c) || e.instancePath.length > c.instancePath.length),
  );
  const result: SchemaMessage[] = [];
  for (const e of kept) {
    if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      // A combinator is said in its own words only when no deeper branch error explains it.
      const deeper = kept.some((k) => k !== e && inside(k, e));
      if (deeper) continue;
    }
    result.push(describe(kind, e));
  }
  const seen = new Set<string>();
  return result.filter((m) => {
    const key = m.pointer + '\0' + m.message;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

