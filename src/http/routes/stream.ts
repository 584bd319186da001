/**
 * /graphql/stream: graphql-sse's protocol (src/http/streams/sse.ts), every method it uses.
 *
 * The SSE adapter reads the body itself (with its own MAX_BODY_BYTES limit) and writes the
 * response as events become ready, so the route takes the request over in its onRequest hook,
 * before Fastify parses a body or could answer: `reply.hijack()` ends Fastify's part (later hooks
 * and the handler are skipped). The headers the front set on the reply (request id, process,
 * CORS) are copied onto the raw response first, so stream answers carry them too.
 */
import type { FastifyInstance } from 'fastify';
import type { SseTransport } from '../streams/sse.ts';

export async function streamRoutes(app: FastifyInstance, { eventStreams, path = '/graphql/stream' }: { eventStreams: SseTransport; path?: string }): Promise<void> {
  app.route({
    method: ['GET', 'POST', 'PUT', 'DELETE'],
    url: path,
    onRequest: (request, reply, done) => {
      for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
      reply.hijack();
      eventStreams.handle(request.raw, reply.raw).catch((error: unknown) => {
        request.log.error({ err: error, requestId: request.id }, 'an event-stream request failed');
        if (reply.raw.headersSent) {
          reply.raw.end();
          return;
        }
        reply.raw.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
        reply.raw.end(JSON.stringify({ errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] }));
      });
      done();
    },
    // Never reached: the request was taken over in onRequest.
    handler: async () => undefined,
  });
}
