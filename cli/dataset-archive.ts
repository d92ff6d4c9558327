// MedPerf's `dataset export` / `dataset import` (its pull request #625): a prepared dataset moved to
// another machine as one archive, with its hashes, and checked on arrival. The archive holds the
// prepared data and labels, the preparator's sanity-check and statistics folders, and a manifest
// (medperf-git-dataset.json) with the sha256 of every file and the generated_uid; never where the raw
// data lives. Nothing of it goes to the registry. An import extracts safely (fetch.ts: no absolute
// paths, no `..`, no links, a size limit) into a folder beside the datasets, checks every file and
// the generated_uid (against the record too, when the registry has one), and renames it into place.
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import * as tar from 'tar';
import writeFileAtomic from 'write-file-atomic';
import { HashMismatchError, MedperfError } from '../registry/errors.ts';
import { hashFiles, hashFolders, listFiles } from '../registry/hash.ts';
import { LOGIN, NAME } from '../registry/layout.ts';
import type { DatasetRecord, Metrics } from '../registry/records.ts';
import { datasetDir, type LocalDataset, preparedPaths, readLocalDataset } from './datasets.ts';
import { extractTarball } from './fetch.ts';
import { statePaths } from './state.ts';
import { VERSION } from './version.ts';

export const MANIFEST = 'medperf-git-dataset.json';
/** The folders of a dataset's local folder that travel: what `dataset prepare` made. */
const PARTS = ['prepared', 'sanity_check', 'statistics'] as const;

export interface DatasetManifest {
  format: 1;
  id: string;
  generated_uid: string;
  input_data_hash: string;
  data_preparation_mlcube: string;
  benchmark?: string;
  statistics?: Metrics;
  /** The dataset's record as it was submitted: public already. */
  record: DatasetRecord;
  prepared_at?: string;
  exported_at: string;
  medperf_git_version: string;
  /** Every file of the archive but the manifest, by its path in the archive, with its sha256. */
  files: Record<string, string>;
}

export class DatasetArchiveError extends MedperfError {
  constructor(
    readonly archive: string,
    message: string,
  ) {
    super('dataset-archive', `${archive}: ${message}; nothing was imported`);
  }
}

async function filesOf(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const part of PARTS) if (existsSync(join(dir, part))) out.push(...(await listFiles(join(dir, part))));
  return out.map((f) => relative(dir, f).split(sep).join('/')).sort();
}

export interface ExportOutcome {
  file: string;
  manifest: DatasetManifest;
  bytes: number;
}

/**
 * Writes the prepared dataset `id` as one gzip tarball at `out` (written beside it and renamed, so
 * `out` is whole or absent). The prepared data must still have the generated_uid it was prepared with.
 */
export async function exportDataset(stateDir: string, id: string, out: string, onStatus: (line: string) => void = () => {}): Promise<ExportOutcome> {
  const local = await readLocalDataset(stateDir, id);
  const p = preparedPaths(stateDir, id);
  if (!local.generated_uid || !existsSync(p.prepared)) throw new MedperfError('not-prepared', `the dataset ${id} is not prepared on this machine; run \`medperf-git dataset prepare -d ${id}\` first`);
  if (existsSync(out)) throw new MedperfError('file-exists', `${out} exists already; remove it or name another file`);
  onStatus('hashing the prepared data');
  const now = await hashFolders([p.data, p.labels]);
  if (now !== local.generated_uid) {
    throw new MedperfError('prepared-data-changed', `the prepared data of ${id} changed since it was prepared (generated_uid ${local.generated_uid}, now ${now}); prepare it again before exporting it`);
  }
  const paths = await filesOf(p.dir);
  const hashes = await hashFiles(paths.map((f) => join(p.dir, f)));
  const manifest: DatasetManifest = {
    format: 1,
    id,
    generated_uid: now,
    input_data_hash: local.input_data_hash,
    data_preparation_mlcube: local.data_preparation_mlcube,
    ...(local.benchmark ? { benchmark: local.benchmark } : {}),
    ...(local.statistics ? { statistics: local.statistics } : {}),
    record: local.record,
    ...(local.prepared_at ? { prepared_at: local.prepared_at } : {}),
    exported_at: new Date().toISOString(),
    medperf_git_version: VERSION,
    files: Object.fromEntries(paths.map((f, i) => [f, hashes[i]!])),
  };
  const manifestFile = join(p.dir, MANIFEST);
  await writeFileAtomic(manifestFile, JSON.stringify(manifest, null, 2) + '\n');
  const partial = join(dirname(resolve(out)), `.${basename(out)}.partial-${process.pid}`);
  onStatus(`writing ${out}`);
  try {
    await tar.c({ cwd: p.dir, file: partial, gzip: true, portable: true }, [MANIFEST, ...PARTS.filter((part) => existsSync(join(p.dir, part)))]);
    await rename(partial, out);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  } finally {
    await rm(manifestFile, { force: true });
  }
  return { file: out, manifest, bytes: (await stat(out)).size };
}

