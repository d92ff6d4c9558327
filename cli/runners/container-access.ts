// What a container's user may read. When the CLI runs as root, cubes run as an unprivileged uid, so
// everything a task reads must be readable by that uid whatever the invoking umask was (`umask 077`
// makes every folder medperf-git creates 0700 and every file 0600, root's alone). Two sides:
// - what medperf-git itself writes for a container (prepared data, predictions, a cube's folder,
//   an image's build context) gets explicit modes: folders 0755, files 0644, 0755 when executable;
//   the state directory around it is what keeps other local users out;
// - what the user gives (raw data, labels) is never changed: it is checked before anything runs,
//   and the first path the container's user cannot read is named with the command that fixes it.
import { spawn } from 'node:child_process';
import { chmod, type FileHandle, lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { MedperfError } from '../../registry/errors.ts';

/** Folders 0755, files 0644 (0755 when their owner may execute them); symbolic links are left alone. */
export async function makeReadableByContainers(path: string): Promise<void> {
  const s = await lstat(path).catch(() => undefined);
  if (!s || s.isSymbolicLink()) return;
  if (s.isDirectory()) {
    await chmod(path, 0o755);
    for (const entry of await readdir(path)) await makeReadableByContainers(join(path, entry));
  } else if (s.isFile()) await chmod(path, s.mode & 0o100 ? 0o755 : 0o644);
}

export class ContainerCannotReadError extends MedperfError {
  readonly exitCode = 77;
  constructor(
    readonly label: string,
    readonly task: string,
    readonly path: string,
    readonly user: { uid: number; gid: number },
  ) {
    super(
      'container-cannot-read',
      `${label} ${task}: ${path} is not readable by the container's user (uid ${user.uid}, gid ${user.gid}): ` +
        `as root, cubes run unprivileged and read their inputs as that user; nothing was run. ` +
        `Let it read the folder (chmod -R o+rX ${quoteShell(path)}, or a group: chgrp -R ${user.gid} ${quoteShell(path)} && chmod -R g+rX ${quoteShell(path)}), ` +
        `or run medperf-git as the user who owns the data`,
    );
  }
}

function quoteShell(path: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

// Walks each path as the given uid:gid, in a child process started as that user, so the kernel
// decides (mode bits, ACLs and supplementary groups alike). As a bind mount does, it starts at the
// path itself whatever its parent folders allow: each path is opened here and handed over as a file
// descriptor, walked through /proc/self/fd. It prints the index of the first path it cannot read or
// enter, and where inside it.
const WALK = `
const fs = require('node:fs'), path = require('node:path');
function walk(p, rel) {
  let s;
  try { s = fs.statSync(p); } catch { return rel; }
  try { fs.accessSync(p, s.isDirectory() ? fs.constants.R_OK | fs.constants.X_OK : fs.constants.R_OK); } catch { return rel; }
  if (!s.isDirectory()) return null;
  let entries;
  try { entries = fs.readdirSync(p, { withFileTypes: true }); } catch { return rel; }
  for (const e of entries) {
    if (e.isSymbolicLink()) continue;
    const bad = walk(p + '/' + e.name, rel ? rel + '/' + e.name : e.name);
    if (bad !== null) return bad;
  }
  return null;
}
const n = Number(process.argv[1]);
for (let i = 0; i < n; i++) { const bad = walk('/proc/self/fd/' + (3 + i), ''); if (bad !== null) { process.stdout.write(i + '\\0' + bad); process.exit(3); } }
`;

/**
 * The first of `paths` (or of what they hold) that the user uid:gid cannot read, or undefined, as
 * the container will meet them. The mode bits answer first, in this process; only what they deny
 * is asked of the kernel (an ACL or a group may still grant it).
 */
export async function firstUnreadable(paths: string[], user: { uid: number; gid: number }): Promise<string | undefined> {
  if (!(await firstUnreadableByModes(paths, user))) return undefined;
  return firstUnreadableByKernel(paths, user);
}

/** The kernel's answer: a process started as uid:gid walks the paths (needs root to start it). */
export async function firstUnreadableByKernel(given: string[], user: { uid: number; gid: number }): Promise<string | undefined> {
  const handles: FileHandle[] = [];
  const paths: string[] = [];
  try {
    for (const p of given) {
      // A path that does not exist is the task's to report (an optional input, say), not a permission.
      const handle = await open(p, 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      if (!handle) continue;
      handles.push(handle);
      paths.push(p);
    }
    if (!paths.length) return undefined;
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', WALK, String(paths.length)], {
        uid: user.uid,
        gid: user.gid,
        cwd: '/',
        stdio: ['ignore', 'pipe', 'pipe', ...handles.map((h) => h.fd)],
      });
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      // node itself out of that user's reach (installed in root's home): the mode bits decide instead.
      child.on('error', () => resolve(firstUnreadableByModes(paths, user)));
      child.on('close', (code) => {
        if (code === 0) return resolve(undefined);
        const m = code === 3 ? /^(\d+)\0(.*)$/s.exec(out) : null;
        if (m) return resolve(m[2] ? join(paths[Number(m[1])]!, m[2]) : paths[Number(m[1])]);
        if (/EACCES|EPERM|ENOENT/.test(err)) return resolve(firstUnreadableByModes(paths, user));
        reject(new MedperfError('access-check-failed', `cannot check what uid ${user.uid} may read (${err.trim() || `exit ${code}`}); nothing was run`));
      });
    });
  } finally {
    for (const h of handles) await h.close().catch(() => {});
  }
}

/** The walk judged by owner, group and other mode bits (no ACLs, no supplementary groups). */
export async function firstUnreadableByModes(paths: string[], user: { uid: number; gid: number }): Promise<string | undefined> {
  const may = (s: { mode: number; uid: number; gid: number }, bits: number) =>
    ((s.uid === user.uid ? s.mode >> 6 : s.gid === user.gid ? s.mode >> 3 : s.mode) & bits) === bits;
  const walk = async (p: string): Promise<string | undefined> => {
    const s = await lstat(p).catch(() => undefined);
    if (!s || s.isSymbolicLink()) return undefined;
    if (!may(s, s.isDirectory() ? 5 : 4)) return p;
    if (!s.isDirectory()) return undefined;
    for (const entry of await readdir(p)) {
      const bad = await walk(join(p, entry));
      if (bad) return bad;
    }
    return undefined;
  };
  for (const p of paths) {
    const bad = await walk(p);
    if (bad) return bad;
  }
  return undefined;
}
