// Per-execution overhead of medperf-git's runner: ten executions of one task of a trivial cube
// through the Docker runner (assets fetched from the warm cache and their hashes checked, image
// id checked, container hardened, logs written, container removed) against ten `docker run`
// invocations with the same isolation flags, made directly. Interleaved, in the same run.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { buildCubeImage } from '../cli/demo/images.ts';
import { loadCube } from '../cli/cube/config.ts';
import { materializeCube } from '../cli/cube/materialize.ts';
import { dockerRunArgv, planTask } from '../cli/cube/plan.ts';
import { containerUser, DockerRunner } from '../cli/runners/docker.ts';

const RUNS = 10;

export async function main(): Promise<void> {
  const root = join(fileURLToPath(new URL('.', import.meta.url)), '.cache', 'run');
  rmSync(root, { recursive: true, force: true });
  const cubeDir = join(root, 'trivial-cube');
  mkdirSync(join(cubeDir, 'project'), { recursive: true });
  mkdirSync(join(cubeDir, 'workspace'), { recursive: true });
  writeFileSync(
    join(cubeDir, 'mlcube.yaml'),
    'name: trivial\ndocker:\n  image: medperf-git-bench/trivial:1\ntasks:\n  infer:\n    parameters:\n      inputs: { parameters_file: parameters.yaml }\n      outputs: { output_path: { type: directory, default: out } }\n',
  );
  writeFileSync(join(cubeDir, 'workspace', 'parameters.yaml'), 'x: 1\n');
  writeFileSync(
    join(cubeDir, 'project', 'main.mjs'),
    "import { writeFileSync } from 'node:fs';\nconst out = process.argv.find((a) => a.startsWith('--output_path=')).slice(14);\nwriteFileSync(out + '/done', 'ok');\n",
  );
  const imageId = await buildCubeImage(cubeDir, 'medperf-git-bench/trivial:1');
  const asset = (path: string) => ({ url: pathToFileURL(path).href, sha256: createHash('sha256').update(readFileSync(path)).digest('hex') });
  const record = {
    name: 'trivial',
    kind: 'model' as const,
    mlcube: asset(join(cubeDir, 'mlcube.yaml')),
    parameters: asset(join(cubeDir, 'workspace', 'parameters.yaml')),
    image: { digest: imageId },
    state: 'development' as const,
  };
  const stateDir = join(root, 'state');
  const runner = new DockerRunner(stateDir);
  // Warm the cache once; every measured execution still checks every hash.
  await materializeCube('bench/trivial', record, { stateDir });

  const ours = async (i: number) => {
    const cube = await materializeCube('bench/trivial', record, { stateDir });
    const plan = planTask(loadCube(cube.dir), 'infer', { bindings: { output_path: join(root, 'ours', String(i)) } });
    await runner.run({ plan, label: 'bench/trivial', imageDigest: cube.imageDigest });
  };
  const user = containerUser();
  const direct = (i: number) => {
    const out = join(root, 'direct', String(i));
    mkdirSync(out, { recursive: true });
    spawnSync('chown', [`${user.uid}:${user.gid}`, out]);
    const plan = planTask(loadCube(cubeDir), 'infer', { bindings: { output_path: out } });
    const argv = dockerRunArgv({ ...plan, image: imageId }, `${user.uid}:${user.gid}`);
    const flags = ['--cap-drop=ALL', '--security-opt=no-new-privileges', '--pids-limit=256', '--memory=4g', '--memory-swap=4g', '--read-only', '--tmpfs=/tmp:rw,nosuid,nodev,size=1g', '--env=HOME=/tmp'];
    const run = spawnSync(argv[0]!, [...argv.slice(1, 5), ...flags, ...argv.slice(5)], { stdio: 'ignore' });
    if (run.status !== 0) throw new Error(`docker run failed with ${run.status}`);
  };
  // One of each first, unmeasured, so neither side pays for a cold start.
  await ours(-1);
  direct(-1);
  let oursTotal = 0;
  let directTotal = 0;
  for (let i = 0; i < RUNS; i++) {
    let t = process.hrtime.bigint();
    await ours(i);
    oursTotal += Number(process.hrtime.bigint() - t) / 1e6;
    t = process.hrtime.bigint();
    direct(i);
    directTotal += Number(process.hrtime.bigint() - t) / 1e6;
  }
  console.log(`run: ${RUNS} executions; medperf-git ${(oursTotal / RUNS).toFixed(0)} ms each, docker run ${(directTotal / RUNS).toFixed(0)} ms each`);
  console.log(`BENCH run-overhead ratio=${(oursTotal / directTotal).toFixed(2)} target<=1.2`);
}
