// A cube record's hashes as `mlcube submit` computes them, from a local cube folder or from
// URLs: every file is hashed as it is read, downloads land in the content-addressed cache
// (cli/fetch.ts) so the compatibility test that follows does not download them again. The record
// itself is written by registry/record-yaml.ts.
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import * as tar from 'tar';
import { MedperfError } from '../../registry/errors.ts';
import { hashFile, listFiles, sha256Hex } from '../../registry/hash.ts';
import type { Asset, CubeRecord } from '../../registry/records.ts';
import { type CubeFormat, CubeConfigError, cubeImage } from './cube.ts';
import { cubeTasks, loadCube, parseCubeConfig } from './config.ts';
import { cachePath, FetchError, hashUrl } from '../fetch.ts';

// ---------------------------------------------------------------------------------------------
// A cube's hashes

export class CubeSourceError extends MedperfError {
  constructor(message: string) {
    super('cube-source-invalid', message);
  }
}

export class ImageDigestUnknownError extends MedperfError {
  constructor(message: string) {
    super('image-digest-unknown', message);
  }
}

/** Where a cube comes from: a local folder, or the URLs MedPerf's `mlcube submit` takes. */
export interface CubeSource {
  /** A cube folder holding mlcube.yaml or container_config.yaml (or the config file itself). */
  dir?: string;
  /**
   * With `dir`: where the cube's files will be published (mlcube.yaml, parameters.yaml and
   * additional_files.tar.gz under it). Without it, the record points at the local files (file://).
   */
  baseUrl?: string;
  /** The config's URL (mlcube.yaml or container_config.yaml). */
  configUrl?: string;
  parametersUrl?: string;
  additionalFilesUrl?: string;
  /** The image as a pullable reference (`repo:tag` or `repo@sha256:...`); default the config's. */
  image?: string;
  /** The image id or digest, when it cannot be read from a container engine here. */
  imageDigest?: string;
  /** An image tarball (`docker save`) URL, verified before `docker load`. */
  imageTarballUrl?: string;
}

/** What a container engine knows about an image: its id and any registry digests. */
export interface ImageInfo {
  id: string;
  repoDigests: string[];
}

export type InspectImage = (reference: string) => Promise<ImageInfo | undefined>;

/** Asks the Docker engine (dockerode) about an image; undefined when there is no engine or no such image. */
export const dockerInspectImage: InspectImage = async (reference) => {
  try {
    const { default: Docker } = await import('dockerode');
    const info = await new Docker().getImage(reference).inspect();
    return { id: info.Id, repoDigests: info.RepoDigests ?? [] };
  } catch {
    return undefined;
  }
};

/** Every hashed part of a cube record (all but name, description, kind and state). */
export interface CubeAssets {
  format: CubeFormat;
  /** The config asset, under `mlcube` or `container_config` in the record. */
  config: Asset;
  parameters?: Asset;
  additional_files?: Asset;
  image: CubeRecord['image'];
  /** The tasks the config declares. */
  tasks: string[];
  /** The cube config's own name, as a default for the record's. */
  configName?: string;
  /** The cube config's description, as a default for the record's. */
  configDescription?: string;
  /** Files the user must upload to the URLs the record names (with --base-url). */
  toUpload: Array<{ file: string; url: string }>;
  /** Things to tell the user (a tarball was made of additional_files/, ...). */
  notes: string[];
}

export interface CubeAssetOptions {
  stateDir: string;
  inspectImage?: InspectImage;
  onProgress?: (text: string) => void;
}

/** The tasks MedPerf runs for each kind of cube. */
export const REQUIRED_TASKS: Record<CubeRecord['kind'], string[]> = {
  'data-preparator': ['prepare', 'sanity_check', 'statistics'],
  model: ['infer'],
  metrics: ['evaluate'],
};

/** Refuses a cube that lacks a task its kind needs. */
export function checkCubeTasks(kind: CubeRecord['kind'], tasks: string[], where: string): void {
  const missing = REQUIRED_TASKS[kind].filter((t) => !tasks.includes(t));
  if (missing.length) {
    throw new CubeSourceError(
      `${where}: a ${kind} cube needs the task${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; it declares ${tasks.join(', ') || 'none'}`,
    );
  }
}

