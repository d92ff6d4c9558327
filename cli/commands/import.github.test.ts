// `import --registry OWNER/REPO`: a MedPerf server imported into a registry on GitHub (the loopback
// stand-in, every request checked against GitHub's OpenAPI description), through the forge.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { gitText } from '../../registry/forge/git.ts';
import { GitHubForge } from '../../registry/forge/github.ts';
import { validateRegistry } from '../../registry/validate.ts';
import { runCliOnGitHub } from '../../testing/cli.ts';
import { GitHubStandIn } from '../../testing/github-standin/server.ts';
import { fixtureData, startMedperfStandin } from '../../testing/medperf-standin.ts';
import { initIdentity } from '../keys.ts';

const LOGINS = 'admin: medperf-admin\ntestadmin: medperf-admin\ntestbo: bench-committee\ntestmo: model-owner\ntestdo: data-owner\n';
let standin: GitHubStandIn;
let home: string;
let medperf: Awaited<ReturnType<typeof startMedperfStandin>>;
const tokens: Record<string, string> = {};

beforeAll(async () => {
  standin = await GitHubStandIn.start();
  for (const login of ['medperf-admin', 'alice']) tokens[login] = standin.addUser(login);
  // The real responses, with a real input_data_hash: the result is pending on the server.
  const data = structuredClone(fixtureData());
  data.datasets[0]!.input_data_hash = 'a'.repeat(64);
  medperf = await startMedperfStandin({ data });
});
afterAll(async () => {
  await medperf.close();
  await standin.stop();
});
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'medperf-git-import-gh-'));
  await writeFile(join(home, 'logins.yaml'), LOGINS);
  // The importing admin signs the imported results.
  await initIdentity(join(home, 'state'), 'medperf-admin');
  await standin.deleteRepo('mlcommons/registry');
  await standin.createRepo('mlcommons/registry', [{ path: 'registry.yaml', content: 'title: MedPerf registry\nadmins: [medperf-admin]\n' }], ['medperf-admin', 'alice']);
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
  expect(standin.takeViolations()).toEqual([]);
});

const IMPORT = ['import', '--logins', 'logins.yaml', '--registry', 'mlcommons/registry', '--assets', 'assets', '--assets-url', 'https://medperf.example.org/assets'];
const run = (argv: string[], login: string) => runCliOnGitHub(['--token', 'test-token', '--server', medperf.url, ...argv], { standin, home, token: tokens[login]! });

async function github(login: string) {
  return GitHubForge.open({ owner: 'mlcommons', repo: 'registry', apiUrl: standin.apiUrl, serverUrl: standin.url, env: { GITHUB_TOKEN: tokens[login]! }, clonesDir: join(home, `clones-${login}`), writeIntervalMs: 0 });
}

describe('import into a registry on GitHub', () => {
  it('pushes the approved records to main as an admin, opens the pending ones as pull requests, and a second import changes nothing', async () => {
    const first = await run(IMPORT, 'medperf-admin');
    expect(first.err).toBe('');
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^Main of mlcommons\/registry \(commit [0-9a-f]{12}\):$/m);
    expect(first.out).toContain('  + mlcubes/bench-committee/chestxray_cnn.yaml');
    expect(first.out).toMatch(/#1 opened: benchmarks\/chestxray\/results\/data-owner\/dataset_a\/model-owner\/chestxray_mobilenet\.yaml \(result #1\)/);

    const forge = await github('medperf-admin');
    const main = await forge.main();
    expect(await main.list('mlcubes/')).toEqual([
      'mlcubes/bench-committee/chestxray_cnn.yaml',
      'mlcubes/bench-committee/chestxray_metrics.yaml',
      'mlcubes/bench-committee/chestxray_prep.yaml',
      'mlcubes/model-owner/chestxray_mobilenet.yaml',
    ]);
    expect((await main.read('mlcubes/bench-committee/chestxray_cnn.yaml'))!.toString()).toContain('url: https://medperf.example.org/assets/');
    expect(await validateRegistry(main)).toEqual([]);
    const [pull] = await forge.listPulls();
    expect(pull!.author).toBe('medperf-admin');
    expect(pull!.body).toContain('Opened by medperf-admin on behalf of @data-owner, its owner on the server.');
    const mainSha = () => gitText(['rev-parse', 'main'], { cwd: standin.repoDir('mlcommons/registry') });
    const sha = await mainSha();

    const second = await run(IMPORT, 'medperf-admin');
    expect(second.code, second.err).toBe(0);
    expect(second.out).toContain('Main of mlcommons/registry: nothing new.');
    expect(await mainSha()).toBe(sha);
    expect((await forge.listPulls({ state: 'all' })).map((p) => p.number)).toEqual([pull!.number]);
    await forge.dispose();
  });

  it('never overwrites a main that moved while writing to it', async () => {
    const forge = await github('medperf-admin');
    let raced = '';
    standin.beforePush = async (_fullName, dir) => {
      standin.beforePush = undefined;
      const tip = execFileSync('git', ['rev-parse', 'refs/heads/main'], { cwd: dir }).toString().trim();
      raced = execFileSync('git', ['commit-tree', `${tip}^{tree}`, '-p', tip, '-m', 'someone else'], {
        cwd: dir,
        env: { ...process.env, GIT_AUTHOR_NAME: 'x', GIT_AUTHOR_EMAIL: 'x@x', GIT_COMMITTER_NAME: 'x', GIT_COMMITTER_EMAIL: 'x@x' },
      }).toString().trim();
      execFileSync('git', ['update-ref', 'refs/heads/main', raced], { cwd: dir });
    };
    try {
      await expect(forge.commitToMain([{ path: 'mlcubes/medperf-admin/a.yaml', content: 'name: a\n' }], 'Import')).rejects.toThrow(
        'main of mlcommons/registry moved while writing to it; run the command again (nothing was written)',
      );
      expect(await gitText(['rev-parse', 'main'], { cwd: standin.repoDir('mlcommons/registry') })).toBe(raced);
    } finally {
      standin.beforePush = undefined;
      await forge.dispose();
    }
  });

  it('is refused to anyone but an admin, and needs the published assets named; nothing is written', async () => {
    const alice = await run(IMPORT, 'alice');
    expect(alice.code).toBe(1);
    expect(alice.err).toContain('error (not-admin): alice is not an admin of mlcommons/registry (admins: medperf-admin): an admin imports a server into it (nothing was written)');
    const noAssets = await run(['import', '--logins', 'logins.yaml', '--registry', 'mlcommons/registry'], 'medperf-admin');
    expect(noAssets.code).not.toBe(0);
    expect(noAssets.err).toContain('mlcommons/registry is on GitHub: say where the cube configs are written (--assets DIR) and the URL that folder is published at (--assets-url)');
    const forge = await github('medperf-admin');
    expect(await (await forge.main()).list()).toEqual(['registry.yaml']);
    expect(await forge.listPulls({ state: 'all' })).toEqual([]);
    await forge.dispose();
  });
});
