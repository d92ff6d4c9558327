import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_BENCHMARK, writeDemoRegistry } from '../../../examples/demo-registry.ts';
import { runCli } from '../../../testing/cli.ts';

const home = mkdtempSync(join(tmpdir(), 'test-run-cmd-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

const cli = (argv: string[]) => runCli(argv, { env: { ...process.env, MEDPERF_GIT_HOME: home }, cwd: process.cwd() });

describe('medperf-git test run', () => {
  it('runs the demo benchmark in Docker and prints metrics, hashes and where everything is', async () => {
    const r = await cli(['test', 'run']);
    expect(r.err).toContain('evaluate: done');
    expect(r.code).toBe(0);
    expect(r.out).toContain('Compatibility test passed.');
    expect(r.out).toMatch(/AUC\.mean\s+0\.\d+/);
    expect(r.out).toMatch(/prepared data \(generated_uid\):\s+[0-9a-f]{64}/);
    expect(r.out).toMatch(/model bench-committee\/chestxray-cnn: config [0-9a-f]{64}, image sha256:[0-9a-f]{64}/);
    expect(r.out).toContain(`results:        ${home}/tests/`);
    const again = await cli(['test', 'run']);
    expect(again.out).toContain('reused from an earlier run: prepare, sanity_check, statistics, infer, evaluate (--no-cache to rerun)');
  });

  it('runs under the process runner only when asked, saying loudly that nothing is isolated', async () => {
    const r = await cli(['test', 'run', '--runner', 'process', '--json']);
    expect(r.code).toBe(0);
    expect(r.err).toContain('WARNING: the process runner runs the cube directly on this machine with NO isolation');
    const result = JSON.parse(r.out);
    expect(result.metrics.AUC.mean).toBeGreaterThan(0.8);
  });

  it("with -b, runs a registered benchmark's cubes and demo dataset from the local forge", async () => {
    // A local forge whose main holds the demo registry, as after the tutorial's merges.
    const forge = join(home, 'forge');
    const work = join(home, 'forge-work');
    await writeDemoRegistry(work, home);
    const git = (...args: string[]) => execFileSync('git', args, { cwd: work, stdio: 'pipe' });
    execFileSync('git', ['init', '--quiet', '--bare', '--initial-branch=main', join(forge, 'registry.git')]);
    git('init', '--quiet', '--initial-branch=main');
    git('add', '.');
    git('-c', 'user.name=admin', '-c', 'user.email=admin@example.org', 'commit', '--quiet', '-m', 'demo registry');
    git('push', '--quiet', join(forge, 'registry.git'), 'main');
    const r = await cli(['test', 'run', '-b', DEMO_BENCHMARK, '--registry', forge, '--as', 'model-owner']);
    expect(r.err).toContain('evaluate: ');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/model bench-committee\/chestxray-cnn: config [0-9a-f]{64}, image sha256:/);
    expect(r.err).not.toContain('warning');
    const missing = await cli(['test', 'run', '-b', 'nope', '--registry', forge, '--as', 'model-owner']);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe('error (not-found): no benchmark nope in the registry (benchmarks/nope/benchmark.yaml)\n');
  });

  it('refuses bad arguments with a usage error', async () => {
    const r = await cli(['test', 'run', '--data-path', 'x']);
    expect(r.code).toBe(1);
    expect(r.out + r.err).toContain('--data-path and --labels-path go together');
  });
});
