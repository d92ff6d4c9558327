#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so `npx medperf-git` works right after `npm ci`.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
