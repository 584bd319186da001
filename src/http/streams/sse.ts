/**
 * Subscriptions over Server-Sent Events: graphql-sse's protocol at /graphql/stream, in both its
 * modes: distinct connections (POST or GET with `Accept: text/event-stream`: one response
 * streams one operation) and single connection (PUT reserves a token, GET streams every
 * operation POSTed with that token, DELETE stops one).
 *
 * The Node adapter is ours rather than graphql-sse's `use/http`, for three things it lacks:
 * - a body limit: a body over MAX_BODY_BYTES is refused with 413 PAYLOAD_TOO_LARGE unread;
 * - backpressure: graphql-sse pulls every result from a stream into its own queue as fast as
 *   they come. Here its onNext waits until the connection has written the previous event, so
 *   the stream is pulled only as fast as the client reads (as over graphql-ws) and what waits
 *   stays in the stream's bounded buffer (src/predict/stream.ts);
 * - a stream that ends with an error (STREAM_TOO_SLOW, SHUTTING_DOWN) sends it as a last `next`
 *   event with `errors`, then `complete`, instead of dropping the connection unexplained.
 *
 * A request's `Authorization: Bearer <ADMIN_TOKEN>` and `x-predictql-timings: 1` headers apply
 * as on POST /graphql (in single connection mode, those of the request carrying the operation).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError, type ExecutionResult } from 'graphql';
import { createHandler, type Request as SseRequest } from 'graphql-sse';
import type { Logger } from 'pino';
import type { RequestContext } from '../../graphql/context.ts';
import { graphQLError } from '../../graphql/errors.ts';
import { TIMINGS_HEADER } from '../../graphql/plugins/timings.ts';
import { BODY_BUDGET_RETRY_AFTER_SECONDS, BodiesInFlightError, Reservation, type BodyBudget } from '../body-budget.ts';
import { jsonShapeProblem, type JsonBodyLimits } from '../json-body.ts';
import { wantsTimings, type StreamOperations } from './operations.ts';
import { subscribeOnce } from './subscribe.ts';

const TOKEN_HEADER = 'x-graphql-event-stream-token';

/** graphql-sse wants a context indexable by any key. */
type SseContext = RequestContext & Record<PropertyKey, unknown>;

/** One open response that events are written to. */
class EventConnection {
  /** `next` events handed to graphql-sse and not yet written to the socket. */
  unsent = 0;
  closed = new AbortController();
  private waiters: Array<() => void> = [];

  constructor(readonly res: ServerResponse) {}

  /** Resolves once the previous event is written (or the connection is gone). */
  async room(): Promise<void> {
    while (this.unsent > 0 && !this.closed.signal.aborted) await new Promise<void>((resolve) => this.waiters.push(resolve));
    this.unsent++;
  }

  written(): void {
    this.unsent = Math.max(0, this.unsent - 1);
    this.wake();
  }

  close(): void {
    this.closed.abort();
    this.wake();
  }

  private wake(): void {
    for (const resolve of this.waiters.splice(0)) resolve();
  }
}

export interface SseTransport {
  /** Serves one request under /graphql/stream. */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Ends every open event stream (their operations have ended first). */
  close(): void;
}

