// The event fields the Action reads exist, with the types it expects, in GitHub's published webhook
// payload schemas (@octokit/openapi): a payload shape drifting from the code fails here.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

type Schema = { type?: string | string[]; properties?: Record<string, Schema>; items?: Schema; anyOf?: Schema[]; oneOf?: Schema[]; allOf?: Schema[] };

const require = createRequire(import.meta.url);
const spec = JSON.parse(readFileSync(require.resolve('@octokit/openapi/generated/api.github.com.deref.json'), 'utf8')) as {
  'x-webhooks': Record<string, { post: { requestBody: { content: Record<string, { schema: Schema }> } } }>;
};

/** The payload schema of a webhook event, `pull-request-opened` for instance. */
function payload(event: string): Schema | undefined {
  return spec['x-webhooks'][event]?.post.requestBody.content['application/json']?.schema;
}

/** The types a dotted path (`[]` for array items) can have in a schema, through anyOf/oneOf/allOf. */
function typesAt(schema: Schema, path: string[]): string[] {
  const branches = [schema, ...(schema.anyOf ?? []), ...(schema.oneOf ?? []), ...(schema.allOf ?? [])];
  if (path.length === 0) return branches.flatMap((b) => (b.type === undefined ? [] : Array.isArray(b.type) ? b.type : [b.type]));
  const [head, ...rest] = path;
  return branches.flatMap((b) => {
    if (head === '[]') return b.items ? typesAt(b.items, rest) : [];
    const next = b.properties?.[head!];
    return next ? typesAt(next, rest) : [];
  });
}

// Every field settings.ts's EventPayload declares and the modes read, by event.
const READ: Array<[event: string, path: string, type: string]> = [
  ['pull-request-opened', 'pull_request.number', 'integer'],
  ['pull-request-opened', 'pull_request.user.login', 'string'],
  ['pull-request-opened', 'pull_request.head.sha', 'string'],
  ['pull-request-opened', 'pull_request.base.sha', 'string'],
  ['pull-request-opened', 'pull_request.base.ref', 'string'],
  ['pull-request-synchronize', 'pull_request.number', 'integer'],
  ['pull-request-synchronize', 'pull_request.head.sha', 'string'],
  ['pull-request-review-submitted', 'pull_request.number', 'integer'],
  ['workflow-run-completed', 'workflow_run.id', 'integer'],
  ['workflow-run-completed', 'workflow_run.head_sha', 'string'],
  ['workflow-run-completed', 'workflow_run.head_branch', 'string'],
  ['workflow-run-completed', 'workflow_run.head_repository.owner.login', 'string'],
  ['workflow-run-completed', 'workflow_run.pull_requests.[].number', 'integer'],
  ['workflow-run-completed', 'workflow_run.conclusion', 'string'],
];

describe('the event payloads the Action reads', () => {
  for (const [schema, path, type] of READ) {
    it(`${schema}: ${path} is a ${type}`, () => {
      const root = payload(schema);
      expect(root, schema).toBeDefined();
      // GitHub's schemas type some whole numbers as `number`; the Action reads them as numbers either way.
      const accepted = type === 'integer' ? ['integer', 'number'] : [type];
      expect(typesAt(root!, path.split('.')).filter((t) => accepted.includes(t)), path).not.toEqual([]);
    });
  }
});

describe('the site-key input', () => {
  const read = async (siteKey: string, mode = 'gate') => {
    const { readSettings } = await import('./settings.ts');
    const env = { ...process.env };
    const written: string[] = [];
    const write = process.stdout.write;
    process.env['INPUT_MODE'] = mode;
    process.env['INPUT_TOKEN'] = 'a-token';
    process.env['INPUT_SITE-KEY'] = siteKey;
    process.stdout.write = ((chunk: string) => (written.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      return { settings: readSettings({ GITHUB_REPOSITORY: 'org/registry' }), written: written.join('') };
    } catch (error) {
      return { error: (error as Error).message, written: written.join('') };
    } finally {
      process.stdout.write = write;
      process.env = env;
    }
  };

  it('takes one site key, or the new and the old one per line while a rotation is under way, masking each line', async () => {
    const { generateX25519Identity } = await import('age-encryption');
    const [next, old] = [await generateX25519Identity(), await generateX25519Identity()];
    expect((await read(next)).settings?.siteKeys).toEqual([next]);
    const both = await read(`${next}\n# the key being replaced\n${old}\n`);
    expect(both.settings?.siteKeys).toEqual([next, old]);
    for (const key of [next, old]) expect(both.written).toContain(`::add-mask::${key}`);
    expect((await read('')).settings?.siteKeys).toEqual([]);
  });

  it('refuses any line that is not an age identity, and the key in modes that must not see it, without printing it', async () => {
    const { generateX25519Identity } = await import('age-encryption');
    const key = await generateX25519Identity();
    for (const bad of [`${key}\nnot-a-key`, 'AGE-SECRET-KEY-1QQQQ', `${key.slice(0, -1)}`]) {
      const r = await read(bad);
      expect(r.error).toBe('input site-key is not an age identity (AGE-SECRET-KEY-1..., one per line): set the repository secret to the site key `medperf-git site key` made');
    }
    const other = await read(key, 'validate');
    expect(other.error).toBe('validate mode takes no site-key: give the site key to the gate and site modes only');
    expect(other.error).not.toContain(key);
  });
});
