// Loading records: bytes -> YAML -> schema-checked record, with every problem a located finding.
// A view over a tree loads a record the first time it is asked for and caches the outcome, so a
// rule that names a cube a thousand times parses it once, and a one-record change parses only that
// record and what it references.
import { paths, parseRecordPath, type RecordKind, type RecordPath } from './layout.ts';
import { MAX_FINDINGS_PER_FILE, moreFindings, type Finding } from './findings.ts';
import type { RegistryConfig } from './records.ts';
import { describeSchemaErrors, validatorFor } from './schemas.ts';
import { readLimited, type LimitedRead, type RegistryTree } from './trees.ts';
import type { FileTree, LoadedRecord, Position, RegistryView } from './view.ts';
import { MAX_RECORD_BYTES, oversizedFinding, parseRecordYaml, SourceMap } from './yaml.ts';

export interface LoadResult {
  record?: LoadedRecord;
  findings: Finding[];
}

/** Where a value sits in a file, computed only when asked (a finding is being reported). */
function lazyLocator(text: string | undefined): (pointer: string) => Position {
  let map: SourceMap | undefined;
  return (pointer) => {
    if (text === undefined) return { line: 1, column: 1 };
    map ??= new SourceMap(text);
    return map.locate(pointer);
  };
}

function finding(path: string, at: Position, rule: Finding['rule'], message: string): Finding {
  return { path, line: Math.max(1, at.line), column: Math.max(1, at.column), rule, message };
}

/** Where a result's own fields disagree with its path (the path is its identity). */
export function resultPathFindings(
  where: Extract<RecordPath, { kind: 'result' }>,
  data: { benchmark?: unknown; model?: unknown; dataset?: unknown },
  locate: (pointer: string) => Position,
): Finding[] {
  const out: Finding[] = [];
  for (const field of ['benchmark', 'model', 'dataset'] as const) {
    const expected = where[field];
    if (data[field] !== expected) {
      out.push(
        finding(
          where.path,
          locate(`/${field}`),
          'layout',
          `field \`${field}\` is ${JSON.stringify(data[field])} but the file's path says ${JSON.stringify(expected)}; move the file or fix the field`,
        ),
      );
    }
  }
  return out;
}

/** Checks one record file's bytes: yaml, schema and layout findings, and the record when it is valid. */
export function loadRecord(path: string, bytes: Buffer): LoadResult {
  const where = parseRecordPath(path);
  if (!where) {
    return { findings: [finding(path, { line: 1, column: 1 }, 'layout', outsideLayoutMessage(path))] };
  }
  const parsed = parseRecordYaml(path, bytes);
  if (parsed.findings.length) return { findings: parsed.findings };
  const locate = lazyLocator(parsed.text);
  const validate = validatorFor(where.kind);
  if (!validate(parsed.data)) {
    const messages = describeSchemaErrors(where.kind, validate.errors ?? []);
    // Only the findings that are shown are located; the rest are counted.
    const findings = messages.slice(0, MAX_FINDINGS_PER_FILE).map((m) => finding(path, locate(m.pointer), 'schema', m.message));
    if (messages.length > MAX_FINDINGS_PER_FILE) findings.push(moreFindings(path, 'schema', messages.length - MAX_FINDINGS_PER_FILE));
    return { findings };
  }
  const data = parsed.data as never;
  if (where.kind === 'result') {
    const mismatch = resultPathFindings(where, data, locate);
    if (mismatch.length) return { findings: mismatch };
  }
  // The text stays with the record: the privacy rule reads a result's comments from it.
  const record: LoadedRecord & { text?: string; plain?: boolean } = { where: where as never, data, locate, text: parsed.text, plain: parsed.plain };
  return { record, findings: [] };
}

/** The message for a file outside the layout, with the nearest hint we can give. */
export function outsideLayoutMessage(path: string): string {
  const layout =
    'records live at registry.yaml, mlcubes/<owner>/<name>.yaml, datasets/<owner>/<name>.yaml, ' +
    'benchmarks/<name>/benchmark.yaml, benchmarks/<name>/{models,datasets}/<owner>/<name>.yaml, ' +
    'benchmarks/<name>/results/<data-owner>/<dataset>/<model-owner>/<model>.yaml, and people/<login>.yaml';
  if (path.endsWith('.yml') && parseRecordPath(path.slice(0, -4) + '.yaml')) {
    return `file is outside the registry layout: records end in .yaml, not .yml`;
  }
  if (/[A-Z]/.test(path.split('/').pop() ?? '') && parseRecordPath(path.replace(/[^/]*$/, (n) => n.toLowerCase()))) {
    return `file is outside the registry layout: record names are lower case`;
  }
  return `file is outside the registry layout: ${layout}`;
}

