// The default runner: Docker through dockerode, hardened for untrusted models on sensitive data.
// No network, a non-root user, inputs read-only, outputs created beforehand, every capability
// dropped, no-new-privileges, pids and memory limits, a private /tmp, a read-only root, a timeout
// that kills and removes the container. Nothing from the cube reaches the engine but its command,
// entrypoint, environment, shm size and GPU request (MedPerf's allow-list).
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, chown, lstat, mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import type Docker from 'dockerode';
import { DockerClient } from './dockerode.ts';
import { HashMismatchError, MedperfError } from '../../registry/errors.ts';
import { outputDirs, type TaskPlan } from '../cube/plan.ts';
import { fetchAsset } from '../fetch.ts';
import { ContainerCannotReadError, firstUnreadable, makeReadableByContainers } from './container-access.ts';
import { processAlive } from '../state.ts';
import { buildCubeImage } from './docker-build.ts';
import { pullImage, pullReferences } from './docker-pull.ts';
import {
  closeLog,
  DEFAULT_LIMITS,
  finishTask,
  openLog,
  parseBytes,
  type CubeImage,
  type PrepareImageOptions,
  type RunRequest,
  type RunResult,
  type Runner,
  statusTicker,
} from './runner.ts';

/** Names the process that started a container (`host/pid`), so a later run removes what a killed one left. */
export const RUN_LABEL = 'org.medperf-git.run';

export function runOwner(pid = process.pid): string {
  return `${hostname()}/${pid}`;
}

/**
 * Removes the containers of runs that no longer exist: a CLI killed with SIGKILL cannot remove its
 * own. Only this host's containers are judged (a pid means nothing on another host). Returns their names.
 */
