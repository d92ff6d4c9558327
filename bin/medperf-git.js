#!/usr/bin/env node
// The CLI, compiled: `npm ci` (the package's `prepare` script) compiles the TypeScript sources into
// build/, and this loads only the entry; the entry loads only the command that runs.
import { existsSync } from 'node:fs';

// `medperf-git pr ls | head`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

const entry = new URL('../build/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('medperf-git is not built: run `npm run build` (`npm ci` does it) in the package folder\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