function joinUrl(base: string, name: string): string {
  return base.replace(/\/+$/, '') + '/' + name;
}

/**
 * additional_files/ as the tarball MedPerf expects, with deterministic bytes (sorted entries, fixed
 * times, no owners, gzip without a timestamp), so the same files always give the same sha256.
 * Written into the cache under its own hash.
 */
export async function packAdditionalFiles(folder: string, stateDir: string): Promise<{ sha256: string; path: string }> {
  const files = (await listFiles(folder)).map((f) => relative(folder, f).split('\\').join('/')).sort();
  if (!files.length) throw new CubeSourceError(`${folder}: additional_files/ is empty`);
  const chunks: Buffer[] = [];
  const stream = tar.c({ cwd: folder, portable: true, mtime: new Date(0), follow: true, noDirRecurse: true }, files);
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  const bytes = gzipSync(Buffer.concat(chunks), { level: 9 });
  const sha256 = sha256Hex(bytes);
  const path = cachePath(stateDir, sha256);
  if (!existsSync(path)) {
    await mkdir(join(path, '..'), { recursive: true });
    const { default: writeFileAtomic } = await import('write-file-atomic');
    await writeFileAtomic(path, bytes);
  }
  return { sha256, path };
}

/** The config format a file holds: container configs name an image at the top, MLCube configs do not. */
function configFormatOf(url: string, text: string): CubeFormat {
  if (/container_config[^/]*$/.test(url)) return 'container-config';
  if (/^image\s*:/m.test(text) && /^container_type\s*:/m.test(text)) return 'container-config';
  return 'mlcube';
}

/**
 * The image id inside a `docker save` tarball: its manifest.json names the image's config blob,
 * whose sha256 is the id the engine reports after `docker load`.
 */
