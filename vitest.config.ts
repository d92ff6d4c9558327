import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['{registry,cli,action,examples,bench}/**/*.test.ts'],
    // Docker, git and Chromium tests share one engine and two cores.
    fileParallelism: true,
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // clipanion's ESM build imports a folder, which Node's resolver refuses; Vite resolves it.
    server: { deps: { inline: ['clipanion'] } },
  },
});
