/**
 * The HTTP front: a Fastify instance with what every route shares (request ids, the process
 * header, error answers in GraphQL's shape, CORS, the pino logger, dropping requests read on
 * connections already ended). Routes are plugins in src/http/routes/, one per concern; the
 * assembler (src/server.ts) registers them.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.ts';
import { armSendTimeout, createLimitedServer, type ConnectionLimits } from './connections.ts';
import { allowCrossOrigin, type CorsSettings } from './cors.ts';
import { graphqlErrorHandler } from './error-handler.ts';
import { requestIds } from './request-id.ts';

export interface FrontOptions {
  logger: Logger;
  metrics: Metrics;
  maxBodyBytes: number;
  debugErrors: boolean;
  cors: CorsSettings;
  connections: ConnectionLimits;
}

export async function createFront(options: FrontOptions): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // One log line per request comes from the GraphQL layer (debug level); Fastify's own
    // "incoming request" / "request completed" pair would double it at info level.
    logController: new LogController({ disableRequestLogging: true }),
    // A child logger per request costs more than the rest of a cache hit's logging: the request
    // id goes into our log lines where they need it.
    childLoggerFactory: (logger) => logger,
    genReqId: requestIds(),
    requestIdHeader: false,
    bodyLimit: options.maxBodyBytes,
    // Express matched `/graphql/` like `/graphql`; clients written against it keep working.
    routerOptions: { ignoreTrailingSlash: true },
    // While shutting down, requests already read on open connections are served to the end (with
    // `connection: close`), as Apollo's drain did with Express; Fastify would answer them 503.
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    // While shutting down, idle keep-alive connections are ended; a request the client sent on one
    // just before it saw the end cannot be answered any more. Running it would compute an answer
    // nobody receives: drop it unread, and the client sees a closed connection, as for any request
    // the server never accepted.
    // The server is made here, so Fastify's own timeout options do not apply: src/http/connections.ts
    // sets the connection limits and timeouts.
    serverFactory: (handler) =>
      createLimitedServer(
        options.connections,
        (req, res) => {
          if (req.socket.writableEnded || req.socket.destroyed) {
            req.socket.destroy();
            return;
          }
          handler(req, res);
        },
        () => options.metrics.connectionsDropped.inc(),
      ),
  });
  // An answer the client does not read closes its connection after SEND_TIMEOUT_MS of stalled writes.
  const sendTimeoutMs = options.connections.sendTimeoutMs;
  app.addHook('onSend', (request, _reply, payload, done) => {
    armSendTimeout(request.raw.socket, sendTimeoutMs);
    done(null, payload);
  });
  // The request's id, for matching client and server logs; which process answered: several
  // share the port when PROCESSES > 1.
  const pid = String(process.pid);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    reply.header('x-predictql-process', pid);
    done();
  });
  app.setErrorHandler(graphqlErrorHandler({ maxBodyBytes: options.maxBodyBytes, debugErrors: options.debugErrors }, options.logger, options.metrics));
  await allowCrossOrigin(app, options.cors);
  return app;
}
