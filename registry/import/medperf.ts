// Importing a MedPerf server: what its REST API returns (numeric ids, server users, approval
// statuses) mapped onto a registry (paths as ids, logins, pull requests). Pure: the snapshot of the
// server comes in, record data and a report go out; fetching the server and writing the registry
// are the CLI's (cli/medperf-server.ts, cli/commands/import.ts).
//
// What cannot be carried is never dropped quietly: every refusal, every rejected entity and every
// server field left behind is in the report, with the server's id.
import { dump } from 'js-yaml';
import { sha256Hex } from '../hash.ts';
import { LOGIN, NAME, paths, type RecordKind } from '../layout.ts';
import { METRIC_NAME, metricNames } from '../metrics.ts';
import { validateCubeConfig, describeSchemaErrors } from '../schemas.ts';

// --- The server, as its API returns it (the fields the import reads) ---------------------------

export type ApprovalStatus = 'PENDING' | 'APPROVED' | 'REJECTED';
type Json = Record<string, unknown>;

export interface ServerUser {
  id: number;
  username: string;
}
export interface ServerCube extends Json {
  id: number;
  name: string;
  container_config: Json | null;
  parameters_config: Json | null;
  image_hash: string;
  additional_files_tarball_url?: string;
  additional_files_tarball_hash: string;
  state?: string;
  owner: number;
}
export interface ServerModel extends Json {
  id: number;
  name: string;
  type: string;
  container: ServerCube | null;
  asset: Json | null;
  owner: number;
}
export interface ServerDataset extends Json {
  id: number;
  name: string;
  description?: string;
  location?: string;
  input_data_hash: string;
  generated_uid: string;
  state: string;
  submitted_as_prepared: boolean;
  generated_metadata?: Json | null;
  owner: number;
  data_preparation_mlcube: number;
}
export interface ServerBenchmark extends Json {
  id: number;
  name: string;
  description?: string;
  docs_url?: string;
  demo_dataset_tarball_url: string;
  demo_dataset_tarball_hash: string;
  demo_dataset_generated_uid: string;
  state?: string;
  approval_status: ApprovalStatus;
  dataset_auto_approval_mode?: string;
  dataset_auto_approval_allow_list?: string[];
  model_auto_approval_mode?: string;
  model_auto_approval_allow_list?: string[];
  owner: number;
  data_preparation_mlcube: number;
  reference_model: number;
  data_evaluator_mlcube: number;
}
export interface ServerDatasetAssociation extends Json {
  id?: number;
  dataset: number;
  benchmark: number;
  initiated_by: number;
  approval_status: ApprovalStatus;
  metadata?: Json;
}
export interface ServerModelAssociation extends Json {
  id?: number;
  model: number;
  benchmark: number;
  initiated_by: number;
  approval_status: ApprovalStatus;
  priority?: number;
  metadata?: Json;
}
export interface ServerResult extends Json {
  id: number;
  results: Json;
  metadata?: Json;
  approval_status: ApprovalStatus;
  created_at: string;
  owner: number;
  benchmark: number;
  model: number;
  dataset: number;
}

/** Everything the import reads from one server. */
export interface ServerSnapshot {
  users: ServerUser[];
  mlcubes: ServerCube[];
  models: ServerModel[];
  datasets: ServerDataset[];
  benchmarks: ServerBenchmark[];
  datasetAssociations: ServerDatasetAssociation[];
  modelAssociations: ServerModelAssociation[];
  results: ServerResult[];
}

// --- What the import produces ---------------------------------------------------------------

/** A server entity, named as MedPerf names it: `mlcube #3`, `benchmark #1`, `result #7`. */
export type ServerRef = string;

export interface ImportedRecord {
  kind: Exclude<RecordKind, 'registry'>;
  path: string;
  data: Json;
  /** The server entity this record carries. */
  source: ServerRef;
  /** APPROVED goes on main; PENDING becomes an open pull request. */
  status: 'APPROVED' | 'PENDING';
  /** The login the pull request is opened as (the entity's owner or initiator). */
  author: string;
}

/** A file the records point at (a cube's container_config.yaml, its parameters.yaml). */
export interface ImportedAsset {
  /** `<sha256>/<file name>`: content addressed, so a second import writes the same files. */
  path: string;
  content: string;
  sha256: string;
}

export interface Refusal {
  source: ServerRef;
  reason: string;
}

export interface ImportReport {
  /** Entities the server marks REJECTED: listed, never imported. */
  rejected: Refusal[];
  /** Entities medperf-git would refuse, and entities that depend on them. */
  refused: Refusal[];
  /** Two entities that would land on the same path: neither is imported. */
  collisions: Array<{ path: string; sources: ServerRef[] }>;
  /** Server data with no place in a record (free text in metadata, MedPerf-only fields). */
  notCarried: Array<{ source: ServerRef; fields: string[] }>;
  /** Values the registry needs that the server does not have, and what was chosen. */
  chosen: Refusal[];
}

