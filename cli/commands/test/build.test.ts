// A cube author's folder whose mlcube.yaml declares docker.build_context / build_file: `test run`
// builds its image when the engine lacks it, as `mlcube configure` does, and runs it.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE, buildNodeBaseImage, CUBES_DIR } from '../../demo/images.ts';
import { runCli } from '../../../testing/cli.ts';

const docker = new Docker();
const home = mkdtempSync(join(tmpdir(), 'test-run-build-'));
const tag = `medperf-git-test/built-cnn:${process.pid}`;
const cli = (argv: string[]) => runCli(argv, { env: { ...process.env, MEDPERF_GIT_HOME: join(home, 'state') }, cwd: home });

/** The demo model's folder, with a Dockerfile under build/ and mlcube.yaml pointing at it. */
function authorCube(name: string, docker: string): string {
  const dir = join(home, name);
  cpSync(join(CUBES_DIR, 'chestxray-cnn'), dir, { recursive: true });
  cpSync(join(dir, 'project'), join(dir, 'build', 'project'), { recursive: true });
  writeFileSync(join(dir, 'build', 'cube.Dockerfile'), `FROM ${BASE_IMAGE}\nCOPY project /cube\nENTRYPOINT ["/usr/bin/node", "/cube/main.mjs"]\n`);
  const config = readFileSync(join(dir, 'mlcube.yaml'), 'utf8').replace(/docker:\n  image: .*\n/, `docker:\n  image: ${tag}\n${docker}`);
  writeFileSync(join(dir, 'mlcube.yaml'), config);
  return dir;
}

beforeAll(async () => {
  await buildNodeBaseImage(docker);
  await docker.getImage(tag).remove({ force: true }).catch(() => {});
});
afterAll(async () => {
  await docker.getImage(tag).remove({ force: true }).catch(() => {});
  rmSync(home, { recursive: true, force: true });
});

describe('test run on a cube folder that builds its own image', () => {
  it('builds the missing image from build_context and build_file, runs it, and reuses it after', async () => {
    authorCube('my-model', '  build_context: build\n  build_file: cube.Dockerfile\n');
    const r = await cli(['test', 'run', '-m', './my-model']);
    expect(r.err).toContain(`./my-model: building ${tag} from ${join(home, 'my-model', 'build', 'cube.Dockerfile')}`);
    expect(r.err).toMatch(/\.\/my-model: build Step 2\/3 : COPY project \/cube/);
    expect(r.code).toBe(0);
    const id = (await docker.getImage(tag).inspect()).Id;
    expect(r.err).toContain(`./my-model: built ${tag} (${id})`);
    expect(r.out).toContain('Compatibility test passed.');
    expect(r.out).toContain(`model ./my-model: config `);
    expect(r.out).toContain(`, image ${id}`);
    // Present now: not built again.
    const again = await cli(['test', 'run', '-m', './my-model']);
    expect(again.code).toBe(0);
    expect(again.err).not.toContain(`building ${tag}`);
  });

  it('says which file a failed build came from, quoting its last lines, and runs nothing', async () => {
    await docker.getImage(tag).remove({ force: true }).catch(() => {});
    const dir = authorCube('broken-model', '  build_context: build\n  build_file: cube.Dockerfile\n');
    writeFileSync(join(dir, 'build', 'cube.Dockerfile'), `FROM ${BASE_IMAGE}\nCOPY no-such-folder /cube\n`);
    const r = await cli(['test', 'run', '-m', './broken-model']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error (image-build-failed): ./broken-model: building ${tag} from ${join(dir, 'mlcube.yaml')} failed:`);
    expect(r.err).toContain('no-such-folder');
    expect(r.err).not.toContain('infer: done');
  });

  it('refuses a build context outside the cube folder', async () => {
    const dir = authorCube('escaping-model', '  build_context: ..\n');
    const r = await cli(['test', 'run', '-m', './escaping-model']);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`error (image-build-failed): ${join(dir, 'mlcube.yaml')}: docker.build_context leads to ${home}, outside the cube's folder ${dir}; keep the build inside the cube`);
  });
});
