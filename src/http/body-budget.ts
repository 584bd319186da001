/**
 * A budget for request-body bytes in flight across all connections (MAX_BODY_BYTES_IN_FLIGHT).
 * MAX_BODY_BYTES bounds one body; this bounds them together, so many large or slowly sent bodies
 * cannot hold the process's memory (200 slow 16 MB bodies held 2.8 GB before it).
 *
 * A body with a content-length and no content-encoding reserves its declared length before a byte
 * of it is read (node's parser holds it to that length), so a flood is refused at once and
 * unread. A chunked or compressed body is counted as it is read, after inflation: what the JSON
 * parser accumulates. A request whose body would pass the budget gets 503 OVERLOADED (with
 * Retry-After, and its connection closed, as its body is not read). The bytes stay reserved until
 * the request ends, answered or aborted (the response's 'close', which node always emits): the
 * parsed body lives as long as the request. Refusals go through the front's error handler, which
 * answers and counts them.
 */
import { Transform, type TransformCallback } from 'node:stream';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Retry-After for a refused body: bodies in flight end within seconds (or REQUEST_TIMEOUT_MS). */
export const BODY_BUDGET_RETRY_AFTER_SECONDS = 1;

export class BodiesInFlightError extends Error {
  readonly code = 'PREDICTQL_BODIES_IN_FLIGHT';
  readonly statusCode = 503;
  constructor(readonly limit: number) {
    super(`the server is reading ${limit} bytes of request bodies or more at once, its limit (MAX_BODY_BYTES_IN_FLIGHT); retry in ${BODY_BUDGET_RETRY_AFTER_SECONDS} s`);
  }
}

export class BodyBudget {
  #inFlight = 0;
  constructor(readonly limit: number) {}

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Takes `bytes` if they fit. */
  tryTake(bytes: number): boolean {
    if (this.#inFlight + bytes > this.limit) return false;
    this.#inFlight += bytes;
    return true;
  }

  give(bytes: number): void {
    this.#inFlight -= bytes;
  }
}

/** What one request holds of the budget; returned once, when its response closes. */
export class Reservation {
  bytes = 0;
  constructor(readonly budget: BodyBudget, response: ServerResponse) {
    response.once('close', () => {
      budget.give(this.bytes);
      this.bytes = 0;
    });
  }
  take(bytes: number): boolean {
    if (!this.budget.tryTake(bytes)) return false;
    this.bytes += bytes;
    return true;
  }
}

/** Counts a body as it passes, taking budget for each chunk; fails the read past the budget. */
class CountingStream extends Transform {
  constructor(private readonly reservation: Reservation) {
    super();
  }
  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (!this.reservation.take(chunk.length)) {
      callback(new BodiesInFlightError(this.reservation.budget.limit));
      return;
    }
    callback(null, chunk);
  }
}

/**
 * Adds the budget to `scope`'s routes, as a preParsing hook: registered after @fastify/compress,
 * it sees inflated bodies.
 */
export function limitBodiesInFlight(scope: FastifyInstance, budget: BodyBudget, maxBodyBytes: number): void {
  scope.addHook('preParsing', (request: FastifyRequest, reply: FastifyReply, payload, done) => {
    const headers = request.headers;
    const encoded = headers['content-encoding'] !== undefined && headers['content-encoding'] !== 'identity';
    const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
    if (!encoded && length !== undefined) {
      // No body, or one Fastify refuses unread (413) as larger than MAX_BODY_BYTES: nothing to hold.
      if (!(length > 0) || length > maxBodyBytes) return done(null, payload);
      if (!new Reservation(budget, reply.raw).take(length)) return done(new BodiesInFlightError(budget.limit));
      return done(null, payload);
    }
    if (!encoded && headers['transfer-encoding'] === undefined) return done(null, payload);
    const counted = new CountingStream(new Reservation(budget, reply.raw));
    // Fastify reads the bytes received before inflation (which @fastify/compress counts on its
    // stream) off the stream it reads, to check the length against content-length.
    Object.defineProperty(counted, 'receivedEncodedLength', { get: () => (payload as typeof payload & { receivedEncodedLength?: number }).receivedEncodedLength });
    payload.on('error', (error) => counted.destroy(error));
    done(null, payload.pipe(counted));
  });
}
