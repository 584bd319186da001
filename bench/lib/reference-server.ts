/**
 * The HTTP side of the reference servers (naive, trivial): Apollo on Express with a /metrics of
 * default process metrics, listening on 127.0.0.1 and announcing itself with the same log lines
 * as PredictQL, so bench/lib/processes.ts can start either.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadTypeDefs } from '../../src/graphql/type-defs.ts';

export async function serveReference(name: string, resolvers: unknown, port: number): Promise<void> {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: `${name}_` });
  const apollo = new ApolloServer({ typeDefs: loadTypeDefs(), resolvers: resolvers as never });
  await apollo.start();
  const app = express();
  app.get('/metrics', async (_req, res) => {
    res.type(metrics.contentType).send(await metrics.metrics());
  });
  app.use('/graphql', express.json({ limit: '50mb' }), expressMiddleware(apollo));
  const server = createServer(app);
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
