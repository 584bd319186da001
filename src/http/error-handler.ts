/**
 * Errors raised before a request reaches GraphQL (reading and parsing the body, mostly) answered
 * in GraphQL's shape: `{ errors: [{ message, extensions: { code } }] }` with the status of the
 * code in src/domain/errors.ts, never Fastify's own error JSON with its internal codes. Anything
 * unexpected is a 500 with a generic message and the request id; the log gets the details.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ERROR_CODES, type ErrorCode } from '../domain/errors.ts';
import type { Metrics } from '../metrics.ts';
import { BODY_BUDGET_RETRY_AFTER_SECONDS } from './body-budget.ts';
import { JsonShapeError } from './json-body.ts';

type Known = { code: ErrorCode; message: string };

function describe(error: FastifyError, request: FastifyRequest, maxBodyBytes: number): Known | undefined {
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return { code: 'PAYLOAD_TOO_LARGE', message: `the request body is larger than the limit of ${maxBodyBytes} bytes (MAX_BODY_BYTES); send fewer inputs per request` };
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return { code: 'BAD_REQUEST', message: 'the request body is not valid JSON; send {"query": "...", "variables": {...}} with content-type application/json' };
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'the request body must be JSON: send it with content-type application/json' };
    case 'PREDICTQL_JSON_SHAPE':
      return { code: 'VARIABLES_LIMIT_EXCEEDED', message: error.message };
    case 'PREDICTQL_CHARSET':
      return { code: 'UNSUPPORTED_MEDIA_TYPE', message: error.message };
    case 'FST_CP_ERR_INVALID_CONTENT_ENCODING':
      return { code: 'UNSUPPORTED_MEDIA_TYPE', message: `the content encoding "${String(request.headers['content-encoding'])}" is not supported; send the body uncompressed, or gzip, deflate or br` };
    case 'FST_CP_ERR_INVALID_CONTENT':
      return { code: 'BAD_REQUEST', message: 'the request body could not be decompressed; check its content-encoding header' };
    case 'PREDICTQL_BODIES_IN_FLIGHT':
      return { code: 'OVERLOADED', message: error.message };
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return { code: 'BAD_REQUEST', message: 'the request body ended before its declared length' };
  }
  // Secure JSON parsing refuses __proto__ and constructor keys with a 400 of its own.
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return { code: 'BAD_REQUEST', message: `the request could not be read (${error.message})` };
  }
  return undefined;
}

export function graphqlErrorHandler(options: { maxBodyBytes: number; debugErrors: boolean }, logger: Logger, metrics: Metrics) {
  return (error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    const known = describe(error, request, options.maxBodyBytes);
    if (known?.code === 'PAYLOAD_TOO_LARGE') metrics.queriesRefused.inc({ limit: 'MAX_BODY_BYTES' });
    if (error.code === 'PREDICTQL_BODIES_IN_FLIGHT') metrics.queriesRefused.inc({ limit: 'MAX_BODY_BYTES_IN_FLIGHT' });
    if (error instanceof JsonShapeError) metrics.queriesRefused.inc({ limit: error.setting });
    if (!known) logger.error({ err: error, requestId: request.id }, 'request failed before GraphQL');
    const { code, message } = known ?? { code: 'INTERNAL_SERVER_ERROR' as const, message: `internal server error (request ${request.id}); the server log has the details` };
    const extensions: Record<string, unknown> = { code };
    // Like the same code raised after parsing (src/graphql/plugins/request-limits.ts).
    if (error instanceof JsonShapeError) Object.assign(extensions, { setting: error.setting, limit: error.limit });
    if (options.debugErrors && !known) extensions.stacktrace = String(error.stack ?? error).split('\n');
    if (code === 'OVERLOADED') {
      extensions.retryAfterSeconds = BODY_BUDGET_RETRY_AFTER_SECONDS;
      reply.header('retry-after', String(BODY_BUDGET_RETRY_AFTER_SECONDS));
    }
    // The connection may hold an unread body (a too-large one, or one over the budget): close it
    // rather than read it all.
    if (code === 'PAYLOAD_TOO_LARGE' || code === 'OVERLOADED') reply.header('connection', 'close');
    return reply.code(ERROR_CODES[code].status ?? 500).type('application/json; charset=utf-8').send({ errors: [{ message, extensions }] });
  };
}
