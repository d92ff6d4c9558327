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
    /** Only the folder's search bit is missing: a file parameter is mounted through its folder. */
    searchOnly = false,
  ) {
    const p = quoteShell(path);
    super(
      'container-cannot-read',
      `${label} ${task}: ${path} is not ${searchOnly ? 'a folder the container\'s user may enter' : 'readable by the container\'s user'} (uid ${user.uid}, gid ${user.gid}): ` +
        `as root, cubes run unprivileged and read their inputs as that user; nothing was run. ` +
        (searchOnly
          ? `Let it enter the folder (chmod o+x ${p}), or move the file to a folder it may enter, `
          : `Let it read it (chmod -R o+rX ${p}, or a group: chgrp -R ${user.gid} ${p} && chmod -R g+rX ${p}), `) +
        `or run medperf-git as the user who owns the data`,
    );
  }
}

function quoteShell(path: string): string {
  return /^[A-Za-z0-9_./:=@%+-]+$/.test(path) ? path : `'${path.replace(/'/g, `'\\''`)}'`;
}

/**
 * What a task reads, as the container meets it: the mounted path (read and, for a folder, entered,
 * with everything in it), or, for a file parameter mounted through its folder, only that file in a
 * folder it may enter.
 */
export interface MountedInput {
  mount: string;
  /** The one file the task reads in `mount` (MLCube mounts a file parameter's folder). */
  file?: string;
}

// Walks each input as the given uid:gid, in a child process started as that user, so the kernel
// decides (mode bits, ACLs and supplementary groups alike). As a bind mount does, it starts at the
// mounted path whatever its parent folders allow: each is opened here and handed over as a file
// descriptor, walked through /proc/self/fd. It prints the index of the first input it cannot read
// or enter, and where inside it.
const WALK = `
const fs = require('node:fs');
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
const files = JSON.parse(process.argv[1]);
files.forEach((file, i) => {
  const fd = '/proc/self/fd/' + (3 + i);
  let bad = null;
  if (!file) bad = walk(fd, '');
  else {
    try { fs.accessSync(fd, fs.constants.X_OK); } catch { bad = ''; }
    if (bad === null) bad = walk(fd + '/' + file, file);
  }
  if (bad !== null) { process.stdout.write(i + '\\0' + bad); process.exit(3); }
});
`;

const where = (input: MountedInput, rel: string) => (rel ? join(input.mount, rel) : input.mount);

/**
 * The first path of the inputs that the user uid:gid cannot read, or undefined. The mode bits answer
 * first, in this process; only what they deny is asked of the kernel (an ACL or a group may still
 * grant it). Inputs that do not exist are the task's to report, not a permission.
 */
export async function firstUnreadable(inputs: MountedInput[], user: { uid: number; gid: number }): Promise<string | undefined> {
  if (!(await firstUnreadableByModes(inputs, user))) return undefined;
  return firstUnreadableByKernel(inputs, user);
}

/** The kernel's answer: a process started as uid:gid walks the inputs (needs root to start it). */
export async function firstUnreadableByKernel(given: MountedInput[], user: { uid: number; gid: number }): Promise<string | undefined> {
  const handles: FileHandle[] = [];
  const inputs: MountedInput[] = [];
  try {
    for (const input of given) {
      const handle = await open(input.mount, 'r').catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
      if (!handle) continue;
      handles.push(handle);
      inputs.push(input);
    }
    if (!inputs.length) return undefined;
    return await new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', WALK, JSON.stringify(inputs.map((i) => i.file ?? ''))], {
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
      child.on('error', () => resolve(firstUnreadableByModes(inputs, user)));
      child.on('close', (code) => {
        if (code === 0) return resolve(undefined);
        const m = code === 3 ? /^(\d+)\0(.*)$/s.exec(out) : null;
        if (m) return resolve(where(inputs[Number(m[1])]!, m[2]!));
        if (/EACCES|EPERM|ENOENT/.test(err)) return resolve(firstUnreadableByModes(inputs, user));
        reject(new MedperfError('access-check-failed', `cannot check what uid ${user.uid} may read (${err.trim() || `exit ${code}`}); nothing was run`));
      });
    });
  } finally {
    for (const h of handles) await h.close().catch(() => {});
  }
}

/** The walk judged by owner, group and other mode bits (no ACLs, no supplementary groups). */
export async function firstUnreadableByModes(inputs: MountedInput[], user: { uid: number; gid: number }): Promise<string | undefined> {
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
  for (const input of inputs) {
    if (input.file) {
      const folder = await lstat(input.mount).catch(() => undefined);
      if (folder && !may(folder, 1)) return input.mount;
    }
    const bad = await walk(where(input, input.file ?? ''));
    if (bad) return bad;
  }
  return undefined;
}
