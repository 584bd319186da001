/**
 * Subscriptions over WebSocket: graphql-ws's `graphql-transport-ws` protocol at
 * ws://HOST:PORT/graphql, on the HTTP server's own port (the upgrade request is answered beside
 * Apollo's POST /graphql, as in Apollo's subscriptions guide).
 *
 * - The connection_init payload may carry `authorization: "Bearer <ADMIN_TOKEN>"` and
 *   `timings: true` (each event then carries `extensions.timings`), as a query's headers would.
 * - A message larger than MAX_BODY_BYTES closes the connection (1009, from `ws`).
 * - graphql-ws writes one event at a time and pulls the next from the stream only once the
 *   socket has taken it, so a slow reader holds the stream back (src/predict/stream.ts bounds
 *   what waits); one that stopped reading is cut off with close code 4400.
 */
import type { Server } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { ExecutionArgs } from 'graphql';
import { CloseCode, type Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import type { RequestContext } from '../../graphql/context.ts';
import { jsonShapeProblem, type JsonBodyLimits } from '../json-body.ts';
import { wantsTimings, type StreamOperations } from './operations.ts';
import { subscribeOnce } from './subscribe.ts';

/** How long a closing socket may take to finish its closing handshake before it is dropped. */
const CLOSE_TIMEOUT_MS = 1000;

interface Connection {
  authorization: string | undefined;
  timings: boolean;
  closed: AbortController;
}

export interface WebSocketTransport {
  /** Closes every connection (1001 Going away, dropped after a second), and stops accepting. */
  close(): Promise<void>;
}

type Extra = { socket: WebSocket };

export function serveGraphQLWs(server: Server, path: string, operations: StreamOperations, maxMessageBytes: number, jsonLimits: JsonBodyLimits): WebSocketTransport {
  const wss = new WebSocketServer({ server, path, maxPayload: maxMessageBytes });
  // Each message gets POST /graphql's scan (json-body.ts) before graphql-ws parses it: one over
  // MAX_BODY_JSON_VALUES or nested deeper than the variables may be closes the connection (4400)
  // with the reason, and is never parsed. Registered before useServer's listener, so the wrapper
  // is in place before any message arrives.
  wss.on('connection', (socket) => {
    const emit = socket.emit.bind(socket) as (event: string | symbol, ...args: unknown[]) => boolean;
    socket.emit = ((event: string | symbol, ...args: unknown[]) => {
      if (event === 'message') {
        const data = args[0];
        const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data as Buffer[]) : Buffer.from(data as ArrayBuffer);
        const problem = jsonShapeProblem(bytes, jsonLimits);
        if (problem) {
          operations.deps.metrics.queriesRefused.inc({ limit: problem.setting });
          socket.close(CloseCode.BadRequest, `VARIABLES_LIMIT_EXCEEDED: over ${problem.setting} (${problem.limit})`.slice(0, 123));
          setTimeout(() => socket.terminate(), CLOSE_TIMEOUT_MS).unref();
          return false;
        }
      }
      return emit(event, ...args);
    }) as typeof socket.emit;
  });
  const connections = new WeakMap<object, Connection>();
  const connectionOf = (ctx: Context<Record<string, unknown> | undefined, Extra>): Connection => {
    let connection = connections.get(ctx);
    if (!connection) {
      const params = ctx.connectionParams ?? {};
      const authorization = params.authorization ?? params.Authorization;
      connection = { authorization: typeof authorization === 'string' ? authorization : undefined, timings: wantsTimings(params.timings), closed: new AbortController() };
      connections.set(ctx, connection);
    }
    return connection;
  };
  const cutOff = (socket: WebSocket, error: Error) => {
    // Close frames carry at most 123 bytes of reason.
    socket.close(CloseCode.BadRequest, `${(error as { extensions?: { code?: string } }).extensions?.code ?? 'STREAM_TOO_SLOW'}: the client stopped reading`.slice(0, 123));
    setTimeout(() => socket.terminate(), CLOSE_TIMEOUT_MS).unref();
  };
  const contexts = new WeakMap<ExecutionArgs, RequestContext>();

  const disposable = useServer<Record<string, unknown> | undefined, Extra>(
    {
      onConnect: (ctx) => {
        connectionOf(ctx);
        return true;
      },
      onSubscribe: (ctx, id, payload) => {
        const checked = operations.check(payload);
        if (Array.isArray(checked)) return checked;
        const connection = connectionOf(ctx);
        const contextValue = operations.context({
          authorization: connection.authorization,
          timings: connection.timings,
          requestId: `${randomUUID()}:${id}`,
          signal: connection.closed.signal,
          cutOff: (error) => cutOff(ctx.extra.socket, error),
        });
        const args: ExecutionArgs = { schema: operations.deps.schema, document: checked.document, variableValues: checked.variableValues, operationName: checked.operationName, contextValue };
        contexts.set(args, contextValue);
        return args;
      },
      // Each event without coercing the inputs again (subscribe.ts).
      subscribe: subscribeOnce,
      onNext: (ctx, _id, _payload, args, result) => operations.formatResult(result, contexts.get(args), connectionOf(ctx).timings),
      onError: (_ctx, _id, _payload, errors) => operations.formatErrors(errors),
      onClose: (ctx) => {
        connections.get(ctx)?.closed.abort();
      },
    },
    wss,
    // Keep-alive pings (and the cut-off of peers that stop answering them), graphql-ws's default.
    12_000,
  );

  return {
    async close() {
      for (const socket of wss.clients) {
        socket.close(1001, 'the server is shutting down');
        setTimeout(() => socket.terminate(), CLOSE_TIMEOUT_MS).unref();
      }
      await disposable.dispose();
    },
  };
}
