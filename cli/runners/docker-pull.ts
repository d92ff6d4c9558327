// Pulling a cube's image from its registry (Docker Hub, GHCR, a hospital's own) when the engine
// lacks it: by digest when the record pins a registry digest, with the credentials of the user's
// Docker config (`~/.docker/config.json`, or `$DOCKER_CONFIG`), one progress line as layers come.
// The caller checks the pulled image against the pin before anything runs.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type Docker from 'dockerode';
import { MedperfError } from '../../registry/errors.ts';

export class ImagePullError extends MedperfError {
  constructor(message: string) {
    super('image-pull', message);
  }
}

/**
 * Follows a progress stream of the engine (a pull or a build) to its end: each event goes to
 * `onEvent`; an error the engine reports in the stream rejects, as a failed request does.
 */
export function followEngineStream<E>(docker: Docker, stream: NodeJS.ReadableStream, onEvent: (event: E) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null, output: Array<{ error?: string }>) => {
        const failed = error?.message ?? output?.find((o) => o.error)?.error;
        if (failed) reject(new Error(failed));
        else resolve();
      },
      onEvent,
    );
  });
}

/** Where an image reference is pulled from: its registry host, or Docker Hub's. */
export function registryHost(reference: string): string {
  const first = reference.split('/')[0]!;
  // A first part with a dot or a port, or localhost, is a registry; anything else is a Docker Hub namespace.
  return reference.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : 'docker.io';
}

/** The repository of a reference, without tag or digest: `127.0.0.1:5000/team/cube:1` -> `127.0.0.1:5000/team/cube`. */
export function repositoryOf(reference: string): string {
  const at = reference.indexOf('@');
  const noDigest = at >= 0 ? reference.slice(0, at) : reference;
  const slash = noDigest.lastIndexOf('/');
  const colon = noDigest.lastIndexOf(':');
  return colon > slash ? noDigest.slice(0, colon) : noDigest;
}

/**
 * What to pull: the record's pinned reference, else the config's repository at the pinned
 * digest, else the config's image as named (its id is then checked against the pin).
 */
export function pullReferences(image: string, pin?: string, reference?: string): string[] {
  const out: string[] = [];
  if (reference) out.push(reference);
  if (pin) out.push(`${repositoryOf(image)}@${pin}`);
  out.push(image);
  return [...new Set(out)];
}

export interface DockerAuth {
  username?: string;
  password?: string;
  identitytoken?: string;
  serveraddress: string;
}

const HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

/**
 * The credentials the user's Docker config holds for a registry host (`auths` entries, as
 * `docker login` writes them), or undefined. A config that cannot be read is no credential.
 */
export async function dockerAuth(host: string, env: NodeJS.ProcessEnv = process.env): Promise<DockerAuth | undefined> {
  const file = join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
  let config: { auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }> };
  try {
    config = JSON.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  const auths = config.auths ?? {};
  const keys = host === 'docker.io' ? HUB_KEYS : [host, `https://${host}`, `http://${host}`, `https://${host}/v1/`, `https://${host}/v2/`];
  const key = keys.find((k) => auths[k]);
  if (!key) return undefined;
  const entry = auths[key]!;
  let { username, password } = entry;
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    if (i > 0) [username, password] = [decoded.slice(0, i), decoded.slice(i + 1)];
  }
  return {
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    ...(entry.identitytoken ? { identitytoken: entry.identitytoken } : {}),
    serveraddress: key,
  };
}

const MiB = 1024 * 1024;
const size = (n: number) => `${(n / MiB).toFixed(1)} MiB`;

/**
 * Pulls the first of `references` the registry has. `onStatus` gets a line when the pull starts,
 * as downloaded bytes pass each tenth of the total, and when it ends.
 */
export async function pullImage(
  docker: Docker,
  references: string[],
  options: { label: string; env?: NodeJS.ProcessEnv; onStatus?: (line: string) => void; onProgress?: (what: string, done: number, total?: number) => void },
): Promise<string> {
  const failures: string[] = [];
  for (const reference of references) {
    const auth = await dockerAuth(registryHost(reference), options.env);
    options.onStatus?.(`${options.label}: pulling ${reference}${auth ? ` (as ${auth.username ?? 'token'} from the Docker config)` : ''}`);
    try {
      const stream = await docker.pull(reference, auth ? { authconfig: auth } : {});
      const layers = new Map<string, { current: number; total: number }>();
      let shown = 0;
      await followEngineStream(docker, stream, (event: { id?: string; status?: string; error?: string; progressDetail?: { current?: number; total?: number } }) => {
        if (!event.id || !event.progressDetail?.total || event.status !== 'Downloading') return;
        layers.set(event.id, { current: event.progressDetail.current ?? 0, total: event.progressDetail.total });
        let done = 0;
        let total = 0;
        for (const l of layers.values()) (done += l.current), (total += l.total);
        options.onProgress?.('image pull', done, total);
        const tenth = Math.floor((done / total) * 10);
        if (tenth > shown) {
          shown = tenth;
          options.onStatus?.(`${options.label}: pulling ${reference}: ${size(done)} of ${size(total)}`);
        }
      });
      options.onStatus?.(`${options.label}: pulled ${reference}`);
      return reference;
    } catch (error) {
      failures.push(`${reference}: ${(error as Error).message.trim()}`);
    }
  }
  throw new ImagePullError(
    `${options.label}: the image is not in the local Docker engine and could not be pulled (${failures.join('; ')}). ` +
      'Log in to its registry with `docker login HOST`, or load the image, then run again',
  );
}