export async function imageTarballId(file: string): Promise<string | undefined> {
  let manifest = '';
  await tar.t({
    file,
    onReadEntry: (entry) => {
      if (entry.path.replace(/^\.\//, '') === 'manifest.json') entry.on('data', (chunk: Buffer) => (manifest += chunk.toString('utf8')));
    },
  });
  if (!manifest) return undefined;
  try {
    const config = (JSON.parse(manifest) as Array<{ Config?: string }>)[0]?.Config ?? '';
    const hex = /([a-f0-9]{64})(?:\.json)?$/.exec(config)?.[1];
    return hex ? `sha256:${hex}` : undefined;
  } catch {
    return undefined;
  }
}

async function imageOf(
  reference: string | undefined,
  source: CubeSource,
  options: CubeAssetOptions,
  where: string,
): Promise<{ image: CubeRecord['image']; notes: string[] }> {
  const notes: string[] = [];
  const image: CubeRecord['image'] = { digest: '' };
  if (source.imageTarballUrl) {
    options.onProgress?.('image tarball: hashing');
    const { sha256, path } = await hashUrl(source.imageTarballUrl, options.stateDir);
    image.tarball = { url: source.imageTarballUrl, sha256 };
    if (!source.imageDigest) {
      const id = await imageTarballId(path).catch(() => undefined);
      if (!id) throw new ImageDigestUnknownError(`${source.imageTarballUrl}: not a \`docker save\` tarball with a manifest.json; pass --image-digest sha256:...`);
      image.digest = id;
    }
  }
  if (source.imageDigest) {
    if (!/^sha256:[a-f0-9]{64}$/.test(source.imageDigest)) {
      throw new CubeSourceError(`--image-digest must be sha256: followed by 64 hex digits, not ${source.imageDigest}`);
    }
    image.digest = source.imageDigest;
  }
  if (reference) {
    const pinned = /@sha256:[a-f0-9]{64}$/.test(reference) ? reference : undefined;
    if (!image.digest) {
      options.onProgress?.(`image ${reference}: inspecting`);
      const info = await (options.inspectImage ?? dockerInspectImage)(reference);
      if (!info) {
        throw new ImageDigestUnknownError(
          `${where}: cannot read the digest of the image ${reference}: no Docker engine answers here, or it does not have the image ` +
            `(docker pull or build it first), or pass --image-digest sha256:...`,
        );
      }
      image.digest = info.id;
      const repo = reference.replace(/@.*$/, '').replace(/:[^/:]+$/, '');
      const digest = pinned ?? info.repoDigests.find((d) => d.split('@')[0] === repo);
      if (digest) image.reference = digest;
      else notes.push(`the image ${reference} has no registry digest here (built locally?): the record pins its id ${info.id}; data owners need the same image, or an image tarball (--image-tarball-url)`);
    } else if (pinned) image.reference = pinned;
  }
  if (!image.digest) {
    throw new ImageDigestUnknownError(`${where}: the cube names no container image; pass --image and, without Docker here, --image-digest sha256:...`);
  }
  if (image.reference && !/^[a-z0-9][a-z0-9._/:-]*@sha256:[a-f0-9]{64}$/.test(image.reference)) delete image.reference;
  return { image, notes };
}

/**
 * Every hash of a cube record: the config, parameters.yaml, the additional files (made into a
 * tarball from a local additional_files/ folder) and the image's digest. The config is validated
 * (file, line and field on error) before anything else.
 */
export async function computeCubeAssets(source: CubeSource, options: CubeAssetOptions): Promise<CubeAssets> {
  const notes: string[] = [];
  const toUpload: CubeAssets['toUpload'] = [];
  if (source.dir) {
    if (source.configUrl) throw new CubeSourceError('give either a cube folder or --mlcube-url, not both');
    const cube = loadCube(source.dir);
    const tasks = cubeTasks(cube);
    const configName = basename(cube.configPath);
    const url = (file: string, name: string) => {
      if (source.baseUrl) {
        const u = joinUrl(source.baseUrl, name);
        toUpload.push({ file, url: u });
        return u;
      }
      return pathToFileURL(file).href;
    };
    options.onProgress?.(`${configName}: hashing`);
    const config: Asset = { url: url(cube.configPath, configName), sha256: await hashFile(cube.configPath) };
    let parameters: Asset | undefined;
    if (cube.parametersFile) {
      options.onProgress?.('parameters.yaml: hashing');
      parameters = { url: url(cube.parametersFile, 'parameters.yaml'), sha256: await hashFile(cube.parametersFile) };
    }
    let additional: Asset | undefined;
    if (source.additionalFilesUrl) {
      options.onProgress?.('additional files: hashing');
      additional = { url: source.additionalFilesUrl, sha256: (await hashUrl(source.additionalFilesUrl, options.stateDir)).sha256 };
    } else if (cube.additionalFiles) {
      options.onProgress?.('additional files: packing');
      const packed = await packAdditionalFiles(cube.additionalFiles, options.stateDir);
      additional = { url: url(packed.path, 'additional_files.tar.gz'), sha256: packed.sha256 };
      notes.push(`additional_files/ was packed into a tarball (sha256 ${packed.sha256}): ${packed.path}`);
    }
    const reference = source.image ?? cubeImage(cube);
    const img = await imageOf(reference, source, options, cube.configPath);
    return {
      format: cube.format,
      config,
      ...(parameters ? { parameters } : {}),
      ...(additional ? { additional_files: additional } : {}),
      image: img.image,
      tasks,
      configName: cube.mlcube?.name,
      configDescription: cube.mlcube?.description,
      toUpload,
      notes: [...notes, ...img.notes],
    };
  }
  if (!source.configUrl) throw new CubeSourceError('give a cube folder, or --mlcube-url with the URL of its mlcube.yaml or container_config.yaml');
  options.onProgress?.('config: fetching');
  const fetched = await hashUrl(source.configUrl, options.stateDir);
  const text = await readFile(fetched.path, 'utf8');
  const format = configFormatOf(source.configUrl, text);
  let parsed;
  try {
    parsed = parseCubeConfig(fetched.path, format);
  } catch (error) {
    if (error instanceof CubeConfigError) throw new CubeConfigError(error.message.split(fetched.path).join(source.configUrl));
    throw error;
  }
  const tasks = Object.keys(parsed.tasks);
  let parameters: Asset | undefined;
  if (source.parametersUrl) {
    options.onProgress?.('parameters: fetching');
    parameters = { url: source.parametersUrl, sha256: (await hashUrl(source.parametersUrl, options.stateDir)).sha256 };
  }
  let additional: Asset | undefined;
  if (source.additionalFilesUrl) {
    options.onProgress?.('additional files: fetching');
    additional = { url: source.additionalFilesUrl, sha256: (await hashUrl(source.additionalFilesUrl, options.stateDir)).sha256 };
  }
  const configImage =
    format === 'container-config' ? (parsed as { image?: string }).image : ((parsed as { docker?: { image?: string } }).docker?.image ?? undefined);
  const img = await imageOf(source.image ?? configImage, source, options, source.configUrl);
  return {
    format,
    config: { url: source.configUrl, sha256: fetched.sha256 },
    ...(parameters ? { parameters } : {}),
    ...(additional ? { additional_files: additional } : {}),
    image: img.image,
    tasks,
    configName: (parsed as { name?: string }).name,
    configDescription: (parsed as { description?: string }).description,
    toUpload,
    notes: img.notes,
  };
}

/**
 * A URL as typed on the command line: https://, http:// and file:// as they are; a local path
 * (absolute, or relative to `cwd`) becomes a file:// URL, the form a record accepts.
 */
export function urlFromArgument(text: string | undefined, cwd: string): string | undefined {
  if (text === undefined) return undefined;
  if (/^(https?|file):\/\//.test(text)) return text;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new CubeSourceError(`${text}: only https://, http:// and file:// URLs, or local paths, can be used`);
  return pathToFileURL(resolve(cwd, text)).href;
}

/** A cube record from its assets and what the owner typed. */
export function cubeRecord(
  assets: CubeAssets,
  fields: { name: string; description?: string; kind: CubeRecord['kind']; state?: CubeRecord['state']; private?: CubeRecord['private'] },
): CubeRecord {
  const record = {
    name: fields.name,
    ...(fields.description ? { description: fields.description } : {}),
    kind: fields.kind,
    ...(assets.format === 'mlcube' ? { mlcube: assets.config } : { container_config: assets.config }),
    ...(assets.parameters ? { parameters: assets.parameters } : {}),
    ...(assets.additional_files ? { additional_files: assets.additional_files } : {}),
    ...(fields.private ? { private: fields.private } : {}),
    image: assets.image,
    state: fields.state ?? 'operational',
  };
  return record as CubeRecord;
}

/** The config asset of a cube record, whichever format it uses. */
export function cubeConfigAsset(record: CubeRecord): Asset {
  return (record.mlcube ?? record.container_config)!;
}

/**
 * Re-hashes what a registered cube record points at (config, parameters, additional files, image
 * tarball; the image digest when an engine answers) and lists every difference: a cube that
 * changed upstream since it was registered must not be tested or run as if it had not.
 */
export async function verifyCubeUpstream(
  id: string,
  record: CubeRecord,
  options: CubeAssetOptions,
): Promise<Array<{ what: string; url?: string; expected: string; actual: string }>> {
  const changes: Array<{ what: string; url?: string; expected: string; actual: string }> = [];
  const check = async (what: string, asset: Asset | undefined) => {
    if (!asset) return;
    options.onProgress?.(`${id} ${what}: verifying`);
    let actual: string;
    try {
      actual = (await hashUrl(asset.url, options.stateDir)).sha256;
    } catch (error) {
      if (error instanceof FetchError) actual = `unreachable (${error.message})`;
      else throw error;
    }
    if (actual !== asset.sha256) changes.push({ what, url: asset.url, expected: asset.sha256, actual });
  };
  await check(record.mlcube ? 'mlcube.yaml' : 'container_config.yaml', cubeConfigAsset(record));
  await check('parameters.yaml', record.parameters);
  await check('additional files', record.additional_files);
  await check('image tarball', record.image.tarball);
  return changes;
}

/** The kinds a cube may be, for option checks. */
export const CUBE_KINDS: ReadonlyArray<CubeRecord['kind']> = ['data-preparator', 'model', 'metrics'];
