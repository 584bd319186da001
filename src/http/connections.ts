/**
 * The node:http server under Fastify, with the limits that keep connections from holding the
 * process's file descriptors and memory (issue 15):
 *
 * - MAX_CONNECTIONS: node's `server.maxConnections`; a connection past it is closed as it is
 *   accepted (the 'drop' event), and the open ones keep working.
 * - HEADERS_TIMEOUT_MS: a connection must send a request's complete headers this long after it
 *   opens (or after a later request's first byte). node's `headersTimeout`, checked every
 *   `connectionsCheckingInterval`, is the timer that does it: node tracks a connection's parser
 *   from the accept, so one that never sends a byte expires like a slowloris one, gets a 408 and is
 *   closed (measured on Node 20: 2,000 silent connections, all closed 2-4 s after they opened with
 *   a 2 s timeout). The socket inactivity timeout stays off, see SEND_TIMEOUT_MS.
 * - REQUEST_TIMEOUT_MS: node's `requestTimeout`, the same check for the whole request, body
 *   included: a body sent too slowly is cut off. Neither counts the time the answer takes.
 * - SEND_TIMEOUT_MS: the socket inactivity timeout, armed only once the answer starts to be written
 *   (armSendTimeout, from an onSend hook). A client that does not read leaves the writes stalled, no
 *   byte moves, and the socket is destroyed, freeing the buffered answer. It is not armed before:
 *   the socket is quiet while a prediction runs, which may take DEADLINE_MS (so `server.timeout`,
 *   Fastify's connectionTimeout, which counts from the accept, stays 0).
 * - KEEP_ALIVE_TIMEOUT_MS: node's `keepAliveTimeout`, the idle time between requests; node sets it
 *   on the socket once an answer is finished, which also ends the send timeout.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export interface ConnectionLimits {
  maxConnections: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  sendTimeoutMs: number;
  keepAliveTimeoutMs: number;
}

/**
 * How often node looks for requests past their deadlines: a late connection is closed between its
 * timeout and its timeout plus this. A quarter of the headers timeout, between 100 ms and 1 s
 * (node's default, 30 s, would make a 10 s timeout up to 40 s); each check walks the connections
 * whose request is not complete yet.
 */
export function checkingIntervalMs(headersTimeoutMs: number): number {
  return Math.max(100, Math.min(1000, Math.floor(headersTimeoutMs / 4)));
}

export function createLimitedServer(limits: ConnectionLimits, handler: (req: IncomingMessage, res: ServerResponse) => void, onDrop: () => void): Server {
  const server = createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: checkingIntervalMs(limits.headersTimeoutMs),
    },
    handler,
  );
  server.keepAliveTimeout = limits.keepAliveTimeoutMs;
  server.timeout = 0;
  server.maxConnections = limits.maxConnections;
  server.on('drop', onDrop);
  return server;
}

/**
 * Closes the connection if writing the answer stalls this long (the client does not read it).
 * Node replaces this timeout with the keep-alive one once the answer is finished.
 */
export function armSendTimeout(socket: Socket | null | undefined, sendTimeoutMs: number): void {
  if (socket && !socket.destroyed) socket.setTimeout(sendTimeoutMs);
}
