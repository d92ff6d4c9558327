// A MedPerf server's REST API, read for `medperf-git import`: every list the import needs, page by
// page (MedPerf's limit/offset pagination, following the server's `next` links), as a snapshot
// for the pure mapping in registry/import/. The token goes in an Authorization header only; it is
// never printed, and never sent to a host other than the server's (a `next` link elsewhere stops
// the import).
import { MedperfError } from '../registry/errors.ts';
import type { ServerSnapshot } from '../registry/import/medperf.ts';

export class MedperfServerError extends MedperfError {
  constructor(message: string) {
    super('medperf-server', message);
  }
}

export interface ServerOptions {
  /** The server's base URL, such as https://api.medperf.org */
  server: string;
  token?: string;
  /** Entries per page requested (MedPerf's own client asks for 32). */
  pageSize?: number;
  /** Called once per page read. */
  onPage?: (path: string, done: number, count: number) => void;
}

/** Longest list the import reads from one endpoint; a server claiming more is refused rather than followed for ever. */
const MAX_ENTRIES = 1_000_000;

function apiBase(server: string): URL {
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new MedperfServerError(`--server ${JSON.stringify(server)} is not a URL (for example https://api.medperf.org)`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new MedperfServerError(`--server must be an http(s) URL, not ${url.protocol}`);
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

async function getJson(url: URL, options: ServerOptions): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
      redirect: 'error',
    });
  } catch (error) {
    throw new MedperfServerError(`GET ${url.pathname}${url.search}: the server did not answer (${(error as Error).cause ?? (error as Error).message})`);
  }
  if (response.status === 401 || response.status === 403) {
    throw new MedperfServerError(`GET ${url.pathname}: the server refused the request (${response.status}); pass an admin's token with --token (MedPerf: \`medperf auth login\`, then its access token)`);
  }
  if (!response.ok) throw new MedperfServerError(`GET ${url.pathname}${url.search}: the server answered ${response.status} ${response.statusText}`);
  try {
    return await response.json();
  } catch {
    throw new MedperfServerError(`GET ${url.pathname}${url.search}: the answer is not JSON`);
  }
}

/** Every entry of one list endpoint (`api/v0/mlcubes/`), all pages. */
export async function listAll(path: string, options: ServerOptions): Promise<Array<Record<string, unknown>>> {
  const base = apiBase(options.server);
  const pageSize = options.pageSize ?? 32;
  let url: URL | undefined = new URL(path, base);
  url.searchParams.set('limit', String(pageSize));
  url.searchParams.set('offset', '0');
  const out: Array<Record<string, unknown>> = [];
  for (let page = 0; url && page <= MAX_ENTRIES / Math.max(1, pageSize); page++) {
    const body = await getJson(url, options);
    const where = `GET ${url.pathname}${url.search}`;
    // An unpaginated server answers with the list itself.
    if (Array.isArray(body)) return checkEntries(body, where);
    if (!body || typeof body !== 'object' || !Array.isArray((body as { results?: unknown }).results)) {
      throw new MedperfServerError(`${where}: expected {count, next, results: [...]}, got ${JSON.stringify(body).slice(0, 120)}`);
    }
    const { results, next, count } = body as { results: unknown[]; next?: unknown; count?: unknown };
    out.push(...checkEntries(results, where));
    if (typeof count === 'number' && count > MAX_ENTRIES) throw new MedperfServerError(`${where}: the server lists ${count} entries, more than the import reads (${MAX_ENTRIES})`);
    options.onPage?.(path, out.length, typeof count === 'number' ? count : out.length);
    if (next === null || next === undefined || results.length === 0) return out;
    if (typeof next !== 'string') throw new MedperfServerError(`${where}: "next" is not a URL`);
    const following: URL = new URL(next, url);
    if (following.origin !== base.origin) throw new MedperfServerError(`${where}: "next" points at another host (${following.origin}); the token is only sent to ${base.origin}`);
    url = following;
  }
  throw new MedperfServerError(`GET ${path}: more pages than the import reads`);
}

function checkEntries(entries: unknown[], where: string): Array<Record<string, unknown>> {
  entries.forEach((e, i) => {
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw new MedperfServerError(`${where}: results[${i}] is not an object`);
  });
  return entries as Array<Record<string, unknown>>;
}

/** Everything the import reads: the lists, then each dataset's and each model's associations. */
export async function readServer(options: ServerOptions): Promise<ServerSnapshot> {
  const list = (kind: string) => listAll(`api/v0/${kind}/`, options);
  const [users, mlcubes, models, datasets, benchmarks, results] = await Promise.all([
    list('users'), list('mlcubes'), list('models'), list('datasets'), list('benchmarks'), list('results'),
  ]);
  const requireIds = (list: Array<Record<string, unknown>>, what: string) =>
    list.forEach((e, i) => {
      if (typeof e.id !== 'number') throw new MedperfServerError(`GET api/v0/${what}/: results[${i}].id is not a number`);
    });
  for (const [list, what] of [[users, 'users'], [mlcubes, 'mlcubes'], [models, 'models'], [datasets, 'datasets'], [benchmarks, 'benchmarks'], [results, 'results']] as const) requireIds(list, what);
  const datasetAssociations = [];
  for (const d of datasets) datasetAssociations.push(...(await listAll(`api/v0/datasets/${d.id}/benchmarks/`, options)));
  const modelAssociations = [];
  for (const m of models) modelAssociations.push(...(await listAll(`api/v0/models/${m.id}/benchmarks/`, options)));
  return {
    users: users as unknown as ServerSnapshot['users'],
    mlcubes: mlcubes as unknown as ServerSnapshot['mlcubes'],
    models: models as unknown as ServerSnapshot['models'],
    datasets: datasets as unknown as ServerSnapshot['datasets'],
    benchmarks: benchmarks as unknown as ServerSnapshot['benchmarks'],
    results: results as unknown as ServerSnapshot['results'],
    datasetAssociations: datasetAssociations as unknown as ServerSnapshot['datasetAssociations'],
    modelAssociations: modelAssociations as unknown as ServerSnapshot['modelAssociations'],
  };
}
