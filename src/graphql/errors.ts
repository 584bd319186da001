/**
 * The GraphQL form of the errors clients can rely on (src/domain/errors.ts lists them): the one
 * place where an error raised below GraphQL becomes a GraphQLError, with its code and details in
 * `extensions` and, where its code's HTTP status applies, `extensions.http`, from which Apollo
 * sets the response's status and headers.
 */
import { GraphQLError } from 'graphql';
import { CodedError, ERROR_CODES, type ErrorCode } from '../domain/errors.ts';

interface HttpHead {
  status: number;
  headers?: Map<string, string>;
}

/**
 * A GraphQL error with a public code. `refusesRequest`: it stops the request before execution, so
 * its code's HTTP status is the response's.
 */
export function graphQLError(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}, refusesRequest = false): GraphQLError {
  const status = ERROR_CODES[code].status;
  const http: HttpHead | undefined = refusesRequest && status !== null ? { status } : undefined;
  return new GraphQLError(message, { extensions: http ? { code, ...extensions, http } : { code, ...extensions } });
}

/**
 * The GraphQL error a client sees for a domain error raised while a field resolves: code and
 * details in `extensions`. Such an error leaves the response at HTTP 200 with the other fields'
 * answers, except for codes whose status applies from fields (OVERLOADED: 503 with Retry-After;
 * UNAUTHENTICATED: 401 with WWW-Authenticate).
 * Anything that is not a domain error is returned as it is: Apollo reports it as an internal
 * error (masked by format-error.ts).
 */
export function toGraphQLError(error: unknown): unknown {
  if (!(error instanceof CodedError)) return error;
  const spec = ERROR_CODES[error.code];
  const extensions: Record<string, unknown> = { code: error.code, ...error.details };
  if ('statusFromFields' in spec && spec.status !== null) {
    extensions.http = { status: spec.status, headers: headersFor(error) } satisfies HttpHead;
  }
  return new GraphQLError(error.message, { extensions, originalError: error });
}

/** The headers that go with a status set from a field: how long to back off, or how to authenticate. */
function headersFor(error: CodedError): Map<string, string> {
  if (error.code === 'UNAUTHENTICATED') return new Map([['www-authenticate', 'Bearer realm="predictql admin"']]);
  return new Map([['retry-after', String(error.details.retryAfterSeconds ?? 1)]]);
}

/** For a resolver's promise: `.catch(rethrowForGraphQL)`. */
export function rethrowForGraphQL(error: unknown): never {
  throw toGraphQLError(error);
}
