// GitHub's GraphQL API as the stand-in serves it: every query is parsed and validated against
// GitHub's published schema (npm @octokit/graphql-schema) with the reference implementation
// (npm graphql), then executed against resolvers the stand-in gives for the fields the project
// uses. A query the real API would reject is a violation, answered as GitHub answers it (HTTP 200
// with `errors`).
import { schema as githubSchema } from '@octokit/graphql-schema';
import { buildClientSchema, execute, GraphQLError, type GraphQLSchema, type IntrospectionQuery, parse, validate } from 'graphql';

let built: GraphQLSchema | undefined;

/** GitHub's schema, built once from its introspection result (as the package's own validate does). */
function schema(): GraphQLSchema {
  built ??= buildClientSchema(githubSchema.json as unknown as IntrospectionQuery);
  return built;
}

/**
 * A refusal as GitHub words it: `type` is GitHub's error type (UNPROCESSABLE, NOT_FOUND,
 * FORBIDDEN), beside the standard `message`, `path` and `locations`
 * (docs.github.com/en/graphql/guides/forming-calls-with-graphql).
 */
export class GitHubGraphQLError extends Error {
  constructor(
    readonly type: 'UNPROCESSABLE' | 'NOT_FOUND' | 'FORBIDDEN',
    message: string,
  ) {
    super(message);
  }
}

/** Root fields: a function of the field's arguments (variables already coerced by the schema). */
export type Resolvers = Record<string, (args: Record<string, unknown>) => Promise<unknown> | unknown>;

export interface GraphQLAnswer {
  body: { data?: unknown; errors?: unknown[] };
  /** Set when the query is not one GitHub's schema accepts. */
  violation?: string;
}

export async function answerGraphQL(request: { query?: unknown; variables?: unknown }, resolvers: Resolvers): Promise<GraphQLAnswer> {
  if (typeof request.query !== 'string') return { body: { errors: [{ message: 'A query attribute must be specified and must be a string.' }] }, violation: 'GraphQL request without a query' };
  let document;
  try {
    document = parse(request.query);
  } catch (error) {
    const message = (error as GraphQLError).message;
    return { body: { errors: [{ message }] }, violation: `GraphQL: ${message}` };
  }
  const invalid = validate(schema(), document);
  if (invalid.length) {
    return { body: { errors: invalid.map((e) => ({ message: e.message, locations: e.locations })) }, violation: `GraphQL query against GitHub's schema: ${invalid.map((e) => e.message).join('; ')}` };
  }
  const result = await execute({
    schema: schema(),
    document,
    rootValue: Object.fromEntries(Object.entries(resolvers).map(([name, fn]) => [name, (args: Record<string, unknown>) => fn(args)])),
    variableValues: (request.variables ?? {}) as Record<string, unknown>,
  });
  const errors = result.errors?.map((e) => ({
    ...(e.originalError instanceof GitHubGraphQLError ? { type: e.originalError.type } : {}),
    path: e.path,
    locations: e.locations,
    message: e.message,
  }));
  // Variables that do not fit the schema are the caller's mistake, as is a field no resolver serves.
  const unserved = result.errors?.filter((e) => !(e.originalError instanceof GitHubGraphQLError)).map((e) => e.message);
  return {
    body: { ...(result.data !== undefined ? { data: result.data } : {}), ...(errors?.length ? { errors } : {}) },
    ...(unserved?.length ? { violation: `GraphQL: ${unserved.join('; ')}` } : {}),
  };
}
