// A MedPerf server on loopback for the import's tests: it answers with real responses of MedPerf's
// server (testing/fixtures/medperf-api/), split into pages the way Django REST framework's
// limit/offset pagination does, and checks every request against MedPerf's own OpenAPI
// description (the operation exists for GET, its path parameters are integers, the JWT bearer
// token its security names is sent). Every entry it serves is validated against the schema the
// description gives that operation, so a fixture drifting from the API fails too.
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Ajv, type ValidateFunction } from 'ajv';
import { load } from 'js-yaml';
import { FIXTURES, fixtureData, type MedperfData } from './medperf-fixtures.ts';

export { fixtureData, type MedperfData };

type Json = Record<string, unknown>;
interface Operation {
  parameters?: Array<{ in: string; name: string; schema?: { type?: string }; required?: boolean }>;
  security?: Array<Record<string, unknown>>;
  responses: Record<string, { content?: Record<string, { schema: Json }> }>;
}
interface Spec {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json> };
}

/** OpenAPI 3.0's `nullable: true` as JSON Schema: the schema, or null. */
function openApiToJsonSchema<T>(value: T): T {
  if (Array.isArray(value)) return value.map(openApiToJsonSchema) as T;
  if (!value || typeof value !== 'object') return value;
  const { nullable, ...rest } = value as Json;
  const out = Object.fromEntries(Object.entries(rest).map(([k, v]) => [k, openApiToJsonSchema(v)]));
  return (nullable === true ? { anyOf: [out, { type: 'null' }] } : out) as T;
}

/** Django REST framework's pagination parameters, which drf-spectacular leaves out of MedPerf's description. */
const PAGINATION = new Set(['limit', 'offset']);

export interface MedperfStandin {
  url: string;
  /** Every request served, as `GET /api/v0/...?...`. */
  requests: string[];
  /** Requests or answers that the OpenAPI description does not allow. */
  violations: string[];
  data: MedperfData;
  close(): Promise<void>;
}

export async function startMedperfStandin(options: { data?: MedperfData; token?: string; pageLimit?: number } = {}): Promise<MedperfStandin> {
  const spec = load(readFileSync(new URL('openapi.yaml', FIXTURES), 'utf8')) as Spec;
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false, validateFormats: false });
  ajv.addSchema({ components: openApiToJsonSchema(spec.components) }, 'medperf');
  const validators = new Map<string, ValidateFunction>();
  const routes = Object.keys(spec.paths).map((template) => ({
    template,
    re: new RegExp('^' + template.replace(/\{[^}]+\}/g, '([^/]+)') + '$'),
    names: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!),
  }));
  const state = { requests: [] as string[], violations: [] as string[] };
  const data = options.data ?? fixtureData();
  const token = options.token ?? 'test-token';

  const lists = (path: string): Json[] | undefined => {
    const m = /^\/api\/v0\/(users|mlcubes|models|datasets|benchmarks|results)\/$/.exec(path);
    if (m) return data[m[1] as 'users'];
    const d = /^\/api\/v0\/datasets\/(\d+)\/benchmarks\/$/.exec(path);
    if (d) return data.datasetAssociations.filter((a) => a.dataset === Number(d[1]));
    const mo = /^\/api\/v0\/models\/(\d+)\/benchmarks\/$/.exec(path);
    if (mo) return data.modelAssociations.filter((a) => a.model === Number(mo[1]));
    return undefined;
  };

  const server: Server = createServer((req, res) => {
    try {
      handle(req, res);
    } catch (error) {
      state.violations.push(`${req.method} ${req.url}: the stand-in failed: ${(error as Error).message}`);
      res.writeHead(500).end();
    }
  });
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const line = `${req.method} ${url.pathname}${url.search}`;
    state.requests.push(line);
    const violation = (message: string) => state.violations.push(`${line}: ${message}`);
    const route = routes.find((r) => r.re.test(url.pathname));
    const op = route ? spec.paths[route.template]![(req.method ?? '').toLowerCase()] : undefined;
    if (!route || !op) {
      violation('no such operation in MedPerf\'s API description');
      res.writeHead(404).end();
      return;
    }
    const values = route.re.exec(url.pathname)!.slice(1);
    route.names.forEach((name, i) => {
      const p = op.parameters?.find((x) => x.in === 'path' && x.name === name);
      if (p?.schema?.type === 'integer' && !/^\d+$/.test(values[i]!)) violation(`path parameter ${name}=${values[i]} is not an integer`);
    });
    for (const [name, value] of url.searchParams) {
      const declared = op.parameters?.some((p) => p.in === 'query' && p.name === name);
      if (!declared && !PAGINATION.has(name)) violation(`unknown query parameter ${name}`);
      if (PAGINATION.has(name) && !/^\d+$/.test(value)) violation(`${name}=${value} is not a non-negative integer`);
    }
    if (op.security?.some((s) => 'JWTAuth' in s)) {
      if (!/^Bearer \S+$/.test(req.headers.authorization ?? '')) violation('no JWT bearer token, which the operation\'s security requires');
      if (req.headers.authorization !== `Bearer ${token}`) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"detail":"Authentication credentials were not provided."}');
        return;
      }
    }
    const entries = lists(url.pathname);
    if (!entries) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"detail":"Not found."}');
      return;
    }
    const schema = op.responses['200']?.content?.['application/json']?.schema;
    if (schema) {
      const ref = String(schema.$ref ?? '');
      let v = validators.get(ref);
      if (!v) validators.set(ref, (v = ajv.compile({ $ref: ref.replace('#/', 'medperf#/') })));
      entries.forEach((e, i) => {
        if (!v!(e)) violation(`served entry ${i} does not match ${ref}: ${(v!.errors ?? []).map((x) => `${x.instancePath} ${x.message}`).join('; ')}`);
      });
    }
    const limit = Math.min(Number(url.searchParams.get('limit') ?? (entries.length || 1)), options.pageLimit ?? 1000);
    const offset = Number(url.searchParams.get('offset') ?? 0);
    const page = entries.slice(offset, offset + limit);
    const link = (o: number) => {
      const u = new URL(url.pathname, `http://${req.headers.host}`);
      u.searchParams.set('limit', String(limit));
      u.searchParams.set('offset', String(o));
      return u.href;
    };
    const body = {
      count: entries.length,
      next: offset + limit < entries.length ? link(offset + limit) : null,
      previous: offset > 0 ? link(Math.max(0, offset - limit)) : null,
      results: page,
    };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return state.requests;
    },
    get violations() {
      return state.violations;
    },
    data,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections();
      }),
  };
}
