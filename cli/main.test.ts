// The CLI as installed: the compiled build/ that `npm ci` makes, run through bin/medperf-git.js.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { commands } from './commands/index.ts';
import { VERSION } from './version.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const medperfGit = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [`${ROOT}bin/medperf-git.js`, ...args], { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });

describe('the compiled CLI', () => {
  beforeAll(() => {
    // What `npm ci` runs (the prepare script); incremental, so a fresh build costs little.
    const build = spawnSync(process.execPath, [`${ROOT}node_modules/typescript/bin/tsc`, '-p', `${ROOT}tsconfig.build.json`], { encoding: 'utf8' });
    expect(build.status, build.stdout + build.stderr).toBe(0);
  }, 300_000);

  it('answers --version, --help and a group\'s --help from the command index, without colour codes when piped', () => {
    const version = medperfGit(['--version']);
    expect(version.status).toBe(0);
    expect(version.stdout).toBe(`${VERSION}\n`);
    const help = medperfGit(['--help']);
    expect(help.status).toBe(0);
    for (const entry of commands) expect(help.stdout).toContain(`medperf-git ${entry.paths[0]!.join(' ')}\n`);
    const dataset = medperfGit(['dataset', '--help']);
    expect(dataset.status).toBe(0);
    expect(dataset.stdout).toContain('medperf-git dataset prepare\n');
    expect(dataset.stdout).not.toContain('medperf-git mlcube');
    for (const out of [version.stdout, help.stdout, dataset.stdout]) expect(out).not.toMatch(/\x1b\[/);
  });

  it('runs a command, reading the record schemas from the package', () => {
    const r = medperfGit(['validate', `${ROOT}examples/registry`]);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
