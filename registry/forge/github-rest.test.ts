// The one REST client the GitHub forge and the Action share, against the stand-in: secondary
// rate limits in both forms are waited out, and a pull request GitHub lists only in part is
// refused rather than read as if complete.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getPull, PartialPullError, pullFiles, pullReviews, restClient } from './github-rest.ts';
import { GitHubStandIn } from '../../testing/github-standin/server.ts';

let standin: GitHubStandIn;
let token: string;
const repo = { owner: 'org', repo: 'registry' };

beforeAll(async () => {
  standin = await GitHubStandIn.start();
  token = standin.addUser('alice');
  standin.addUser('bob');
  await standin.createRepo('org/registry', [{ path: 'registry.yaml', content: 'title: x\nadmins: [alice]\n' }]);
});
afterAll(() => standin.stop());

const client = () => restClient({ token, baseUrl: standin.apiUrl, userAgent: 'test', retryUnitMs: 1 });

describe('the shared GitHub REST client', () => {
  it.each(['secondary-rate-limit', 'secondary-rate-limit-429'] as const)('waits out a %s answer and retries', async (kind) => {
    const n = await standin.openPull('org/registry', 'bob', `retry-${kind}`, [{ path: `a-${kind}.yaml`, content: 'x: 1\n' }]);
    standin.inject({ path: /\/pulls\/\d+$/, kind, times: 2, retryAfter: 1 });
    const pull = await getPull(client(), repo, n);
    expect(pull.number).toBe(n);
    const statuses = standin.requests.filter((r) => /\/pulls\/\d+$/.test(r.path)).slice(-3).map((r) => r.status);
    expect(statuses).toEqual([kind === 'secondary-rate-limit' ? 403 : 429, kind === 'secondary-rate-limit' ? 403 : 429, 200]);
    expect(standin.takeViolations()).toEqual([]);
  });

  it.each(['secondary-rate-limit', 'secondary-rate-limit-429'] as const)('gives up on a %s that does not lift, after a bounded number of tries', async (kind) => {
    standin.inject({ path: /\/pulls\/1$/, kind, times: 100, retryAfter: 1 });
    const before = standin.requests.length;
    await expect(getPull(client(), repo, 1)).rejects.toMatchObject({ status: kind === 'secondary-rate-limit' ? 403 : 429 });
    expect(standin.requests.length - before).toBeLessThanOrEqual(16);
    standin.clearFaults();
  });

  it('reads every page of a PR with many files, and refuses one past 3,000 files', async () => {
    const files = (n: number, dir: string) => Array.from({ length: n }, (_, i) => ({ path: `${dir}/f${String(i).padStart(4, '0')}.yaml`, content: 'same: bytes\n' }));
    const gh = client();
    const small = await standin.openPull('org/registry', 'bob', 'many', files(250, 'many'));
    const listed = await pullFiles(gh, repo, await getPull(gh, repo, small));
    expect(listed).toHaveLength(250);
    expect(new Set(listed.map((f) => f.path)).size).toBe(250);

    // A benchmark change placed after the 3,000th file: GitHub would not list it.
    const big = await standin.openPull('org/registry', 'bob', 'huge', [...files(3000, 'bulk'), { path: 'zz/benchmarks/b/benchmark.yaml', content: 'name: b\n' }]);
    const pull = await getPull(gh, repo, big);
    expect(pull.changed_files).toBe(3001);
    await expect(pullFiles(gh, repo, pull)).rejects.toThrow(PartialPullError);
    await expect(pullFiles(gh, repo, pull)).rejects.toThrow(/changes 3001 files and GitHub lists 3000/);
    expect(standin.takeViolations()).toEqual([]);
  }, 60_000);

  it('reads the commit each review was made on', async () => {
    const n = await standin.openPull('org/registry', 'bob', 'reviewed', [{ path: 'r.yaml', content: 'r: 1\n' }]);
    const gh = client();
    await gh.rest.pulls.createReview({ ...repo, pull_number: n, event: 'APPROVE' });
    const head = (await getPull(gh, repo, n)).head.sha;
    expect(await pullReviews(gh, repo, n)).toMatchObject([{ login: 'alice', state: 'APPROVED', commitId: head }]);
  });
});