export function serveGraphQLSse(operations: StreamOperations, maxBodyBytes: number, logger: Logger, jsonLimits: JsonBodyLimits, bodyBudget: BodyBudget): SseTransport {
  /** Open event-stream responses: by request (distinct mode) and by reservation token (single mode). */
  const byRequest = new WeakMap<IncomingMessage, EventConnection>();
  const byToken = new Map<string, EventConnection>();
  const open = new Set<EventConnection>();
  const timingsWanted = new WeakMap<RequestContext, boolean>();

  const tokenOf = (req: SseRequest<IncomingMessage, unknown>): string | null => req.headers.get(TOKEN_HEADER) ?? new URL(req.url, 'http://localhost/').searchParams.get('token');
  const connectionOf = (req: SseRequest<IncomingMessage, unknown>): EventConnection | undefined => {
    const token = tokenOf(req);
    return (token ? byToken.get(token) : undefined) ?? byRequest.get(req.raw);
  };

  const handler = createHandler<IncomingMessage, undefined, SseContext>({
    onSubscribe: (req, params) => {
      const checked = operations.check(params);
      // A refused operation is answered as a result (one `next` event with its errors, then
      // `complete`, formatted by onNext): graphql-sse takes an object as a result only when it
      // has `data`; `{ errors }` alone would be run as execution arguments.
      if (Array.isArray(checked)) return { data: null, errors: checked };
      const connection = connectionOf(req);
      const contextValue = operations.context({
        authorization: req.headers.get('authorization') ?? undefined,
        timings: wantsTimings(req.headers.get(TIMINGS_HEADER)),
        requestId: randomUUID(),
        // Single connection mode: an operation may arrive before its event stream is open;
        // graphql-sse keeps its events for the stream, which ends the operation if it closes.
        signal: connection?.closed.signal ?? new AbortController().signal,
        cutOff: () => connection?.res.destroy(),
      });
      timingsWanted.set(contextValue, wantsTimings(req.headers.get(TIMINGS_HEADER)));
      return { schema: operations.deps.schema, document: checked.document, variableValues: checked.variableValues, operationName: checked.operationName, contextValue: contextValue as SseContext };
    },
    // Each event without coercing the inputs again (subscribe.ts).
    subscribe: (args) => subscribeOnce(args),
    onOperation: (_ctx, _req, _args, result) => (isAsyncIterable(result) ? endingWithErrors(result) : undefined),
    onNext: async (ctx, req, result) => {
      await connectionOf(req)?.room();
      // graphql-sse sends what this returns as JSON; it is typed for unformatted results only.
      return operations.formatResult(result as ExecutionResult, ctx, ctx ? (timingsWanted.get(ctx) ?? false) : false) as unknown as ExecutionResult;
    },
  });

  return {
    async handle(req, res) {
      const wantsStream = req.headers.accept === 'text/event-stream';
      let body: string | undefined;
      if (req.method === 'POST' || req.method === 'PUT') {
        const read = await readBody(req, res, maxBodyBytes, bodyBudget);
        if (read === 'too large') {
          operations.deps.metrics.queriesRefused.inc({ limit: 'MAX_BODY_BYTES' });
          sendJson(res, 413, { errors: [{ message: `the request body is larger than ${maxBodyBytes} bytes (MAX_BODY_BYTES)`, extensions: { code: 'PAYLOAD_TOO_LARGE', limit: maxBodyBytes } }] });
          req.resume();
          return;
        }
        if (read === 'over budget') {
          // As POST /graphql answers it (body-budget.ts): unread, and the connection closed.
          operations.deps.metrics.queriesRefused.inc({ limit: 'MAX_BODY_BYTES_IN_FLIGHT' });
          res.setHeader('retry-after', String(BODY_BUDGET_RETRY_AFTER_SECONDS));
          sendJson(res, 503, { errors: [{ message: new BodiesInFlightError(bodyBudget.limit).message, extensions: { code: 'OVERLOADED', retryAfterSeconds: BODY_BUDGET_RETRY_AFTER_SECONDS } }] });
          return;
        }
        const bytes = read;
        // The scan of POST /graphql (json-body.ts), before graphql-sse's JSON.parse.
        const shape = jsonShapeProblem(bytes, jsonLimits);
        if (shape) {
          operations.deps.metrics.queriesRefused.inc({ limit: shape.setting });
          const errors = [{ message: shape.message, extensions: { code: 'VARIABLES_LIMIT_EXCEEDED', setting: shape.setting, limit: shape.limit } }];
          // An event-stream request hears it as the other checks answer (a `next` with the
          // errors, then `complete`), so clients see the code; other requests get a 400.
          if (wantsStream && !headerOf(req, TOKEN_HEADER)) {
            res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'close' });
            res.end(`event: next\ndata: ${JSON.stringify({ errors })}\n\nevent: complete\ndata:\n\n`);
          } else sendJson(res, 400, { errors });
          return;
        }
        body = bytes.toString('utf8');
      }
      let connection: EventConnection | undefined;
      if (wantsStream) {
        connection = new EventConnection(res);
        open.add(connection);
        byRequest.set(req, connection);
        const token = req.headers[TOKEN_HEADER] ?? new URL(req.url ?? '', 'http://localhost/').searchParams.get('token');
        if (typeof token === 'string') byToken.set(token, connection);
        res.once('close', () => {
          connection!.close();
          open.delete(connection!);
          if (typeof token === 'string' && byToken.get(token) === connection) byToken.delete(token);
        });
      }
      const [stream, init] = await handler({
        method: req.method!,
        url: req.url!,
        headers: { get: (key) => headerOf(req, key) },
        body: body ?? null,
        raw: req,
        context: undefined,
      });
      res.writeHead(init.status, init.statusText, init.headers);
      if (!stream || typeof stream === 'string') {
        await new Promise<void>((resolve) => res.end(stream ?? undefined, () => resolve()));
        return;
      }
      res.once('close', () => void stream.return(undefined));
      try {
        for await (const message of stream) {
          if (res.destroyed || !res.writable) break;
          await new Promise<void>((resolve, reject) => res.write(message, (error) => (error ? reject(error) : resolve())));
          if (message.startsWith('event: next')) connection?.written();
        }
      } catch (error) {
        // The connection broke while writing, or graphql-sse failed: nothing more can be sent.
        if (!res.destroyed) logger.error({ err: error }, 'an event stream failed');
      }
      res.end();
    },
    close() {
      for (const connection of open) connection.res.end();
    },
  };
}

