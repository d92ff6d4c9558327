// The demo cubes' images, built locally and offline: no registry is reachable, so the base image is
// made with `docker import` from this machine's own `node` binary and the shared libraries `ldd`
// lists, and each cube image adds its project/ folder on top (a two-line Dockerfile FROM that
// base). Prints, or returns, each image's id: the digest a cube record pins.
//
//   npx tsx cli/demo/images.ts
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Docker from 'dockerode';
import { DockerClient } from '../runners/dockerode.ts';
import * as tar from 'tar';
import { packagePath } from '../../registry/package-root.ts';
import { makeReadableByContainers } from '../runners/container-access.ts';

export const BASE_IMAGE = `medperf-git/node-base:${process.versions.node}`;
export const CUBES_DIR = packagePath('examples', 'cubes') + '/';
export const DEMO_CUBES = {
  'bench-committee/chestxray-prep': { dir: 'chestxray-prep', image: 'medperf-git/chestxray-prep:0.1.0' },
  'bench-committee/chestxray-cnn': { dir: 'chestxray-cnn', image: 'medperf-git/chestxray-cnn:0.1.0' },
  'model-owner/chestxray-mobilenet': { dir: 'chestxray-mobilenet', image: 'medperf-git/chestxray-mobilenet:0.1.0' },
  'bench-committee/chestxray-metrics': { dir: 'chestxray-metrics', image: 'medperf-git/chestxray-metrics:0.1.0' },
} as const;

async function followProgress(docker: Docker, stream: NodeJS.ReadableStream): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) =>
    docker.modem.followProgress(stream, (err: Error | null, out: Array<Record<string, unknown>>) => {
      if (err) return reject(err);
      const failed = out.find((o) => o.error);
      if (failed) return reject(new Error(String(failed.error)));
      resolve(out);
    }),
  );
}

async function imageId(docker: Docker, ref: string): Promise<string | undefined> {
  try {
    return (await docker.getImage(ref).inspect()).Id;
  } catch {
    return undefined;
  }
}

// Marks a base image whose files have explicit modes: one built before, under `umask 077`, holds
// files only root can read, and cubes run as an unprivileged user when the CLI runs as root.
const BASE_FORMAT_LABEL = 'org.medperf-git.base-format';
const BASE_FORMAT = 'modes-0755';

/** node and the libraries it links, as a root filesystem imported into Docker (once per node version). */
export async function buildNodeBaseImage(docker = new DockerClient()): Promise<string> {
  const existing = await docker
    .getImage(BASE_IMAGE)
    .inspect()
    .catch(() => undefined);
  if (existing?.Config?.Labels?.[BASE_FORMAT_LABEL] === BASE_FORMAT) return existing.Id;
  const staging = await mkdtemp(join(tmpdir(), 'node-base-'));
  try {
    const node = realpathSync(process.execPath);
    const files = [node];
    for (const line of execFileSync('ldd', [node], { encoding: 'utf8' }).split('\n')) {
      const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
      if (m) files.push(m[1]!);
    }
    for (const file of files) {
      const target = join(staging, file === node ? '/usr/bin/node' : file);
      mkdirSync(dirname(target), { recursive: true });
      copyFileSync(realpathSync(file), target);
    }
    mkdirSync(join(staging, 'tmp'), { recursive: true });
    mkdirSync(join(staging, 'etc'), { recursive: true });
    writeFileSync(join(staging, 'etc/passwd'), 'root:x:0:0:root:/root:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
    writeFileSync(join(staging, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
    await makeReadableByContainers(staging);
    const stream = tar.c({ cwd: staging, portable: true }, ['.']);
    const [repo, tag] = BASE_IMAGE.split(':');
    const out = await docker.importImage(stream as unknown as NodeJS.ReadableStream, { repo, tag, changes: [`LABEL ${BASE_FORMAT_LABEL}=${BASE_FORMAT}`] });
    await followProgress(docker, out);
    return (await imageId(docker, BASE_IMAGE))!;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** A cube's image: the node base plus the cube's project/ folder, run as `node /cube/main.mjs`. */
export async function buildCubeImage(cubeDir: string, image: string, docker = new DockerClient()): Promise<string> {
  await buildNodeBaseImage(docker);
  const staging = await mkdtemp(join(tmpdir(), 'cube-image-'));
  try {
    execFileSync('cp', ['-r', join(cubeDir, 'project'), join(staging, 'project')]);
    await makeReadableByContainers(staging);
    writeFileSync(join(staging, 'Dockerfile'), `FROM ${BASE_IMAGE}\nLABEL org.medperf-git.image="${image}"\nCOPY project /cube\nENTRYPOINT ["/usr/bin/node", "/cube/main.mjs"]\n`);
    const context = tar.c({ cwd: staging, portable: true, mtime: new Date(0) }, ['Dockerfile', 'project']);
    const out = await docker.buildImage(context as unknown as NodeJS.ReadableStream, { t: image, rm: true, forcerm: true });
    await followProgress(docker, out);
    return (await imageId(docker, image))!;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Builds the four demo cube images; returns each cube id's image id. */
export async function buildDemoImages(docker = new DockerClient()): Promise<Record<keyof typeof DEMO_CUBES, string>> {
  const ids = {} as Record<keyof typeof DEMO_CUBES, string>;
  for (const [id, cube] of Object.entries(DEMO_CUBES) as Array<[keyof typeof DEMO_CUBES, (typeof DEMO_CUBES)[keyof typeof DEMO_CUBES]]>) {
    ids[id] = await buildCubeImage(join(CUBES_DIR, cube.dir), cube.image, docker);
  }
  return ids;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const [cube, id] of Object.entries(await buildDemoImages())) console.log(`${cube}: ${DEMO_CUBES[cube as keyof typeof DEMO_CUBES].image} ${id}`);
}
