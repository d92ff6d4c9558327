// Bundles the Action into action/dist/index.js, the file action.yml runs. The files the registry
// core reads beside its sources (the JSON schemas, package.json for the version) are embedded, so
// the bundle runs from any checkout of the Action. `npm run build:action`; CI checks the committed
// bundle is what this builds.
import { build } from 'esbuild';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// ACTION_DIST: build elsewhere, for the test that compares a fresh build with the committed one.
const out = process.env.ACTION_DIST ?? `${root}action/dist/`;

// Only the version: the rest of package.json (dependencies, scripts) is not the Action's business,
// and embedding it would make every dependency change a change of the bundle.
const { name, version } = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
const embedded = { 'package.json': JSON.stringify({ name, version }) };
for (const f of readdirSync(`${root}schemas`).filter((f) => f.endsWith('.schema.json')).sort()) {
  embedded[f] = readFileSync(`${root}schemas/${f}`, 'utf8');
}

/** node:fs for the modules that read those files: served from the bundle, by file name. */
const embeddedFs = {
  name: 'embedded-fs',
  setup(b) {
    b.onResolve({ filter: /^(node:)?fs$/ }, (args) =>
      /registry[\\/]schema-files\.ts$|cli[\\/]version\.ts$/.test(args.importer) ? { path: 'embedded-fs', namespace: 'embedded' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'embedded' }, () => ({
      loader: 'js',
      contents: `
const files = ${JSON.stringify(embedded)};
const name = (p) => String(p instanceof URL ? p.pathname : p).split(/[\\\\/]/).pop();
export function readdirSync() { return Object.keys(files).filter((f) => f.endsWith('.schema.json')); }
export function readFileSync(p) {
  const f = files[name(p)];
  if (f === undefined) throw Object.assign(new Error('not in the bundle: ' + p), { code: 'ENOENT' });
  return f;
}
export function existsSync(p) { return name(p) in files; }
export default { readdirSync, readFileSync, existsSync };
`,
    }));
  },
};

mkdirSync(out, { recursive: true });
await build({
  // Paths in the bundle's comments and module keys are relative to the repository, wherever this runs.
  absWorkingDir: root,
  entryPoints: [`${root}action/main.ts`],
  outfile: `${out}index.js`,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // CommonJS dependencies call require() for Node's own modules, and some name their own file.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      "const __dirname = __filename.replace(/[\\\\/][^\\\\/]*$/, '');",
    ].join(' '),
  },
  plugins: [embeddedFs],
  legalComments: 'none',
  logLevel: 'warning',
  // Docker and git-over-HTTPS code the Action never reaches stay out of the bundle's graph.
  external: ['cpu-features', 'ssh2'],
});
// The bundle is ESM whatever the package.json of the repository that checks the Action out says.
writeFileSync(`${out}package.json`, '{ "type": "module" }\n');
