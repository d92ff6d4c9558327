import { defineConfig } from 'vitest/config';
import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with one plain line, `N passed, N failed, N skipped`, that any tool can read. */
const totals: Reporter = {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') count.failed++;
        else count.skipped++;
      }
    }
    process.stdout.write(`\n${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`);
  },
};

export default defineConfig({
  test: {
    include: ['{registry,cli,action,examples,bench,testing}/**/*.test.ts'],
    // Docker, git and Chromium tests share one engine and two cores.
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Stopping a Docker engine the run started takes a few seconds.
    teardownTimeout: 30_000,
    // clipanion's ESM build imports a folder, which Node's resolver refuses; Vite resolves it.
    server: { deps: { inline: ['clipanion'] } },
    reporters: ['default', totals],
    globalSetup: ['./testing/docker-engine.ts', './testing/slurm-cluster.ts'],
  },
});