/** A view that also gives the findings of loading each file (the schema and layout rules read them). */
export interface LoadingView extends RegistryView {
  load(path: string): Promise<LoadResult>;
  /** The load result now, when it is cached or the tree reads synchronously; else undefined. */
  loadSync(path: string): LoadResult | undefined;
  /** Drops a path from the cache (full validation releases results once every rule has seen them). */
  forget(path: string): void;
  /** The paths loaded since the last call (each once), for a caller that releases what it is done with. */
  drainLoaded(): string[];
}

/** The load result of a path through a view, caching when the view can. */
export async function loadThrough(view: RegistryView, path: string): Promise<LoadResult> {
  const v = view as Partial<LoadingView>;
  if (typeof v.loadSync === 'function') {
    const now = v.loadSync(path);
    if (now) return now;
  }
  if (typeof v.load === 'function') return v.load(path);
  const bytes = await view.tree.read(path);
  return bytes ? loadRecord(path, bytes) : { findings: [] };
}

function fromRead(path: string, read: LimitedRead | undefined): LoadResult {
  if (!read) return { findings: [] };
  if (!read.bytes) {
    if (!parseRecordPath(path)) {
      return { findings: [finding(path, { line: 1, column: 1 }, 'layout', outsideLayoutMessage(path))] };
    }
    return { findings: [oversizedFinding(path, read.size)] };
  }
  return loadRecord(path, read.bytes);
}

/**
 * Records of a tree, parsed on demand and cached. Over a folder or memory the files are read
 * synchronously, so a cached record costs no more than a map lookup.
 */
export function createView(tree: FileTree): LoadingView {
  const done = new Map<string, LoadResult>();
  let loaded: string[] = [];
  const pending = new Map<string, Promise<LoadResult>>();
  const readSync = (tree as Partial<RegistryTree>).readLimitedSync?.bind(tree);

  function loadSync(path: string): LoadResult | undefined {
    let r = done.get(path);
    if (r || !readSync) return r;
    r = fromRead(path, readSync(path, MAX_RECORD_BYTES));
    done.set(path, r);
    loaded.push(path);
    return r;
  }

  function load(path: string): Promise<LoadResult> {
    const now = loadSync(path);
    if (now) return Promise.resolve(now);
    let p = pending.get(path);
    if (!p) {
      p = readLimited(tree, path, MAX_RECORD_BYTES).then((read) => {
        const r = fromRead(path, read);
        if (pending.get(path) === p) {
          done.set(path, r);
          loaded.push(path);
          pending.delete(path);
        }
        return r;
      });
      pending.set(path, p);
    }
    return p;
  }

  async function recordOf<K extends RecordKind>(path: string, kind: K): Promise<LoadedRecord<K> | undefined> {
    const where = parseRecordPath(path);
    if (!where || where.kind !== kind) return undefined;
    const r = loadSync(path) ?? (await load(path));
    return r.record as LoadedRecord<K> | undefined;
  }

  return {
    tree,
    load,
    loadSync,
    forget(path) {
      done.delete(path);
      pending.delete(path);
    },
    drainLoaded() {
      const out = loaded;
      loaded = [];
      return out;
    },
    async record(path) {
      const cached = done.get(path);
      if (cached) return cached.record;
      if (!parseRecordPath(path)) return undefined;
      return (loadSync(path) ?? (await load(path))).record;
    },
    async registryConfig() {
      return (await recordOf(paths.registry(), 'registry'))?.data as RegistryConfig | undefined;
    },
    cube: (id) => recordOf(paths.cube(id), 'cube'),
    dataset: (id) => recordOf(paths.dataset(id), 'dataset'),
    benchmark: (name) => recordOf(paths.benchmark(name), 'benchmark'),
    modelAssociation: (benchmark, model) => recordOf(paths.modelAssociation(benchmark, model), 'model-association'),
    datasetAssociation: (benchmark, dataset) => recordOf(paths.datasetAssociation(benchmark, dataset), 'dataset-association'),
    person: (login) => recordOf(paths.person(login), 'person'),
    modelGrant: (model, login) => recordOf(paths.modelGrant(model, login), 'model-grant'),
  };
}
