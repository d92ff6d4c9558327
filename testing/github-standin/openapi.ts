// GitHub's published REST description (npm @octokit/openapi), used by the stand-in two ways: every
// request and response is validated against it with Ajv, and a response object is completed from
// its schema (required fields the project does not use get type-correct placeholders), so the
// stand-in answers in exactly the shape the real API documents.
import { createRequire } from 'node:module';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// OpenAPI 3.0 schemas are draft-04-like: the default Ajv (draft-07), not the registry's 2020 one.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats: AddFormats =
  (addFormatsModule as unknown as { default?: AddFormats }).default ?? (addFormatsModule as unknown as AddFormats);

const require = createRequire(import.meta.url);

type Schema = Record<string, unknown> & {
  $ref?: string;
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
  enum?: unknown[];
  nullable?: boolean;
  format?: string;
};

interface Operation {
  parameters?: Array<Schema & { name: string; in: string; required?: boolean; schema: Schema }>;
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
}

interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: Record<string, Record<string, Schema>>;
}

let loaded: { spec: Spec; ajv: Ajv; routes: Array<{ template: string; re: RegExp }> } | undefined;

function api() {
  if (loaded) return loaded;
  const spec = require('@octokit/openapi/generated/api.github.com.json') as Spec;
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false });
  addFormats(ajv);
  ajv.addSchema(spec as object, 'gh');
  const routes = Object.keys(spec.paths).map((template) => ({
    template,
    // A trailing {ref} or {path} spans slashes (heads/main, docs/a.md), as on GitHub.
    re: new RegExp('^' + template.replace(/[.]/g, '\\.').replace(/\{(ref|path)\}$/, '(.+)').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
  }));
  // Literal paths before templated ones: /user/repos is not /users/{username}.
  // and a trailing {ref} that spans slashes only when nothing more specific matches.
  const weight = (t: string) => (t.match(/\{/g)?.length ?? 0) + (/\{(ref|path)\}$/.test(t) ? 100 : 0);
  routes.sort((a, b) => weight(a.template) - weight(b.template));
  loaded = { spec, ajv, routes };
  return loaded;
}

const pointer = (...parts: string[]) => 'gh#/' + parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
const compiled = new Map<string, ValidateFunction>();

function validator(ref: string): ValidateFunction {
  let v = compiled.get(ref);
  if (!v) {
    v = api().ajv.compile({ $ref: ref });
    compiled.set(ref, v);
  }
  return v;
}

export class OpenApiViolation extends Error {}

/**
 * Where GitHub's answers differ from its own description, and the stand-in answers as GitHub does:
 * a PR whose fork was deleted has `head.repo: null` though the schema says object.
 */
const KNOWN_DEVIATIONS = [/^(\/\d+)?\/head\/repo must be object$/];

/** The documented operation for a method and path (under the API root), or undefined. */
export function findOperation(method: string, path: string): { template: string; op: Operation } | undefined {
  const { spec, routes } = api();
  const m = method.toLowerCase();
  for (const r of routes) {
    if (r.re.test(path) && spec.paths[r.template]![m]) return { template: r.template, op: spec.paths[r.template]![m]! };
  }
  return undefined;
}

function describe(errors: ValidateFunction['errors']): string {
  return (errors ?? [])
    .slice(0, 5)
    .map((e) => `${e.instancePath || '/'} ${e.message}`)
    .join('; ');
}

/** Throws when a request is not one the real API accepts: unknown route, bad query or body. */
export function checkRequest(method: string, path: string, query: URLSearchParams, body: unknown): { template: string } {
  const found = findOperation(method, path);
  if (!found) throw new OpenApiViolation(`${method} ${path}: no such operation in GitHub's REST API`);
  const { template, op } = found;
  const parameters = (op.parameters ?? []).map((p) => resolve(p) as (typeof op.parameters & object)[number]);
  for (const p of parameters) {
    if (p.in !== 'query') continue;
    const value = query.get(p.name);
    if (value === null) {
      if (p.required) throw new OpenApiViolation(`${method} ${template}: missing query parameter ${p.name}`);
      continue;
    }
    const type = p.schema.type;
    const typed = type === 'integer' || type === 'number' ? Number(value) : type === 'boolean' ? value === 'true' : value;
    const v = api().ajv.compile({ ...resolve(p.schema) });
    if (!v(typed)) throw new OpenApiViolation(`${method} ${template}: query ${p.name}=${value}: ${describe(v.errors)}`);
  }
  const known = new Set(parameters.filter((p) => p.in === 'query').map((p) => p.name));
  for (const name of query.keys()) {
    if (!known.has(name)) throw new OpenApiViolation(`${method} ${template}: unknown query parameter ${name}`);
  }
  const content = op.requestBody?.content['application/json'];
  if (content) {
    const v = validator(pointer('paths', template, method.toLowerCase(), 'requestBody', 'content', 'application/json', 'schema'));
    if (!v(body ?? {})) throw new OpenApiViolation(`${method} ${template}: request body ${describe(v.errors)}`);
  } else if (body !== undefined && body !== null && Object.keys(body as object).length) {
    throw new OpenApiViolation(`${method} ${template}: takes no request body`);
  }
  return { template };
}

/** Throws when a response is not what the API documents for that operation and status. */
export function checkResponse(method: string, template: string, status: number, body: unknown): void {
  const { spec } = api();
  const op = spec.paths[template]![method.toLowerCase()]!;
  const response = op.responses[String(status)];
  // Any endpoint may answer 403 or 404 with a message when the token may not do or see the thing:
  // "the REST API will return 404 Not Found instead of 403 Forbidden in some cases, to prevent
  // accidental leakage of private information" (docs.github.com/en/rest/using-the-rest-api/
  // troubleshooting-the-rest-api), whether or not the operation lists those statuses.
  if (!response && (status === 403 || status === 404) && typeof (body as { message?: unknown })?.message === 'string') return;
  if (!response) throw new OpenApiViolation(`${method} ${template}: status ${status} is not documented`);
  if (!response.content?.['application/json']) return;
  const v = validator(pointer('paths', template, method.toLowerCase(), 'responses', String(status), 'content', 'application/json', 'schema'));
  if (v(body)) return;
  const errors = (v.errors ?? []).filter((e) => !KNOWN_DEVIATIONS.some((d) => d.test(`${e.instancePath} ${e.message}`)));
  if (errors.length) throw new OpenApiViolation(`${method} ${template} -> ${status}: response ${describe(errors)}`);
}

function resolve(schema: Schema): Schema {
  let s = schema;
  while (s.$ref) {
    const parts = s.$ref.replace(/^#\//, '').split('/');
    let node: unknown = api().spec;
    for (const p of parts) node = (node as Record<string, unknown>)[p.replace(/~1/g, '/').replace(/~0/g, '~')];
    s = node as Schema;
  }
  return s;
}

/** A value of a schema: `given` where it has one, placeholders for what the schema requires besides. */
function fill(schemaIn: Schema, given: unknown, depth = 0): unknown {
  const schema = resolve(schemaIn);
  if (schema.allOf) {
    let out = given;
    for (const s of schema.allOf) out = fill(s, out, depth);
    return out;
  }
  const alternatives = schema.anyOf ?? schema.oneOf;
  if (alternatives) {
    if (given === null) return null;
    const objectAlt = alternatives.find((a) => resolve(a).type === 'object' || resolve(a).properties);
    if (given !== undefined && (typeof given !== 'object' || !objectAlt)) return given;
    if (given === undefined && alternatives.some((a) => resolve(a).type === 'null')) return null;
    return fill(objectAlt ?? alternatives[0]!, given, depth);
  }
  if (given === undefined && schema.nullable) return null;
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') : schema.type;
  if (type === 'object' || (!type && schema.properties)) {
    if (given === null) return null;
    const out: Record<string, unknown> = { ...((given as Record<string, unknown>) ?? {}) };
    for (const key of schema.required ?? []) {
      const prop = schema.properties?.[key];
      if (!prop) continue;
      out[key] = fill(prop, out[key], depth + 1);
    }
    for (const [key, value] of Object.entries(out)) {
      const prop = schema.properties?.[key];
      if (prop && value !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) {
        out[key] = fill(prop, value, depth + 1);
      }
      if (prop && Array.isArray(value)) {
        const items = resolve(prop).items;
        if (items) out[key] = value.map((v) => fill(items, v, depth + 1));
      }
    }
    return out;
  }
  if (given !== undefined) {
    if (type === 'array' && Array.isArray(given) && schema.items) return given.map((v) => fill(schema.items!, v, depth + 1));
    return given;
  }
  if (schema.enum) return schema.enum[0];
  switch (type) {
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return 0;
    case 'boolean':
      return false;
    case 'string':
      return schema.format === 'date-time'
        ? '2026-01-01T00:00:00Z'
        : schema.format === 'uri'
          ? 'https://github.invalid/'
          : schema.format === 'email'
            ? 'nobody@users.noreply.github.com'
            : '';
    default:
      return null;
  }
}

/** `given`, completed with what the documented response schema requires. */
export function conform(method: string, template: string, status: number, given: unknown): unknown {
  const op = api().spec.paths[template]![method.toLowerCase()]!;
  const schema = op.responses[String(status)]?.content?.['application/json']?.schema;
  return schema ? fill(schema, given) : given;
}