const ID = new RegExp(`^${LOGIN}/${NAME}$`);
const HEX64 = /^[0-9a-f]{64}$/;

/** The manifest's fields checked, each failure naming the field. */
function readManifest(archive: string, text: string): DatasetManifest {
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    throw new DatasetArchiveError(archive, `${MANIFEST} is not valid JSON (${(error as Error).message})`);
  }
  const bad = (field: string, want: string) => new DatasetArchiveError(archive, `${MANIFEST}: \`${field}\` must be ${want}`);
  if (!m || typeof m !== 'object' || Array.isArray(m)) throw new DatasetArchiveError(archive, `${MANIFEST} is not an object`);
  if (m.format !== 1) throw bad('format', '1 (an archive of this medperf-git)');
  if (typeof m.id !== 'string' || !ID.test(m.id)) throw bad('id', 'a dataset id, owner/name');
  for (const field of ['generated_uid', 'input_data_hash'] as const) if (typeof m[field] !== 'string' || !HEX64.test(m[field] as string)) throw bad(field, 'a sha256 in hex');
  if (typeof m.data_preparation_mlcube !== 'string' || !ID.test(m.data_preparation_mlcube)) throw bad('data_preparation_mlcube', 'a cube id, owner/name');
  if (!m.record || typeof m.record !== 'object') throw bad('record', 'the dataset record');
  const files = m.files as Record<string, unknown>;
  if (!files || typeof files !== 'object' || Array.isArray(files)) throw bad('files', 'an object of path: sha256');
  for (const [path, sha] of Object.entries(files)) {
    if (typeof sha !== 'string' || !HEX64.test(sha)) throw bad(`files.${path}`, 'a sha256 in hex');
    if (!PARTS.some((part) => path.startsWith(`${part}/`))) throw bad(`files.${path}`, `a path under ${PARTS.join('/, ')}/`);
  }
  return m as unknown as DatasetManifest;
}

export interface ImportOptions {
  /** The id the user expects (-d): the archive must hold that dataset. */
  expectedId?: string;
  /** Reads the registry's record (main) of the dataset the archive names: its generated_uid must match. */
  lookup?: (id: string) => Promise<DatasetRecord | undefined>;
  onStatus?: (line: string) => void;
}

export interface ImportOutcome {
  id: string;
  generated_uid: string;
  files: number;
  /** False when the same prepared dataset was here already. */
  imported: boolean;
  /** Kept from a dataset registered on this machine: where its raw data is. */
  keptRawPaths: boolean;
}

