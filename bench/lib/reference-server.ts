/**
 * The HTTP side of the reference servers (naive, trivial): Apollo on Fastify with a /metrics of
 * default process metrics, listening on 127.0.0.1 and announcing itself with the same log lines
 * as PredictQL, so bench/lib/processes.ts can start either.
 */
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { fastifyApolloHandler } from '@as-integrations/fastify';
import Fastify from 'fastify';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadTypeDefs } from '../../src/graphql/type-defs.ts';

export async function serveReference(name: string, resolvers: unknown, port: number): Promise<void> {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: `${name}_` });
  const apollo = new ApolloServer({ typeDefs: loadTypeDefs(), resolvers: resolvers as never });
  await apollo.start();
  const app = Fastify({ bodyLimit: 50 * 1024 * 1024 });
  app.get('/metrics', async (_request, reply) => {
    reply.type(metrics.contentType);
    return metrics.metrics();
  });
  app.route({ method: ['GET', 'POST'], url: '/graphql', handler: fastifyApolloHandler(apollo) });
  await app.ready();
  const server = app.server;
  server.listen(port, '127.0.0.1', () => {
    const { port: actual } = server.address() as AddressInfo;
    console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${actual}` }));
    console.log(JSON.stringify({ msg: 'ready' }));
  });
  process.on('SIGTERM', () => {
    server.close();
    void apollo.stop().then(() => process.exit(0));
  });
}
