// Killing the CLI in the middle of a run, then running again: finished tasks are not redone and the
// half-written output of the interrupted task is never used.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { generateDataset } from './demo/dataset.ts';
import { CUBES_DIR } from './demo/images.ts';
import { runCompatibilityTest } from './compatibility.ts';
import { ProcessRunner } from './runners/process.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'compat-test-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('an interrupted compatibility test', () => {
  it('resumes: finished tasks are reused, the interrupted one runs again from scratch', async () => {
    const home = join(tmp, 'home');
    const data = generateDataset(join(tmp, 'hospital'), { count: 20, seed: 5 });
    // A model that, while a flag file exists, writes half its predictions and then waits to be killed.
    const model = join(tmp, 'slow-model');
    cpSync(join(CUBES_DIR, 'chestxray-cnn'), model, { recursive: true });
    const main = join(model, 'project', 'main.mjs');
    const slow = join(tmp, 'slow-infer');
    writeFileSync(slow, '');
    writeFileSync(
      main,
      `if ((await import('node:fs')).existsSync(${JSON.stringify(slow)})) {
  const { mkdirSync, writeFileSync } = await import('node:fs');
  const out = process.argv.find((a) => a.startsWith('--output_path=')).slice(14);
  mkdirSync(out, { recursive: true });
  writeFileSync(out + '/predictions.csv', 'id,cardiomegaly\\nhalf-written');
  console.log('half written');
  const parent = process.ppid;
  await new Promise(() => setInterval(() => { if (process.ppid !== parent) process.exit(1); }, 100));
}
` + readFileSync(main, 'utf8'),
    );
    const argv = ['bin/medperf-git.js', 'test', 'run', '--runner', 'process', '-m', model, '--data-path', data.dataPath, '--labels-path', data.labelsPath];
    const cli = spawn(process.execPath, argv, { cwd: ROOT, env: { ...process.env, MEDPERF_GIT_HOME: home }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    cli.stderr.on('data', (d) => (err += d));
    // Wait for the model's half-written output, then kill the CLI outright.
    const partial = () => {
      const tests = join(home, 'tests');
      if (!existsSync(tests)) return undefined;
      for (const key of readdirSync(tests)) {
        const p = readdirSync(join(tests, key)).find((e) => e.startsWith('predictions.partial-'));
        if (p && existsSync(join(tests, key, p, 'predictions', 'predictions.csv'))) return join(tests, key);
      }
      return undefined;
    };
    let workdir: string | undefined;
    for (let i = 0; i < 600 && !(workdir = partial()); i++) await new Promise((r) => setTimeout(r, 100));
    expect(workdir, err).toBeDefined();
    cli.kill('SIGKILL');
    await new Promise((r) => cli.once('close', r));
    expect(readdirSync(workdir!).sort()).toEqual(expect.arrayContaining(['prepared', 'sanity_check', 'statistics']));
    expect(readdirSync(workdir!)).not.toContain('predictions');

    rmSync(slow);
    const stateDir = home;
    const result = await runCompatibilityTest({
      stateDir,
      runner: new ProcessRunner(stateDir, () => {}),
      dataPreparator: { dir: join(CUBES_DIR, 'chestxray-prep'), label: join(CUBES_DIR, 'chestxray-prep') },
      model: { dir: model, label: model },
      evaluator: { dir: join(CUBES_DIR, 'chestxray-metrics'), label: join(CUBES_DIR, 'chestxray-metrics') },
      dataPath: data.dataPath,
      labelsPath: data.labelsPath,
    });
    expect(result.paths.workdir).toBe(workdir);
    expect(result.reused).toEqual(['prepare', 'sanity_check', 'statistics']);
    expect(result.ran).toEqual(['infer', 'evaluate']);
    expect(readFileSync(join(result.paths.predictions, 'predictions.csv'), 'utf8')).not.toContain('half-written');
    expect(readdirSync(workdir!).filter((e) => e.includes('.partial-'))).toEqual([]);
    expect((result.metrics.AUC as Record<string, number>).mean).toBeGreaterThan(0.8);
  });
});