export interface ImportPlan {
  records: ImportedRecord[];
  assets: ImportedAsset[];
  report: ImportReport;
}

export class MissingLoginsError extends Error {
  constructor(readonly usernames: string[]) {
    super(
      `the import needs a login for every server user who owns or initiated something; none for: ${usernames.join(', ')}. ` +
        `Add them to the logins file, one "<server username>: <login>" a line`,
    );
  }
}

export interface ImportOptions {
  /** Server username -> registry login. Every user the records need must be here: nothing is guessed. */
  logins: Record<string, string>;
  /** Where the asset files are published; a record's URL is `<assetsUrl>/<asset path>`. */
  assetsUrl: string;
  /** The medperf-git version stamped on compatibility-test summaries and provenance. */
  medperfGitVersion: string;
}

// --- Mapping ----------------------------------------------------------------------------------

const LOGIN_RE = new RegExp(`^${LOGIN}$`);
const NAME_RE = new RegExp(`^${NAME}$`);
const SHA256_RE = /^[a-f0-9]{64}$/;
const IMAGE_RE = /^sha256:[a-f0-9]{64}$/;

/** A MedPerf name as a path segment: lower case, runs of anything else as one '-', at most 64 characters. */
export function pathSafeName(name: string): string | undefined {
  const safe = name
    .normalize('NFKD')
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[^a-z0-9]+/, '')
    .replace(/\.\.+/g, '.')
    .slice(0, 64)
    .replace(/[-.]+$/, '');
  return NAME_RE.test(safe) ? safe : undefined;
}

const STATE: Record<string, 'development' | 'operational'> = { DEVELOPMENT: 'development', OPERATION: 'operational' };
const MODE: Record<string, 'never' | 'always' | 'allowlist'> = { NEVER: 'never', ALWAYS: 'always', ALLOWLIST: 'allowlist' };

/** Server fields each kind carries, read or deliberately implied; anything else with a value is reported. */
const CARRIED: Record<string, string[]> = {
  mlcube: ['id', 'name', 'container_config', 'parameters_config', 'image_hash', 'additional_files_tarball_url', 'additional_files_tarball_hash', 'state', 'owner', 'created_at', 'modified_at', 'is_valid'],
  model: ['id', 'name', 'type', 'container', 'asset', 'state', 'owner', 'created_at', 'modified_at', 'is_valid'],
  dataset: ['id', 'name', 'description', 'location', 'input_data_hash', 'generated_uid', 'state', 'submitted_as_prepared', 'generated_metadata', 'owner', 'data_preparation_mlcube', 'created_at', 'modified_at', 'is_valid'],
  benchmark: ['id', 'name', 'description', 'docs_url', 'demo_dataset_tarball_url', 'demo_dataset_tarball_hash', 'demo_dataset_generated_uid', 'state', 'approval_status', 'dataset_auto_approval_mode', 'dataset_auto_approval_allow_list', 'model_auto_approval_mode', 'model_auto_approval_allow_list', 'owner', 'data_preparation_mlcube', 'reference_model', 'data_evaluator_mlcube', 'created_at', 'modified_at', 'approved_at', 'is_valid', 'is_active'],
  association: ['id', 'dataset', 'model', 'benchmark', 'initiated_by', 'approval_status', 'priority', 'metadata', 'created_at', 'modified_at', 'approved_at'],
  result: ['id', 'results', 'metadata', 'approval_status', 'owner', 'benchmark', 'model', 'dataset', 'created_at', 'modified_at', 'approved_at', 'is_valid'],
};