export async function removeOrphanContainers(docker: Docker): Promise<string[]> {
  const containers = await docker.listContainers({ all: true, filters: { label: [RUN_LABEL] } });
  const removed: string[] = [];
  for (const c of containers) {
    const [host, pid] = (c.Labels[RUN_LABEL] ?? '').split('/');
    if (host !== hostname() || !/^\d+$/.test(pid ?? '') || processAlive(Number(pid))) continue;
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
    removed.push(c.Names[0]?.replace(/^\//, '') ?? c.Id);
  }
  return removed;
}

/** The uid:gid containers run as when the CLI runs as root: nobody, never root. */
export const UNPRIVILEGED_USER = { uid: 65534, gid: 65534 };

export class ImageMissingError extends MedperfError {
  constructor(image: string) {
    super('image-missing', `the image ${image} is not in the local Docker engine; load it (medperf-git verifies and loads image tarballs) or pull it by digest`);
  }
}

export class DockerUnavailableError extends MedperfError {
  constructor(reason: string) {
    super('docker-unavailable', `cannot reach the Docker engine (${reason}); start Docker, or run cubes that declare a process entrypoint with --runner process`);
  }
}

/** Loads an image tarball into the engine, after its sha256 matched; the loaded id must be the pinned one. */
export async function loadImageTarball(docker: Docker, file: string, expectedId: string, what: string): Promise<void> {
  const stream = await docker.loadImage(createReadStream(file), { quiet: true });
  const output = await new Promise<string>((resolve, reject) => {
    let text = '';
    stream.on('data', (d: Buffer) => (text += d.toString()));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
  const ids = [...output.matchAll(/Loaded image ID: (sha256:[0-9a-f]{64})/g)].map((m) => m[1]!);
  const names = [...output.matchAll(/Loaded image: ([^\\"\s]+)/g)].map((m) => m[1]!);
  for (const name of names) ids.push((await docker.getImage(name).inspect()).Id);
  if (!ids.includes(expectedId)) throw new HashMismatchError(what, expectedId, ids.join(', ') || 'no image in the tarball');
}


/** GPUs as Docker's device requests (`--gpus`), MedPerf's accepted forms: all, a count, device=ids. */
export function deviceRequests(gpus: string | number | undefined): Docker.DeviceRequest[] | undefined {
  if (gpus === undefined || gpus === '' || gpus === 0 || gpus === '0') return undefined;
  const capabilities = [['gpu']];
  if (gpus === 'all') return [{ Driver: '', Count: -1, Capabilities: capabilities }];
  if (typeof gpus === 'number' || /^\d+$/.test(gpus)) return [{ Driver: '', Count: Number(gpus), Capabilities: capabilities }];
  if (gpus.startsWith('device=') && gpus.length > 7) return [{ Driver: '', DeviceIDs: gpus.slice(7).split(','), Capabilities: capabilities }];
  throw new MedperfError('invalid-gpus', `--gpus ${gpus}: say all, a number, or device=0,1`);
}

export interface DockerUser {
  uid: number;
  gid: number;
  /** The user the outputs belong to afterwards (the invoking user), when different. */
  owner?: { uid: number; gid: number };
}

/** The invoking user's uid:gid, or nobody when the CLI runs as root (outputs handed back after). */
export function containerUser(): DockerUser {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  if (uid !== 0) return { uid, gid };
  return { ...UNPRIVILEGED_USER, owner: { uid, gid } };
}

/** The container definition for a plan: everything that decides isolation is here, in one place. */
export function containerSpec(plan: TaskPlan, request: RunRequest, user: DockerUser, name: string, labels: Record<string, string> = {}): Docker.ContainerCreateOptions {
  const limits = { ...DEFAULT_LIMITS, ...request.limits };
  return {
    name,
    Image: plan.image,
    ...(plan.entrypoint ? { Entrypoint: plan.entrypoint } : {}),
    Cmd: plan.command,
    User: `${user.uid}:${user.gid}`,
    Env: [...Object.entries(plan.environment).map(([k, v]) => `${k}=${v}`), 'HOME=/tmp'],
    Labels: { ...labels, 'org.medperf-git.cube': request.label, 'org.medperf-git.task': plan.task, [RUN_LABEL]: runOwner() },
    NetworkDisabled: true,
    AttachStdout: false,
    AttachStderr: false,
    Tty: false,
    HostConfig: {
      Binds: plan.mounts.map((m) => `${m.host}:${m.target}:${m.readOnly ? 'ro' : 'rw'}`),
      NetworkMode: 'none',
      CapDrop: ['ALL'],
      SecurityOpt: ['no-new-privileges'],
      PidsLimit: limits.pids,
      Memory: limits.memoryBytes,
      ...(limits.cpus ? { NanoCpus: Math.round(limits.cpus * 1e9) } : {}),
      MemorySwap: limits.memoryBytes,
      ReadonlyRootfs: true,
      Tmpfs: { '/tmp': 'rw,nosuid,nodev,size=1g' },
      Privileged: false,
      IpcMode: 'private',
      ...(plan.shmSize !== undefined ? { ShmSize: parseBytes(plan.shmSize, 'shm_size') } : {}),
      ...(deviceRequests(request.limits?.gpus ?? plan.gpus) ? { DeviceRequests: deviceRequests(request.limits?.gpus ?? plan.gpus) } : {}),
    },
  };
}

async function chownTree(path: string, uid: number, gid: number): Promise<void> {
  const s = await lstat(path).catch(() => undefined);
  if (!s || s.isSymbolicLink()) return;
  await chown(path, uid, gid);
  if (s.isDirectory()) for (const e of await readdir(path)) await chownTree(join(path, e), uid, gid);
}

/**
 * Outputs exist before the run, owned by the container's user: an engine would create them as root.
 * Returns what was created, for handOutputsBack.
 */
export async function createOutputs(plan: TaskPlan, user: DockerUser): Promise<string[]> {
  const created: string[] = [];
  for (const dir of outputDirs(plan)) {
    await mkdir(dir, { recursive: true });
    await chmod(dir, 0o755);
    created.push(dir);
  }
  for (const p of plan.parameters) {
    // A file mounted by itself (container configs) must exist, or the engine makes a folder of it.
    const mount = plan.mounts.find((m) => m.host === p.host);
    if (p.io === 'output' && p.kind === 'file' && mount) {
      await mkdir(dirname(p.host), { recursive: true });
      await writeFile(p.host, '', { flag: 'a' });
      created.push(p.host);
    }
  }
  if (user.owner) for (const path of created) await chownTree(path, user.uid, user.gid);
  return created;
}

/**
 * Outputs go back to the invoking user after the run (MedPerf's issue #414: root-owned outputs),
 * readable by the next task's container whatever modes the cube or the umask gave them.
 */
export async function handOutputsBack(created: string[], user: DockerUser): Promise<void> {
  if (!user.owner) return;
  for (const path of created) {
    await chownTree(path, user.owner.uid, user.owner.gid).catch(() => {});
    await makeReadableByContainers(path).catch(() => {});
  }
}

export class DockerRunner implements Runner {
  readonly name = 'docker' as const;
  readonly docker: Docker;

  /** Images this runner built from a cube folder, by tag: built once per run. */
  private readonly built = new Map<string, Promise<string>>();

  /** Done once per runner: the containers killed runs left behind. */
  private orphansRemoved?: Promise<unknown>;

  constructor(
    readonly stateDir: string,
    docker?: Docker,
    /** Labels every container gets besides the cube's, task's and run's (a cluster job's id). */
    readonly labels: Record<string, string> = {},
  ) {
    this.docker = docker ?? new DockerClient();
  }

  /** The image's id, checked against the pin: the local image id, or one of its registry digests. */
  async checkImage(image: string, expected?: string): Promise<string> {
    let info: Docker.ImageInspectInfo;
    try {
      info = await this.docker.getImage(image).inspect();
    } catch (error) {
      const status = (error as { statusCode?: number }).statusCode;
      if (status === 404) throw new ImageMissingError(image);
      throw new DockerUnavailableError((error as Error).message);
    }
    if (expected) {
      const digests = (info.RepoDigests ?? []).map((d) => d.slice(d.indexOf('@') + 1));
      if (info.Id !== expected && !digests.includes(expected)) throw new HashMismatchError(`image ${image}`, expected, info.Id);
    }
    return info.Id;
  }

  /**
   * A cube published as an image tarball is loaded unless the engine has the pinned id already (the
   * tarball fetched and checked against its sha256 first); then the image is checked against its pin.
   */
  async prepareImage(cube: CubeImage, options: PrepareImageOptions = {}): Promise<string | undefined> {
    if (!cube.image) return undefined;
    if (cube.tarball && cube.digest) {
      const present = await this.docker
        .getImage(cube.digest)
        .inspect()
        .then((i) => i.Id === cube.digest)
        .catch(() => false);
      if (!present) {
        options.onStatus?.(`${cube.label}: loading its image tarball`);
        const what = `${cube.label}'s image tarball`;
        const file = await fetchAsset(cube.tarball, { stateDir: this.stateDir, what, onProgress: (done, total) => options.onProgress?.('image tarball', done, total) });
        await loadImageTarball(this.docker, file, cube.digest, what);
      }
    }
    const present = await this.docker
      .getImage(cube.image)
      .inspect()
      .then(() => true)
      .catch((error: { statusCode?: number }) => (error.statusCode === 404 ? false : true));
    // A cube folder with its own Dockerfile builds its image when it is missing (always, once per
    // run, with build_strategy: always), as `mlcube configure` does.
    if (cube.build && (!present || (cube.build.strategy === 'always' && !this.built.has(cube.image)))) {
      const build = cube.build;
      const image = cube.image;
      if (!this.built.has(image)) this.built.set(image, buildCubeImage(this.docker, image, build, { label: cube.label, onStatus: options.onStatus }));
      return this.checkImage(await this.built.get(image)!, cube.digest);
    }
    if (present) return this.checkImage(cube.image, cube.digest);
    // Missing: pulled (by digest when pinned), then checked against the pin before anything runs.
    const pulled = await pullImage(this.docker, pullReferences(cube.image, cube.digest, cube.reference), { label: cube.label, onStatus: options.onStatus, onProgress: options.onProgress });
    return this.checkImage(pulled, cube.digest);
  }

  async run(request: RunRequest): Promise<RunResult> {
    const { plan } = request;
    if (!plan.image) throw new MedperfError('no-image', `${request.label}: the cube names no Docker image`);
    // Run the image by its id once checked, so a re-tag in between cannot swap what runs.
    const imageId = await this.checkImage(plan.image, request.imageDigest);
    const user = containerUser();
    // As root, the container's user is another one: what it must read is checked before anything runs.
    if (user.owner) {
      const inputs = plan.parameters
        .filter((p) => p.io === 'input')
        .map((p) => (plan.mounts.some((m) => m.host === p.host) ? { mount: p.host } : { mount: dirname(p.host), file: basename(p.host) }));
      const unreadable = await firstUnreadable(inputs, user);
      if (unreadable) throw new ContainerCannotReadError(request.label, plan.task, unreadable, user, inputs.some((i) => i.file && i.mount === unreadable));
    }
    const created = await createOutputs(plan, user);

    const { path: logFile, stream: log } = await openLog(this.stateDir, request.label, plan.task, request.logFile);
    // Unique even for two tasks of one process started in the same millisecond (run --jobs 2).
    const name = `medperf-git-${plan.task}-${process.pid}-${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
    const spec = containerSpec({ ...plan, image: imageId }, request, user, name, this.labels);
    this.orphansRemoved ??= removeOrphanContainers(this.docker).catch(() => []);
    await this.orphansRemoved;
    const started = Date.now();
    const stopTicker = statusTicker(plan.task, request.onStatus);
    let container: Docker.Container | undefined;
    let timedOut = false;
    // Interrupted (Ctrl-C, a kill by a scheduler): the container goes too, then the signal goes on.
    let interrupted: NodeJS.Signals | undefined;
    const reraise = () => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      process.kill(process.pid, interrupted);
    };
    const onSignal = (signal: NodeJS.Signals) => {
      interrupted = signal;
      // Before the container exists, the run removes it as soon as it does (below).
      if (container) container.remove({ force: true }).then(reraise, reraise);
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      container = await this.docker.createContainer(spec);
      if (interrupted) {
        await container.remove({ force: true }).catch(() => {});
        reraise();
        await new Promise(() => {});
      }
      const stream = await container.attach({ stream: true, stdout: true, stderr: true });
      const out = new PassThrough();
      this.docker.modem.demuxStream(stream, out, out);
      out.pipe(log, { end: false });
      await container.start();
      const timeoutMs = request.limits?.timeoutMs ?? DEFAULT_LIMITS.timeoutMs;
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        container.wait() as Promise<{ StatusCode: number }>,
        new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs))),
      ]);
      clearTimeout(timer);
      if (waited === 'timeout') {
        timedOut = true;
        await container.kill().catch(() => {});
      }
      // Let the last output reach the log.
      await new Promise((r) => setTimeout(r, 50));
      out.unpipe(log);
      (stream as unknown as { destroy?: () => void }).destroy?.();
      const exitCode = waited === 'timeout' ? -1 : waited.StatusCode;
      return await finishTask(request, log, logFile, { exitCode, timedOut, timeoutMs, started });
    } finally {
      // Once interrupted, nothing more happens here: the handler removes the container and re-raises.
      if (interrupted) await new Promise(() => {});
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      stopTicker();
      if (!log.closed) await closeLog(log);
      if (container) await container.remove({ force: true }).catch(() => {});
      await handOutputsBack(created, user);
    }
  }
}
