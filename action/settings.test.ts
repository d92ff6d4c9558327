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
