#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so `npx medperf-git` works right after `npm ci`.
import { register } from 'tsx/esm/api';

// `medperf-git pr ls | head`: a reader that stops early is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
