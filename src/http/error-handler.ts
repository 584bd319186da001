/**
 * Errors raised before a request reaches GraphQL (the body parser, mostly) answered in GraphQL's
 * shape: `{ errors: [{ message, extensions: { code } }] }` with a fitting 4xx status, never
 * Express's HTML page with a stack trace. Anything unexpected is a 500 with a generic message and
 * the request id; the log gets the details.
 */
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import { ERROR_CODES } from '../domain/errors.ts';
import type { Metrics } from '../metrics.ts';

interface BodyParserError extends Error {
  type?: string;
  status?: number;
  limit?: number;
  charset?: string;
  encoding?: string;
}

function describe(error: BodyParserError, maxBodyBytes: number): { status: number; code: string; message: string } | undefined {
  switch (error.type) {
    case 'entity.too.large':
      return { status: ERROR_CODES.PAYLOAD_TOO_LARGE.status, code: 'PAYLOAD_TOO_LARGE', message: `the request body is larger than the limit of ${maxBodyBytes} bytes (MAX_BODY_BYTES); send fewer inputs per request` };
    case 'entity.parse.failed':
      return { status: ERROR_CODES.BAD_REQUEST.status, code: 'BAD_REQUEST', message: 'the request body is not valid JSON; send {"query": "...", "variables": {...}} with content-type application/json' };
    case 'charset.unsupported':
      return { status: ERROR_CODES.UNSUPPORTED_MEDIA_TYPE.status, code: 'UNSUPPORTED_MEDIA_TYPE', message: `the charset "${error.charset}" is not supported; send UTF-8 JSON` };
    case 'encoding.unsupported':
      return { status: ERROR_CODES.UNSUPPORTED_MEDIA_TYPE.status, code: 'UNSUPPORTED_MEDIA_TYPE', message: `the content encoding "${error.encoding}" is not supported; send the body uncompressed, or gzip, deflate or br` };
    case undefined:
      // zlib failing on a body whose content-encoding does not match it (body-parser marks the
      // errors a client caused with `expose` and a 4xx status).
      if ((error as { expose?: boolean }).expose && error.status !== undefined && error.status >= 400 && error.status < 500) {
        return { status: error.status, code: 'BAD_REQUEST', message: `the request body could not be read (${error.message}); check its content-encoding header` };
      }
      return undefined;
    case 'request.size.invalid':
    case 'request.aborted':
      return { status: ERROR_CODES.BAD_REQUEST.status, code: 'BAD_REQUEST', message: 'the request body ended before its declared length' };
  }
  return undefined;
}

export function graphqlErrorHandler(options: { maxBodyBytes: number; debugErrors: boolean }, logger: Logger, metrics: Metrics): ErrorRequestHandler {
  return (error: BodyParserError, _req, res, next) => {
    if (res.headersSent) return next(error);
    const known = describe(error, options.maxBodyBytes);
    if (known?.code === 'PAYLOAD_TOO_LARGE') metrics.queriesRefused.inc({ limit: 'MAX_BODY_BYTES' });
    if (!known) logger.error({ err: error, requestId: res.locals.requestId }, 'request failed before GraphQL');
    const { status, code, message } = known ?? { status: ERROR_CODES.INTERNAL_SERVER_ERROR.status, code: 'INTERNAL_SERVER_ERROR', message: `internal server error (request ${String(res.locals.requestId ?? '')}); the server log has the details` };
    const extensions: Record<string, unknown> = { code };
    if (options.debugErrors && !known) extensions.stacktrace = String(error.stack ?? error).split('\n');
    // The connection may hold an unread body (a too-large one): close it rather than read it all.
    if (code === 'PAYLOAD_TOO_LARGE') res.setHeader('connection', 'close');
    res.status(status).json({ errors: [{ message, extensions }] });
  };
}