/**
 * The body's bytes, read within MAX_BODY_BYTES and the bytes-in-flight budget that POST /graphql
 * shares (MAX_BODY_BYTES_IN_FLIGHT): a declared length is taken from the budget before a byte is
 * read, a chunked body as it is read, and all of it is given back when the response closes.
 */
async function readBody(req: IncomingMessage, res: ServerResponse, limit: number, budget: BodyBudget): Promise<Buffer | 'too large' | 'over budget'> {
  const reservation = new Reservation(budget, res);
  const take = (bytes: number) => reservation.take(bytes);
  const declared = Number(req.headers['content-length']);
  const counted = Number.isFinite(declared);
  if (counted && declared > limit) return 'too large';
  if (counted && !take(declared)) return 'over budget';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) return 'too large';
    if (!counted && !take(chunk.length)) return 'over budget';
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

function headerOf(req: IncomingMessage, key: string): string | null | undefined {
  const value = req.headers[key.toLowerCase()];
  return Array.isArray(value) ? value.join('\n') : value;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), connection: 'close' });
  res.end(text);
}

function isAsyncIterable(value: unknown): value is AsyncIterable<ExecutionResult> {
  return typeof value === 'object' && value !== null && Symbol.asyncIterator in value;
}

/**
 * The results of an operation, with an error that ends its stream sent as one last result
 * (`{ errors }`), so that the client learns why. A plain object rather than an async generator:
 * leaving (return()) must reach the stream at once, even while a next() waits.
 */
function endingWithErrors(results: AsyncIterable<ExecutionResult>): AsyncIterableIterator<ExecutionResult> {
  const iterator = results[Symbol.asyncIterator]();
  let failed = false;
  return {
    async next() {
      if (failed) return { value: undefined, done: true };
      try {
        return await iterator.next();
      } catch (error) {
        failed = true;
        const graphQLErr = error instanceof GraphQLError ? error : graphQLError('INTERNAL_SERVER_ERROR', 'the stream failed');
        return { value: { errors: [graphQLErr] }, done: false };
      }
    },
    return: async () => (await iterator.return?.()) ?? { value: undefined, done: true },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
