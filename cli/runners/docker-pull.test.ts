import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildCubeImage, CUBES_DIR } from '../demo/images.ts';
import { HashMismatchError } from '../../registry/errors.ts';
import { DockerRunner } from './docker.ts';
import { dockerAuth, pullReferences, registryHost, repositoryOf } from './docker-pull.ts';

describe('image references and credentials', () => {
  it('finds the registry and repository of a reference', () => {
    expect(registryHost('mlcommons/chestxray-tutorial-cnn:0.0.1')).toBe('docker.io');
    expect(registryHost('ubuntu')).toBe('docker.io');
    expect(registryHost('ghcr.io/org/cube:1')).toBe('ghcr.io');
    expect(registryHost('127.0.0.1:5000/team/cube@sha256:' + 'a'.repeat(64))).toBe('127.0.0.1:5000');
    expect(registryHost('localhost/team/cube')).toBe('localhost');
    expect(repositoryOf('127.0.0.1:5000/team/cube:1')).toBe('127.0.0.1:5000/team/cube');
    expect(repositoryOf('127.0.0.1:5000/team/cube')).toBe('127.0.0.1:5000/team/cube');
    expect(repositoryOf('team/cube@sha256:' + 'a'.repeat(64))).toBe('team/cube');
  });

  it('pulls by the pinned reference, then by digest, then by the name as given', () => {
    const pin = 'sha256:' + 'b'.repeat(64);
    expect(pullReferences('org/cube:1', pin, `docker.io/org/cube@${pin}`)).toEqual([`docker.io/org/cube@${pin}`, `org/cube@${pin}`, 'org/cube:1']);
    expect(pullReferences('org/cube:1')).toEqual(['org/cube:1']);
  });

  it("reads the user's Docker config, as docker login writes it", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'medperf-git-docker-config-'));
    try {
      writeFileSync(
        join(dir, 'config.json'),
        JSON.stringify({
          auths: {
            'https://index.docker.io/v1/': { auth: Buffer.from('hub-user:hub:secret').toString('base64') },
            'registry.hospital.example:5000': { auth: Buffer.from('alice:pw').toString('base64') },
            'ghcr.io': { identitytoken: 'tok' },
          },
        }),
      );
      const env = { DOCKER_CONFIG: dir };
      expect(await dockerAuth('docker.io', env)).toEqual({ username: 'hub-user', password: 'hub:secret', serveraddress: 'https://index.docker.io/v1/' });
      expect(await dockerAuth('registry.hospital.example:5000', env)).toEqual({ username: 'alice', password: 'pw', serveraddress: 'registry.hospital.example:5000' });
      expect(await dockerAuth('ghcr.io', env)).toEqual({ identitytoken: 'tok', serveraddress: 'ghcr.io' });
      expect(await dockerAuth('quay.io', env)).toBeUndefined();
      writeFileSync(join(dir, 'config.json'), '{not json');
      expect(await dockerAuth('docker.io', env)).toBeUndefined();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

// A real registry on loopback: Debian's docker-registry, from a config this test writes.
describe('a cube whose image is only in a registry', () => {
  const docker = new Docker();
  const tmp = mkdtempSync(join(tmpdir(), 'medperf-git-registry-'));
  let registry: ChildProcess | undefined;
  let repo = '';
  let digest = '';
  let imageId = '';

  beforeAll(async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    writeFileSync(
      join(tmp, 'config.yml'),
      `version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: ${join(tmp, 'data')}\nhttp:\n  addr: 127.0.0.1:${port}\n`,
    );
    registry = spawn('docker-registry', ['serve', join(tmp, 'config.yml')], { stdio: 'ignore' });
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      up = await fetch(`http://127.0.0.1:${port}/v2/`).then((r) => r.ok, () => false);
      if (!up) await new Promise((r) => setTimeout(r, 100));
    }
    if (!up) throw new Error('docker-registry did not start');
    // A cube image built here from the node base already on the engine, pushed, then removed.
    repo = `127.0.0.1:${port}/medperf-git-test/chestxray-cnn`;
    imageId = await buildCubeImage(join(CUBES_DIR, 'chestxray-cnn'), `${repo}:1`, docker);
    const pushed = await docker.getImage(`${repo}:1`).push({ tag: '1' });
    const events = await new Promise<Array<{ aux?: { Digest?: string }; error?: string }>>((ok, fail) => docker.modem.followProgress(pushed, (e: Error | null, out: Array<{ aux?: { Digest?: string }; error?: string }>) => (e ? fail(e) : ok(out))));
    if (events.some((e) => e.error)) throw new Error(events.find((e) => e.error)!.error);
    digest = events.find((e) => e.aux?.Digest)!.aux!.Digest!;
    await docker.getImage(`${repo}:1`).remove({ force: true });
  }, 120_000);

  afterAll(async () => {
    for (const ref of [`${repo}:1`, `${repo}@${digest}`]) await docker.getImage(ref).remove({ force: true }).catch(() => undefined);
    registry?.kill();
    if (registry && registry.exitCode === null) await new Promise((r) => registry!.once('exit', r));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('is pulled by digest, with a progress line, and checked against the pin', async () => {
    const lines: string[] = [];
    const runner = new DockerRunner(join(tmp, 'state'));
    const id = await runner.prepareImage({ label: 'bench-committee/chestxray-cnn', image: `${repo}:1`, digest }, { onStatus: (l) => lines.push(l) });
    expect(id).toBe(imageId);
    expect(lines[0]).toBe(`bench-committee/chestxray-cnn: pulling ${repo}@${digest}`);
    expect(lines.at(-1)).toBe(`bench-committee/chestxray-cnn: pulled ${repo}@${digest}`);
    const info = await docker.getImage(id!).inspect();
    expect(info.RepoDigests).toContain(`${repo}@${digest}`);
    // Present now: the next run pulls nothing.
    const again: string[] = [];
    expect(await runner.prepareImage({ label: 'bench-committee/chestxray-cnn', image: `${repo}@${digest}`, digest }, { onStatus: (l) => again.push(l) })).toBe(imageId);
    expect(again).toEqual([]);
    await docker.getImage(id!).remove({ force: true });
  });

  it('stops before anything runs when what the registry serves is not the pinned image', async () => {
    const pin = `sha256:${'0'.repeat(64)}`;
    const lines: string[] = [];
    const error = await new DockerRunner(join(tmp, 'state'))
      .prepareImage({ label: 'model-owner/tampered', image: `${repo}:1`, digest: pin }, { onStatus: (l) => lines.push(l) })
      .catch((e) => e);
    // The pinned digest is not in the registry; the tag is, and it is another image.
    expect(lines).toContain(`model-owner/tampered: pulling ${repo}@${pin}`);
    expect(lines).toContain(`model-owner/tampered: pulled ${repo}:1`);
    expect(error).toBeInstanceOf(HashMismatchError);
    expect(error.message).toBe(`image ${repo}:1: expected sha256 ${pin}, got ${imageId}; nothing was run`);
  });

  it('says how to log in when the registry has no such image', async () => {
    const error = await new DockerRunner(join(tmp, 'state')).prepareImage({ label: 'x/y', image: `${repo}-missing:1` }).catch((e) => e);
    expect(error.code).toBe('image-pull');
    expect(error.message).toContain('could not be pulled');
    expect(error.message).toContain('docker login');
  });
});
