/**
 * Every error a client sees passes through here, to keep codes stable and messages useful:
 *
 * - Apollo labels a bad value written inside the query text (`features: [NaN]`) as
 *   GRAPHQL_VALIDATION_FAILED, but the same value passed as a variable as BAD_USER_INPUT. A client
 *   should not have to know which way it sent the value: both are bad input, so both get
 *   BAD_USER_INPUT.
 * - graphql-armor (depth, aliases, directives) and graphql-js (tokens) report their limits as
 *   validation or syntax errors; they become QUERY_LIMIT_EXCEEDED, with the setting that sets the limit and its value in `extensions`.
 * - An error no code was given to is a bug or an internal failure: its message may hold paths or
 *   internals, so the client gets a generic message and the request id to quote (the log has the
 *   details), unless DEBUG_ERRORS is on.
 */
import { ApolloServerErrorCode } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { isClientFault, isUnexpected, type ErrorCode } from '../domain/errors.ts';

const BAD_LITERAL = /^(Float|Int|String|Boolean|ID) cannot represent|^Expected value of type|^Field "[^"]+" of required type/;

const QUERY_LIMIT_EXCEEDED: ErrorCode = 'QUERY_LIMIT_EXCEEDED';

/** graphql-armor's messages (with exposeLimits), graphql-js's token limit, and the setting behind each. */
const ARMOR_LIMITS: Array<{ pattern: RegExp; setting: string; what: string }> = [
  { pattern: /Query depth limit of (\d+) exceeded, found (\d+)/, setting: 'MAX_QUERY_DEPTH', what: 'the query nests fields too deep' },
  { pattern: /Aliases limit of (\d+) exceeded, found (\d+)/, setting: 'MAX_ALIASES', what: 'the query has too many aliases' },
  { pattern: /Directives limit of (\d+) exceeded, found (\d+)/, setting: 'MAX_DIRECTIVES', what: 'the query has too many directives' },
  { pattern: /Document contains more that (\d+) tokens/, setting: 'MAX_TOKENS', what: 'the query text has too many tokens' },
];

export function armorLimitOf(message: string): { setting: string; limit: number; found?: number; what: string } | undefined {
  for (const { pattern, setting, what } of ARMOR_LIMITS) {
    const match = pattern.exec(message);
    if (match) return { setting, limit: Number(match[1]), found: match[2] === undefined ? undefined : Number(match[2]), what };
  }
  return undefined;
}

export function formatErrorWith(options: { debugErrors: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const code = formatted.extensions?.code;
    if (code === ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED && BAD_LITERAL.test(formatted.message)) {
      return { ...formatted, extensions: { ...formatted.extensions, code: ApolloServerErrorCode.BAD_USER_INPUT } };
    }
    if (code === ApolloServerErrorCode.GRAPHQL_VALIDATION_FAILED || code === ApolloServerErrorCode.GRAPHQL_PARSE_FAILED) {
      const limit = armorLimitOf(formatted.message);
      if (limit) {
        const found = limit.found === undefined ? '' : `${limit.found}, `;
        return {
          message: `${limit.what}: ${found}at most ${limit.limit} allowed (${limit.setting}). Simplify the query, or pass large inputs as variables.`,
          extensions: { code: QUERY_LIMIT_EXCEEDED, setting: limit.setting, limit: limit.limit, ...(limit.found === undefined ? {} : { found: limit.found }) },
        };
      }
    }
    if ((code === undefined || code === ApolloServerErrorCode.INTERNAL_SERVER_ERROR) && isClientFault(code, httpStatusOf(error))) {
      // Apollo raises some request errors (an unsupported persisted-query version, a hash that
      // does not match its query) with a 400 status but no code: they are the client's.
      return { ...formatted, extensions: { code: ApolloServerErrorCode.BAD_REQUEST } };
    }
    if (isUnexpected(code, httpStatusOf(error)) && !options.debugErrors) {
      return { message: 'internal server error; the server log has the details', locations: formatted.locations, path: formatted.path, extensions: { code: ApolloServerErrorCode.INTERNAL_SERVER_ERROR } };
    }
    return formatted;
  };
}

/** The HTTP status an error asks for (Apollo's `extensions.http`), if any. */
export function httpStatusOf(error: unknown): number | undefined {
  const status = (error as { extensions?: { http?: { status?: unknown } } } | undefined)?.extensions?.http?.status;
  return typeof status === 'number' ? status : undefined;
}
