// `npm run standin -- --registry DIR [--port N] [--user LOGIN:ROLE]... [--repo OWNER/NAME]`: the
// GitHub stand-in the tests use, on 127.0.0.1, seeded with the registry folder DIR as the
// repository's main. Prints one JSON line {"api", "git", "repo", "tokens"} and serves until
// interrupted, so the CLI (`--registry OWNER/NAME` with GITHUB_API_URL) and the bundled Action can
// be tried against it offline.
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { FileChange } from '../../registry/forge/forge.ts';
import { GitHubStandIn, ROLES, type Role } from './server.ts';

const USAGE = 'usage: npm run standin -- --registry DIR [--port N] [--user LOGIN:ROLE]... [--repo OWNER/NAME]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function filesOf(dir: string): Promise<FileChange[]> {
  const out: FileChange[] = [];
  const walk = async (d: string): Promise<void> => {
    for (const entry of await readdir(d, { withFileTypes: true })) {
      if (entry.name === '.git') continue;
      const path = join(d, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) out.push({ path: relative(dir, path).split('\\').join('/'), content: await readFile(path) });
    }
  };
  await walk(dir);
  return out;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        registry: { type: 'string' },
        port: { type: 'string', default: '0' },
        user: { type: 'string', multiple: true, default: [] },
        repo: { type: 'string', default: 'mlcommons/registry' },
      },
      strict: true,
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
if (!values.registry) fail('--registry DIR is required');
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port must be a port number, not ${JSON.stringify(values.port)}`);
if (!/^[A-Za-z0-9-]+\/[A-Za-z0-9._-]+$/.test(values.repo!)) fail(`--repo must be OWNER/NAME, not ${JSON.stringify(values.repo)}`);
const users: Array<[string, Role]> = values.user!.map((spec) => {
  const m = /^([A-Za-z0-9-]+(?:\[bot\])?):(\w+)$/.exec(spec);
  if (!m || !ROLES.includes(m[2] as Role)) fail(`--user must be LOGIN:ROLE with ROLE one of ${ROLES.join(', ')}, not ${JSON.stringify(spec)}`);
  return [m[1]!, m[2] as Role];
});

const files = await filesOf(resolve(values.registry!)).catch((error: Error) => fail(`cannot read the registry folder ${values.registry}: ${error.message}`));
const standin = await GitHubStandIn.start({ port });
const owner = values.repo!.split('/')[0]!;
const tokens: Record<string, string> = { [owner]: standin.addUser(owner) };
for (const [login] of users) tokens[login] ??= standin.addUser(login);
// The workflows' GITHUB_TOKEN, for running the bundled Action against it: the Actions app, with write.
const ACTIONS = 'github-actions[bot]';
tokens[ACTIONS] ??= standin.addUser(ACTIONS);
if (!users.some(([login]) => login === ACTIONS)) users.push([ACTIONS, 'write']);
await standin.createRepo(values.repo!, files, Object.fromEntries(users));
process.stdout.write(`${JSON.stringify({ api: standin.apiUrl, git: `${standin.url}/${values.repo}.git`, repo: values.repo, tokens })}\n`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await standin.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
