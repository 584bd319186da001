/**
 * POST and GET /graphql: Apollo Server through @as-integrations/fastify, with what the front
 * adds around it: the request's RequestTimings (its httpBodyParse phase measured up to the parsed
 * body), gzip/deflate/br request bodies inflated (@fastify/compress),
 * UTF-8 only, a JSON body's values and nesting counted before it is parsed (src/http/json-body.ts),
 * the optional load shedding, the budget for request bodies in flight
 * (MAX_BODY_BYTES_IN_FLIGHT), and an AbortSignal that fires when the client leaves.
 * A browser's GET may be answered with a page instead (the playground, when it is on).
 */
import { performance } from 'node:perf_hooks';
import type { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import compress from '@fastify/compress';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { cancelled } from '../../domain/errors.ts';
import type { RequestContext } from '../../graphql/context.ts';
import type { Metrics } from '../../metrics.ts';
import { RequestTimings } from '../../observability/timings.ts';
import { limitBodiesInFlight, type BodyBudget } from '../body-budget.ts';
import { parseJsonBodies, type JsonBodyLimits } from '../json-body.ts';
import type { Tracing } from '../../observability/tracing.ts';
import { shedLoad } from '../load-shedding.ts';

/** What the assembler needs from the HTTP request to build a request's GraphQL context. */
export interface HttpRequestState {
  request: FastifyRequest;
  requestId: string;
  timings: RequestTimings;
  /** An AbortSignal that aborts (CANCELLED) when the client goes away before its answer; made on first call. */
  disconnect: () => AbortSignal;
}

export interface GraphQLRouteOptions {
  apollo: ApolloServer<RequestContext>;
  context: (state: HttpRequestState) => RequestContext;
  metrics: Metrics;
  maxEventLoopDelayMs: number;
  /** MAX_BODY_BYTES_IN_FLIGHT, shared by every request's body; and MAX_BODY_BYTES. */
  bodyBudget: BodyBudget;
  maxBodyBytes: number;
  /** MAX_BODY_JSON_VALUES and MAX_VARIABLES_DEPTH, checked on the body's bytes before JSON.parse. */
  jsonBody: JsonBodyLimits;
  path?: string;
  /** Answers a GET with a page instead (true when it did); the playground's hook. */
  browserPage?: (request: FastifyRequest, reply: FastifyReply) => boolean;
  /** Set when traces are exported (an OTLP endpoint is set); unset, no request does any tracing work. */
  tracing?: Tracing;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set for GraphQL requests, at the start of their lifecycle. */
    timings: RequestTimings | null;
  }
}

class CharsetError extends Error {
  readonly code = 'PREDICTQL_CHARSET';
  readonly statusCode = 415;
}

/** Only UTF-8 JSON is read (Fastify's JSON parser ignores the charset parameter). */
function charsetProblem(contentType: string | undefined): CharsetError | undefined {
  if (contentType === undefined || !contentType.includes('charset')) return undefined;
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(contentType)?.[1]?.toLowerCase();
  if (charset === undefined || charset === 'utf-8' || charset === 'utf8') return undefined;
  return new CharsetError(`the charset "${charset}" is not supported; send UTF-8 JSON`);
}

function disconnectSignal(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort(cancelled());
  });
  return controller.signal;
}

export async function graphqlRoutes(app: FastifyInstance, options: GraphQLRouteOptions): Promise<void> {
  const path = options.path ?? '/graphql';
  app.decorateRequest('timings', null);
  await shedLoad(app, options.maxEventLoopDelayMs, options.metrics);
  // Request bodies only: answers stay uncompressed, as they were.
  await app.register(compress, { globalCompression: false, requestEncodings: ['br', 'gzip', 'deflate'] });
  // After compress, so inflated bodies are counted.
  limitBodiesInFlight(app, options.bodyBudget, options.maxBodyBytes);
  // In this scope only, so after compress too: the scan reads the inflated bytes.
  parseJsonBodies(app, options.jsonBody);

  const apolloHandler = fastifyApolloHandler<RequestContext>(options.apollo, {
    context: async (request, reply) => {
      let signal: AbortSignal | undefined;
      return options.context({
        request,
        requestId: request.id,
        timings: request.timings!,
        disconnect: () => (signal ??= disconnectSignal(reply)),
      });
    },
  });
  const browserPage = options.browserPage;
  const tracing = options.tracing;
  // A request's spans are made from its measured phases once its answer has been sent.
  const traceAfterResponse = tracing && {
    onResponse(request: FastifyRequest, reply: FastifyReply, done: () => void) {
      const { method, headers } = request;
      if (request.timings) tracing.endRequest(request.timings, { method, route: path, status: reply.statusCode, traceparent: headers.traceparent, tracestate: headers.tracestate, requestId: request.id });
      done();
    },
  };

  app.route({
    method: ['GET', 'POST'],
    url: path,
    onRequest(request, _reply, done) {
      request.timings = tracing ? tracing.requestTimings() : new RequestTimings();
      done(charsetProblem(request.headers['content-type']));
    },
    preHandler(request, _reply, done) {
      const timings = request.timings!;
      timings.add('httpBodyParse', performance.now() - timings.startedAt);
      done();
    },
    handler: browserPage
      ? async (request, reply) => {
          if (request.method === 'GET' && browserPage(request, reply)) return reply;
          return apolloHandler.call(app, request, reply);
        }
      : apolloHandler,
    ...traceAfterResponse,
  });
}