/** Imports a dataset archive into the state directory, after checking every file and the generated_uid. */
export async function importDataset(stateDir: string, archive: string, options: ImportOptions = {}): Promise<ImportOutcome> {
  const status = options.onStatus ?? (() => {});
  if (!(await stat(archive).catch(() => undefined))?.isFile()) throw new MedperfError('not-found', `${archive}: no such file`);
  const root = statePaths(stateDir).datasets;
  await mkdir(root, { recursive: true });
  const staging = join(root, `.import-${process.pid}-${Date.now()}`);
  try {
    status('checking and extracting the archive');
    await extractTarball(archive, staging);
    const manifestText = await readFile(join(staging, MANIFEST), 'utf8').catch(() => {
      throw new DatasetArchiveError(archive, `no ${MANIFEST} in it: not a dataset exported by \`medperf-git dataset export\``);
    });
    const manifest = readManifest(archive, manifestText);
    if (options.expectedId && options.expectedId !== manifest.id) throw new DatasetArchiveError(archive, `it holds the dataset ${manifest.id}, not ${options.expectedId}`);
    const strays = (await readdir(staging)).filter((entry) => entry !== MANIFEST && !(PARTS as readonly string[]).includes(entry));
    if (strays.length) throw new DatasetArchiveError(archive, `entries that are no part of a prepared dataset: ${strays.slice(0, 5).join(', ')}`);
    const present = await filesOf(staging);
    const listed = Object.keys(manifest.files).sort();
    const extra = present.filter((f) => !(f in manifest.files));
    const missing = listed.filter((f) => !present.includes(f));
    if (extra.length) throw new DatasetArchiveError(archive, `files the manifest does not list: ${extra.slice(0, 5).join(', ')}${extra.length > 5 ? ', ...' : ''}`);
    if (missing.length) throw new DatasetArchiveError(archive, `files the manifest lists are missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
    status(`checking ${present.length} files against their sha256`);
    const hashes = await hashFiles(present.map((f) => join(staging, f)));
    present.forEach((f, i) => {
      if (hashes[i] !== manifest.files[f]) throw new HashMismatchError(`${archive}: ${f}`, manifest.files[f]!, hashes[i]!);
    });
    const uid = await hashFolders([join(staging, 'prepared', 'data'), join(staging, 'prepared', 'labels')]).catch(() => {
      throw new DatasetArchiveError(archive, 'it has no prepared/data and prepared/labels folders');
    });
    if (uid !== manifest.generated_uid) throw new HashMismatchError(`${archive}: the prepared data's generated_uid`, manifest.generated_uid, uid);
    const registered = await options.lookup?.(manifest.id);
    const recordUid = registered?.generated_uid;
    if (recordUid && recordUid !== uid) {
      throw new DatasetArchiveError(archive, `its generated_uid ${uid} is not the registered dataset's (${recordUid}): it is other data than the registry's ${manifest.id}`);
    }
    if (registered && registered.data_preparation_mlcube !== manifest.data_preparation_mlcube) {
      throw new DatasetArchiveError(archive, `it was prepared with ${manifest.data_preparation_mlcube}, but the registry's ${manifest.id} names ${registered.data_preparation_mlcube}`);
    }
    const here = await readLocalDataset(stateDir, manifest.id).catch(() => undefined);
    const dest = datasetDir(stateDir, manifest.id);
    if (here?.generated_uid && existsSync(preparedPaths(stateDir, manifest.id).prepared)) {
      if (here.generated_uid === uid) return { id: manifest.id, generated_uid: uid, files: present.length, imported: false, keptRawPaths: Boolean(here.data_path) };
      throw new MedperfError(
        'dataset-exists',
        `${manifest.id} is prepared on this machine already, with another generated_uid (${here.generated_uid}); nothing was imported. Remove it first (\`medperf-git storage cleanup\` lists what it may remove)`,
      );
    }
    await rm(join(staging, MANIFEST));
    const local: LocalDataset = {
      id: manifest.id,
      ...(manifest.benchmark ? { benchmark: manifest.benchmark } : {}),
      data_preparation_mlcube: manifest.data_preparation_mlcube,
      // Registered on this machine before: its raw data stays where it is. Otherwise there is none here.
      ...(here?.data_path ? { data_path: here.data_path, labels_path: here.labels_path } : {}),
      input_data_hash: manifest.input_data_hash,
      generated_uid: uid,
      ...(manifest.statistics ? { statistics: manifest.statistics } : {}),
      record: here?.record ?? manifest.record,
      submitted_at: here?.submitted_at ?? manifest.exported_at,
      ...(manifest.prepared_at ? { prepared_at: manifest.prepared_at } : {}),
      imported_at: new Date().toISOString(),
    };
    await writeFileAtomic(join(staging, basename(preparedPaths(stateDir, manifest.id).metadata)), JSON.stringify(local, null, 2) + '\n');
    // Into place in one rename; a dataset folder registered here but not prepared is swapped out.
    await mkdir(dirname(dest), { recursive: true });
    const old = `${dest}.old-${process.pid}`;
    if (existsSync(dest)) await rename(dest, old);
    try {
      await rename(staging, dest);
    } catch (error) {
      if (existsSync(old)) await rename(old, dest);
      throw error;
    }
    await rm(old, { recursive: true, force: true });
    return { id: manifest.id, generated_uid: uid, files: present.length, imported: true, keptRawPaths: Boolean(here?.data_path) };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}