/** Whether a server value holds anything (empty strings, objects and lists, null and false hold nothing). */
function hasValue(v: unknown): boolean {
  if (v === null || v === undefined || v === '' || v === false) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/**
 * Plans the import of a server snapshot: the records (main or pull request), the asset files
 * they point at, and the report. Throws MissingLoginsError, naming every user, when the logins
 * file lacks one the records need.
 */
export function planImport(snapshot: ServerSnapshot, options: ImportOptions): ImportPlan {
  const report: ImportReport = { rejected: [], refused: [], collisions: [], notCarried: [], chosen: [] };
  const server = wellFormed(snapshot, report);
  const records: ImportedRecord[] = [];
  const assets = new Map<string, ImportedAsset>();
  const usersById = new Map(server.users.map((u) => [u.id, u.username]));
  const refused = new Map<ServerRef, string>();
  const refuse = (source: ServerRef, reason: string) => {
    if (!refused.has(source)) refused.set(source, reason);
  };
  const noteExtra = (source: ServerRef, kind: string, entity: Json, extra: string[] = []) => {
    const fields = Object.keys(entity)
      .filter((k) => !CARRIED[kind]!.includes(k) && hasValue(entity[k]))
      .concat(extra)
      .sort();
    if (fields.length) report.notCarried.push({ source, fields });
  };

  // Logins: every user who owns or initiated an entity the import writes. Checked before anything.
  const needed = new Set<number>();
  const userName = (id: number) => usersById.get(id) ?? `user #${id}`;
  const login = (id: number): string => options.logins[userName(id)]!;
  for (const c of server.mlcubes) needed.add(c.owner);
  for (const m of server.models) needed.add(m.owner);
  for (const d of server.datasets) needed.add(d.owner);
  for (const b of server.benchmarks) if (b.approval_status !== 'REJECTED') needed.add(b.owner);
  for (const a of [...server.datasetAssociations, ...server.modelAssociations]) if (a.approval_status !== 'REJECTED') needed.add(a.initiated_by);
  for (const r of server.results) if (r.approval_status !== 'REJECTED') needed.add(r.owner);
  const missing = [...needed].map(userName).filter((u) => options.logins[u] === undefined);
  if (missing.length) throw new MissingLoginsError([...new Set(missing)].sort());
  for (const [user, l] of Object.entries(options.logins)) {
    if (!LOGIN_RE.test(l)) throw new Error(`the login for server user ${user}, ${JSON.stringify(l)}, is not a GitHub login`);
  }
  const allowlist = (names: string[] | undefined, source: ServerRef): string[] | undefined => {
    if (!names?.length) return undefined;
    const out: string[] = [];
    for (const n of names) {
      const l = options.logins[n];
      if (l === undefined) report.chosen.push({ source, reason: `allow-list entry ${JSON.stringify(n)} is no user of the logins file; left out` });
      else out.push(l);
    }
    return [...new Set(out)].sort();
  };

  // Cube kinds: MedPerf's cubes have none; their use says what they are.
  const modelById = new Map(server.models.map((m) => [m.id, m]));
  const roles = new Map<number, Set<string>>();
  const addRole = (cube: number | undefined, role: string) => {
    if (cube === undefined) return;
    (roles.get(cube) ?? roles.set(cube, new Set()).get(cube)!).add(role);
  };
  for (const m of server.models) if (m.container) addRole(m.container.id, 'model');
  for (const b of server.benchmarks) {
    if (b.approval_status === 'REJECTED') continue;
    addRole(b.data_preparation_mlcube, 'data-preparator');
    addRole(b.data_evaluator_mlcube, 'metrics');
  }
  for (const d of server.datasets) addRole(d.data_preparation_mlcube, 'data-preparator');

  // Paths: an id per entity, collisions found before any record is kept.
  const cubeIds = new Map<number, string>();
  const datasetIds = new Map<number, string>();
  const benchmarkIds = new Map<number, string>();
  const claims = new Map<string, ServerRef[]>();
  const claim = (path: string, source: ServerRef) => (claims.get(path) ?? claims.set(path, []).get(path)!).push(source);
  const ownedId = (owner: number, name: string, source: ServerRef): string | undefined => {
    const safe = pathSafeName(name);
    if (!safe) return refuse(source, `its name ${JSON.stringify(name)} has no letter or digit to make a path of`), undefined;
    return `${login(owner)}/${safe}`;
  };
  for (const c of server.mlcubes) {
    const id = ownedId(c.owner, c.name, `mlcube #${c.id}`);
    if (id) (cubeIds.set(c.id, id), claim(paths.cube(id), `mlcube #${c.id}`));
  }
  for (const d of server.datasets) {
    const id = ownedId(d.owner, d.name, `dataset #${d.id}`);
    if (id) (datasetIds.set(d.id, id), claim(paths.dataset(id), `dataset #${d.id}`));
  }
  for (const b of server.benchmarks) {
    if (b.approval_status === 'REJECTED') continue;
    const safe = pathSafeName(b.name);
    if (!safe) refuse(`benchmark #${b.id}`, `its name ${JSON.stringify(b.name)} has no letter or digit to make a path of`);
    else (benchmarkIds.set(b.id, safe), claim(paths.benchmark(safe), `benchmark #${b.id}`));
  }
  for (const [path, sources] of claims) {
    if (sources.length < 2) continue;
    report.collisions.push({ path, sources });
    for (const s of sources) refuse(s, `${path} would hold ${sources.join(' and ')}; rename one on the server, then import again`);
  }

  const asset = (name: string, value: unknown): { url: string; sha256: string } => {
    const content = dump(value, { lineWidth: -1, noRefs: true, sortKeys: false });
    const sha256 = sha256Hex(content);
    const path = `${sha256}/${name}`;
    assets.set(path, { path, content, sha256 });
    return { url: `${options.assetsUrl.replace(/\/+$/, '')}/${path}`, sha256 };
  };

  // Cubes.
  interface CubeHashes { id: string; config_sha256: string; parameters_sha256?: string; additional_files_sha256?: string; image: string }
  const cubeHashes = new Map<number, CubeHashes>();
  for (const c of server.mlcubes) {
    const source = `mlcube #${c.id}`;
    noteExtra(source, 'mlcube', c);
    const id = cubeIds.get(c.id);
    if (!id || refused.has(source)) continue;
    const kinds = [...(roles.get(c.id) ?? [])].sort();
    if (kinds.length === 0) { refuse(source, 'no benchmark, model or dataset uses it, so its kind (data-preparator, model or metrics) is unknown'); continue; }
    if (kinds.length > 1) { refuse(source, `it serves as ${kinds.join(' and ')}; a medperf-git cube has one kind`); continue; }
    if (!c.container_config) { refuse(source, 'it has no container_config (an older MLCube cube: its mlcube.yaml is not on the server)'); continue; }
    const configErrors = validateCubeConfig('container-config', c.container_config);
    if (configErrors.length) {
      refuse(source, `its container_config is not one medperf-git runs: ${describeSchemaErrors('container-config', configErrors).map((e) => `${e.pointer || '/'} ${e.message}`).join('; ')}`);
      continue;
    }
    if (!IMAGE_RE.test(c.image_hash)) { refuse(source, `its image_hash ${JSON.stringify(c.image_hash)} is not a sha256:<64 hex> digest`); continue; }
    const data: Json = { name: c.name, kind: kinds[0], container_config: asset('container_config.yaml', c.container_config) };
    if (c.parameters_config) data.parameters = asset('parameters.yaml', c.parameters_config);
    if (c.additional_files_tarball_url || c.additional_files_tarball_hash) {
      if (!SHA256_RE.test(c.additional_files_tarball_hash)) { refuse(source, `its additional_files_tarball_hash ${JSON.stringify(c.additional_files_tarball_hash)} is not a sha256`); continue; }
      data.additional_files = { url: c.additional_files_tarball_url, sha256: c.additional_files_tarball_hash };
    }
    data.image = { digest: c.image_hash };
    data.state = STATE[c.state ?? ''] ?? 'development';
    records.push({ kind: 'cube', path: paths.cube(id), data, source, status: 'APPROVED', author: login(c.owner) });
    const h: CubeHashes = { id, config_sha256: (data.container_config as { sha256: string }).sha256, image: c.image_hash };
    if (data.parameters) h.parameters_sha256 = (data.parameters as { sha256: string }).sha256;
    if (data.additional_files) h.additional_files_sha256 = (data.additional_files as { sha256: string }).sha256;
    cubeHashes.set(c.id, h);
  }
  const cubeOk = (id: number | undefined) => id !== undefined && cubeHashes.has(id);
  const cubeStates = new Map(server.mlcubes.map((c) => [c.id, c.state]));

  // Models: MedPerf's newer model entity wraps a cube (or an asset, which medperf-git does not run).
  const modelCube = new Map<number, number>();
  for (const m of server.models) {
    const source = `model #${m.id}`;
    noteExtra(source, 'model', m);
    if (!m.container) { refuse(source, `its type is ${m.type} (${m.asset ? 'a file asset' : 'no container'}); medperf-git runs container models only`); continue; }
    if (!cubeOk(m.container.id)) { refuse(source, `its container, mlcube #${m.container.id}, is not imported`); continue; }
    modelCube.set(m.id, m.container.id);
  }
  const modelOk = (id: number) => modelCube.has(id);
  const modelHashes = (id: number) => cubeHashes.get(modelCube.get(id)!)!;

  // Datasets.
  const datasetUid = new Map<number, string>();
  for (const d of server.datasets) {
    const source = `dataset #${d.id}`;
    const generated = { ...(d.generated_metadata ?? {}) };
    const statistics = generated.statistics;
    delete generated.statistics;
    noteExtra(source, 'dataset', d, Object.keys(generated).filter((k) => hasValue(generated[k])).map((k) => `generated_metadata.${k}`));
    const id = datasetIds.get(d.id);
    if (!id || refused.has(source)) continue;
    if (!cubeOk(d.data_preparation_mlcube)) { refuse(source, `its data preparator, mlcube #${d.data_preparation_mlcube}, is not imported`); continue; }
    if (STATE[cubeStates.get(d.data_preparation_mlcube) ?? ''] !== 'operational') {
      refuse(source, `its data preparator, mlcube #${d.data_preparation_mlcube}, is still in development: medperf-git registers data prepared only with an operational preparator`);
      continue;
    }
    const data: Json = { name: d.name };
    if (d.description) data.description = d.description;
    if (d.location) data.location = d.location;
    Object.assign(data, {
      data_preparation_mlcube: cubeIds.get(d.data_preparation_mlcube),
      input_data_hash: d.input_data_hash,
      generated_uid: d.generated_uid,
      ...(hasValue(statistics) ? { statistics } : {}),
      state: STATE[d.state] ?? 'development',
      submitted_as_prepared: d.submitted_as_prepared === true,
    });
    records.push({ kind: 'dataset', path: paths.dataset(id), data, source, status: 'APPROVED', author: login(d.owner) });
    datasetUid.set(d.id, d.generated_uid);
  }

  // Benchmarks.
  const benchmarkById = new Map(server.benchmarks.map((b) => [b.id, b]));
  const benchmarkOk = new Map<number, 'APPROVED' | 'PENDING'>();
  for (const b of server.benchmarks) {
    const source = `benchmark #${b.id}`;
    if (b.approval_status === 'REJECTED') { report.rejected.push({ source, reason: `benchmark ${JSON.stringify(b.name)} was rejected on the server` }); continue; }
    noteExtra(source, 'benchmark', b, b.is_active === false ? ['is_active (false)'] : []);
    const id = benchmarkIds.get(b.id);
    if (!id || refused.has(source)) continue;
    const missingCube = [
      ['data preparator', b.data_preparation_mlcube, cubeOk(b.data_preparation_mlcube)],
      ['metrics cube', b.data_evaluator_mlcube, cubeOk(b.data_evaluator_mlcube)],
    ].find(([, , ok]) => !ok);
    if (missingCube) { refuse(source, `its ${missingCube[0]}, mlcube #${missingCube[1]}, is not imported`); continue; }
    if (!modelOk(b.reference_model)) { refuse(source, `its reference model, model #${b.reference_model}, is not imported`); continue; }
    // The names its records may hold: what the server's results, compatibility tests and the
    // statistics of datasets prepared with its preparator name (MedPerf declares none).
    const names = (blocks: unknown[]) => [...new Set(blocks.flatMap((m) => metricNames(m as Json)))].filter((n) => METRIC_NAME.test(n)).sort();
    const declaredMetrics = names([
      ...server.results.filter((r) => r.benchmark === b.id && r.approval_status !== 'REJECTED').map((r) => r.results),
      ...[...server.modelAssociations, ...server.datasetAssociations].filter((a) => a.benchmark === b.id && a.approval_status !== 'REJECTED').map((a) => a.metadata?.test_result),
    ]);
    const declaredStatistics = names(server.datasets.filter((d) => d.data_preparation_mlcube === b.data_preparation_mlcube).map((d) => d.generated_metadata?.statistics));
    const primary = names(server.results.filter((r) => r.benchmark === b.id).map((r) => r.results))[0];
    if (!primary) { refuse(source, 'no result on the server names a metric, and a registry benchmark needs the primary metric its leaderboard ranks by'); continue; }
    if (!declaredMetrics.includes(primary)) declaredMetrics.push(primary);
    report.chosen.push({ source, reason: `results_policy: publish aggregate, primary_metric ${primary}, direction higher (MedPerf has no leaderboard policy; change it with a benchmark pull request)` });
    report.chosen.push({
      source,
      reason:
        `metric_names ${declaredMetrics.join(', ')} and statistics_names ${declaredStatistics.join(', ') || '(none)'}, the names its results, compatibility tests and datasets hold on the server ` +
        '(MedPerf declares none; data owners wrote these, so the committee reviews them)',
    });
    const data: Json = { name: b.name };
    if (b.description) data.description = b.description;
    if (b.docs_url) data.docs_url = b.docs_url;
    const policy = (mode: string | undefined, list: string[] | undefined) => {
      const m = MODE[mode ?? 'NEVER'] ?? 'never';
      const allow = allowlist(list, source);
      return allow?.length ? { mode: m, allowlist: allow } : { mode: m };
    };
    Object.assign(data, {
      committee: [login(b.owner)],
      data_preparation_mlcube: cubeIds.get(b.data_preparation_mlcube),
      reference_model: modelHashes(b.reference_model).id,
      data_evaluator_mlcube: cubeIds.get(b.data_evaluator_mlcube),
      demo_dataset: { url: b.demo_dataset_tarball_url, sha256: b.demo_dataset_tarball_hash, generated_uid: b.demo_dataset_generated_uid },
      dataset_auto_approval: policy(b.dataset_auto_approval_mode, b.dataset_auto_approval_allow_list),
      model_auto_approval: policy(b.model_auto_approval_mode, b.model_auto_approval_allow_list),
      results_policy: { publish: 'aggregate', primary_metric: primary, direction: 'higher' },
      metric_names: declaredMetrics,
      statistics_names: declaredStatistics,
      state: STATE[b.state ?? ''] ?? 'development',
    });
    const status = b.approval_status === 'APPROVED' ? 'APPROVED' : 'PENDING';
    records.push({ kind: 'benchmark', path: paths.benchmark(id), data, source, status, author: login(b.owner) });
    benchmarkOk.set(b.id, status);
  }

  /** The numbers of a compatibility test MedPerf kept in an association's metadata.test_result. */
  const testMetrics = (metadata: Json | undefined, source: ServerRef): Json => {
    const { test_result, ...rest } = metadata ?? {};
    const extra = Object.keys(rest).filter((k) => hasValue(rest[k]));
    if (extra.length) report.notCarried.push({ source, fields: extra.map((k) => `metadata.${k}`).sort() });
    return test_result && typeof test_result === 'object' ? (test_result as Json) : {};
  };
  const status = (s: ApprovalStatus, dependsOn: Array<'APPROVED' | 'PENDING' | undefined>): 'APPROVED' | 'PENDING' =>
    s === 'APPROVED' && dependsOn.every((d) => d === 'APPROVED') ? 'APPROVED' : 'PENDING';

  // Associations.
  const modelAssociated = new Map<string, 'APPROVED' | 'PENDING'>();
  const datasetAssociated = new Map<string, 'APPROVED' | 'PENDING'>();
  for (const a of server.modelAssociations) {
    const source = `model association #${a.id ?? '?'} (benchmark #${a.benchmark}, model #${a.model})`;
    if (a.approval_status === 'REJECTED') { report.rejected.push({ source, reason: 'rejected on the server' }); continue; }
    noteExtra(source, 'association', a);
    const metrics = testMetrics(a.metadata, source);
    if (!benchmarkOk.has(a.benchmark)) { refuse(source, `benchmark #${a.benchmark} is not imported`); continue; }
    if (!modelOk(a.model)) { refuse(source, `model #${a.model} is not imported`); continue; }
    const b = benchmarkById.get(a.benchmark)!;
    const cubeId = modelHashes(a.model).id;
    const data: Json = {
      initiated_by: login(a.initiated_by),
      compatibility_test: { metrics, dataset_generated_uid: b.demo_dataset_generated_uid, medperf_git_version: options.medperfGitVersion },
      priority: a.priority ?? 0,
    };
    const st = status(a.approval_status, [benchmarkOk.get(a.benchmark)]);
    // The pull request is the model owner's, as `mlcube associate` opens it.
    records.push({ kind: 'model-association', path: paths.modelAssociation(benchmarkIds.get(a.benchmark)!, cubeId), data, source, status: st, author: cubeId.split('/')[0]! });
    modelAssociated.set(`${a.benchmark}/${a.model}`, st);
  }
  for (const a of server.datasetAssociations) {
    const source = `dataset association #${a.id ?? '?'} (benchmark #${a.benchmark}, dataset #${a.dataset})`;
    if (a.approval_status === 'REJECTED') { report.rejected.push({ source, reason: 'rejected on the server' }); continue; }
    noteExtra(source, 'association', a);
    const metrics = testMetrics(a.metadata, source);
    if (!benchmarkOk.has(a.benchmark)) { refuse(source, `benchmark #${a.benchmark} is not imported`); continue; }
    if (!datasetUid.has(a.dataset)) { refuse(source, `dataset #${a.dataset} is not imported`); continue; }
    const data: Json = {
      initiated_by: login(a.initiated_by),
      compatibility_test: { metrics, dataset_generated_uid: datasetUid.get(a.dataset), medperf_git_version: options.medperfGitVersion },
    };
    const st = status(a.approval_status, [benchmarkOk.get(a.benchmark)]);
    const datasetId = datasetIds.get(a.dataset)!;
    records.push({ kind: 'dataset-association', path: paths.datasetAssociation(benchmarkIds.get(a.benchmark)!, datasetId), data, source, status: st, author: datasetId.split('/')[0]! });
    datasetAssociated.set(`${a.benchmark}/${a.dataset}`, st);
  }

  // Results: reruns of one model on one dataset are versions of one record; the latest is carried.
  const byPath = new Map<string, ServerResult[]>();
  for (const r of [...server.results].sort((x, y) => x.id - y.id)) {
    const source = `result #${r.id}`;
    if (r.approval_status === 'REJECTED') { report.rejected.push({ source, reason: 'rejected on the server' }); continue; }
    noteExtra(source, 'result', r);
    const { partial, ...rest } = r.metadata ?? {};
    const extra = Object.keys(rest).filter((k) => hasValue(rest[k]));
    if (extra.length) report.notCarried.push({ source, fields: extra.map((k) => `metadata.${k}`).sort() });
    if (!benchmarkOk.has(r.benchmark)) { refuse(source, `benchmark #${r.benchmark} is not imported`); continue; }
    if (!modelAssociated.has(`${r.benchmark}/${r.model}`)) { refuse(source, `model #${r.model} has no imported association with benchmark #${r.benchmark}`); continue; }
    if (!datasetAssociated.has(`${r.benchmark}/${r.dataset}`)) { refuse(source, `dataset #${r.dataset} has no imported association with benchmark #${r.benchmark}`); continue; }
    const path = paths.result(benchmarkIds.get(r.benchmark)!, datasetIds.get(r.dataset)!, modelHashes(r.model).id);
    (byPath.get(path) ?? byPath.set(path, []).get(path)!).push(r);
    void partial;
  }
  for (const [path, runs] of byPath) {
    const r = runs[runs.length - 1]!;
    const source = `result #${r.id}`;
    for (const older of runs.slice(0, -1)) report.chosen.push({ source: `result #${older.id}`, reason: `an earlier run of ${path}; result #${r.id} is carried as version ${runs.length}` });
    const b = benchmarkById.get(r.benchmark)!;
    const data: Json = {
      benchmark: benchmarkIds.get(r.benchmark),
      model: modelHashes(r.model).id,
      dataset: datasetIds.get(r.dataset),
      metrics: r.results,
      partial: r.metadata?.partial === true,
      version: runs.length,
      provenance: {
        cubes: {
          data_preparation_mlcube: cubeHashes.get(b.data_preparation_mlcube),
          model: modelHashes(r.model),
          data_evaluator_mlcube: cubeHashes.get(b.data_evaluator_mlcube),
        },
        dataset_generated_uid: datasetUid.get(r.dataset),
        medperf_git_version: options.medperfGitVersion,
        // Records hold times to the millisecond; MedPerf's server keeps microseconds.
        executed_at: r.created_at.replace(/(\.\d{3})\d+/, '$1'),
      },
    };
    const st = status(r.approval_status, [benchmarkOk.get(r.benchmark), modelAssociated.get(`${r.benchmark}/${r.model}`), datasetAssociated.get(`${r.benchmark}/${r.dataset}`)]);
    // The pull request is the data owner's, as `result submit` opens it.
    records.push({ kind: 'result', path, data, source, status: st, author: datasetIds.get(r.dataset)!.split('/')[0]! });
  }

  for (const [source, reason] of refused) report.refused.push({ source, reason });
  return { records, assets: [...assets.values()].sort((a, b) => a.path.localeCompare(b.path)), report };
}

/** The fields each list's entries must have, with their JSON types: what the mapping reads without a check. */
const SHAPES: Record<keyof ServerSnapshot, [string, Record<string, string>]> = {
  users: ['user', { id: 'number', username: 'string' }],
  mlcubes: ['mlcube', { id: 'number', name: 'string', owner: 'number', image_hash: 'string', additional_files_tarball_hash: 'string' }],
  models: ['model', { id: 'number', name: 'string', owner: 'number', type: 'string' }],
  datasets: ['dataset', { id: 'number', name: 'string', owner: 'number', data_preparation_mlcube: 'number', input_data_hash: 'string', generated_uid: 'string', state: 'string' }],
  benchmarks: ['benchmark', { id: 'number', name: 'string', owner: 'number', data_preparation_mlcube: 'number', reference_model: 'number', data_evaluator_mlcube: 'number', approval_status: 'string', demo_dataset_tarball_url: 'string', demo_dataset_tarball_hash: 'string', demo_dataset_generated_uid: 'string' }],
  datasetAssociations: ['dataset association', { dataset: 'number', benchmark: 'number', initiated_by: 'number', approval_status: 'string' }],
  modelAssociations: ['model association', { model: 'number', benchmark: 'number', initiated_by: 'number', approval_status: 'string' }],
  results: ['result', { id: 'number', owner: 'number', benchmark: 'number', model: 'number', dataset: 'number', approval_status: 'string', created_at: 'string', results: 'object' }],
};

/** The snapshot without entries whose fields are not what MedPerf's API documents; each one is refused in the report. */
function wellFormed(snapshot: ServerSnapshot, report: ImportReport): ServerSnapshot {
  const out = {} as Record<keyof ServerSnapshot, unknown[]>;
  for (const key of Object.keys(SHAPES) as Array<keyof ServerSnapshot>) {
    const [what, fields] = SHAPES[key];
    out[key] = (snapshot[key] as unknown as Json[]).filter((e, i) => {
      const bad = Object.entries(fields).filter(([f, type]) => (type === 'object' ? !e[f] || typeof e[f] !== 'object' || Array.isArray(e[f]) : typeof e[f] !== type));
      if (!bad.length) return true;
      const ref = typeof e.id === 'number' ? `${what} #${e.id}` : `${what} (entry ${i + 1} of the list)`;
      report.refused.push({ source: ref, reason: `the server's answer has ${bad.map(([f, type]) => `${f} ${e[f] === undefined ? 'missing' : `not a${type === 'object' ? 'n' : ''} ${type}`}`).join(', ')}` });
      return false;
    });
  }
  return out as unknown as ServerSnapshot;
}

/** Drops records medperf-git refuses (found by validation) and reports them; what depended on them is judged again. */
export function refuseRecords(plan: ImportPlan, refusals: Map<string, string>): ImportPlan {
  const kept = plan.records.filter((r) => !refusals.has(r.path));
  const refused = plan.records
    .filter((r) => refusals.has(r.path))
    .map((r) => ({ source: r.source, reason: refusals.get(r.path)! }));
  return { ...plan, records: kept, report: { ...plan.report, refused: [...plan.report.refused, ...refused] } };
}

/**
 * The records' bytes, in their order, as the one record writer makes them (injected: the writer
 * and the importing admin's signing key live with the CLI). All at once, so the results are
 * signed together.
 */
export type RecordSerializer = (records: ReadonlyArray<{ kind: RecordKind; path: string; data: unknown }>) => string[];

export interface SettledImport {
  plan: ImportPlan;
  /** Files for main: the base's files plus every APPROVED record, each as the writer makes it. */
  main: Record<string, string>;
  /** Every PENDING record with its bytes, each judged on main plus the other pending records. */
  pending: Array<ImportedRecord & { content: string }>;
}

/**
 * Runs the registry's own validation over the import until nothing it would refuse is left:
 * approved records against the whole registry they land in, pending ones as the pull request
 * each becomes (on top of main and the other pending records, so a pull request waiting for
 * another is judged as it will be once that one merges). Refused records go to the report with
 * their server id, and what depended on them is judged again. `base` is the registry's main.
 */
export async function settleImport(
  plan: ImportPlan,
  base: Record<string, string>,
  serialize: RecordSerializer,
): Promise<SettledImport> {
  const { memoryTree } = await import('../trees.ts');
  const { validatePaths, validateChange } = await import('../validate.ts');
  const { formatFinding } = await import('../findings.ts');
  let current = plan;
  // Each round refuses at least one record or ends, so there are at most records + 1 rounds.
  for (let round = 0; round <= plan.records.length; round++) {
    const written = serialize(current.records);
    const bytes = new Map(current.records.map((r, i) => [r.path, written[i]!]));
    const main: Record<string, string> = { ...base };
    for (const r of current.records) if (r.status === 'APPROVED') main[r.path] = bytes.get(r.path)!;
    const withPending: Record<string, string> = { ...main };
    for (const r of current.records) if (r.status === 'PENDING') withPending[r.path] = bytes.get(r.path)!;

    const refusals = new Map<string, string>();
    const note = (path: string, message: string) => refusals.set(path, refusals.has(path) ? `${refusals.get(path)}; ${message}` : message);
    const approved = current.records.filter((r) => r.status === 'APPROVED').map((r) => r.path).sort();
    const mainTree = memoryTree(main);
    for (const f of await validatePaths(mainTree, approved)) if (bytes.has(f.path)) note(f.path, formatFinding(f));
    mainTree.close();
    const headTree = memoryTree(withPending);
    // A pending record already on main as it is (its pull request merged) is no change to judge.
    for (const r of current.records.filter((x) => x.status === 'PENDING' && base[x.path] !== bytes.get(x.path))) {
      const findings = await validateChange({ head: headTree, base: mainTree, changed: [r.path], author: r.author });
      for (const f of findings) if (f.path === r.path) note(f.path, formatFinding(f));
    }
    if (!refusals.size) {
      return {
        plan: current,
        main,
        pending: current.records.filter((r) => r.status === 'PENDING').map((r) => ({ ...r, content: bytes.get(r.path)! })),
      };
    }
    current = refuseRecords(current, refusals);
  }
  throw new Error('import validation did not settle');
}
