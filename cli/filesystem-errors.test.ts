// Disk full and permission errors as a user meets them: the path, what to do, a stable exit code,
// and --json output that stays JSON. The full disk is a real one: a 64 KiB tmpfs, filled.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../testing/cli.ts';
import { filesystemError } from './base.ts';

const full = mkdtempSync(join(tmpdir(), 'full-disk-'));

beforeAll(() => {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', full]);
  // Fill it: the next write has no room.
  try {
    writeFileSync(join(full, 'fill'), Buffer.alloc(128 * 1024));
  } catch {
    // ENOSPC once full, as intended.
  }
});
afterAll(() => {
  execFileSync('umount', [full]);
});

describe('a full disk', () => {
  it('says where and what to do, exits 74, and keeps --json output JSON', async () => {
    const run = (json: boolean) => runCli(['registry', 'use', 'mlcommons/registry', ...(json ? ['--json'] : [])], { env: { MEDPERF_GIT_HOME: full }, cwd: '/' });
    const plain = await run(false);
    expect(plain.code).toBe(74);
    expect(plain.err).toBe(`error (enospc): cannot write a file under ${full}: no space left on the device (ENOSPC); free some space there, or point MEDPERF_GIT_HOME at a disk with room, and run again (finished tasks are kept)\n`);
    expect(plain.err).not.toMatch(/\x1b\[|Internal Error|\n\s+at /);
    const json = await run(true);
    expect(json.code).toBe(74);
    expect(JSON.parse(json.out)).toEqual({ error: { code: 'enospc', message: expect.stringContaining(`cannot write a file under ${full}`) } });
  });
});

describe('permission errors', () => {
  it('name the path and say how to fix it, with exit 77', () => {
    for (const [code, syscall] of [['EACCES', 'open'], ['EPERM', 'rename'], ['EROFS', 'mkdir']] as const) {
      const cause = Object.assign(new Error(`${code}: denied`), { code, syscall, path: '/data/hospital/raw' });
      const error = filesystemError(cause, '/state')!;
      expect(error.message).toMatch(new RegExp(`^cannot ${syscall} /data/hospital/raw: .* \\(${code}\\); `));
      expect(error.exitCode).toBe(code === 'EROFS' ? 74 : 77);
    }
    expect(filesystemError(Object.assign(new Error('x'), { code: 'ENOENT' }), '/state')).toBeUndefined();
  });
});
