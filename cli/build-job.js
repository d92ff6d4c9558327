// Bundles cli/job.ts, what a cluster job runs on its node, into build/job/: job.js and a chunk for
// each chain (a job loads only its own), instead of some fifty modules to resolve and read at every
// job's start. dockerode is loaded at run time from node_modules (cli/runners/dockerode.ts); Node's
// own modules stay outside. The chunks sit one folder below the package, as the compiled modules do,
// so that they find the package's files (registry/package-root.ts). Part of `npm run build`.
import { rmSync } from 'node:fs';
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Chunk names change with their content: the previous build's go first.
rmSync(`${root}build/job`, { recursive: true, force: true });
await build({
  entryPoints: [`${root}cli/job.ts`],
  outdir: `${root}build/job`,
  bundle: true,
  splitting: true,
  external: ['dockerode'],
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The CommonJS packages in the bundle require Node's modules, and some name their own file.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      "const __dirname = __fileURLToPath(new URL('.', import.meta.url));",
    ].join(' '),
  },
  logLevel: 'warning',
});
