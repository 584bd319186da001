/**
 * Reference (c) of GUIDE section 3: Apollo Server answering a trivial resolver, the ceiling of
 * the HTTP + GraphQL layer. Same schema and field resolvers as PredictQL; `predict` returns a
 * constant iris answer without any model, check or cache.
 *
 *   node --import tsx bench/trivial-server.ts --port 0
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { resolvers } from '../src/graphql/resolvers.ts';
import { loadTypeDefs } from '../src/graphql/type-defs.ts';
import { readRepository } from '../src/models/repository.ts';
import type { PredictionResult } from '../src/predict/prediction.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const [iris] = (await readRepository('models', { maxBatchSize: 1, maxDelayMs: 0 })).filter((m) => m.name === 'iris');
const answer: PredictionResult = { model: iris!, cached: true, cacheSource: 'L1', item: { kind: 'classification', labelIndex: 0, probabilities: Float32Array.of(1, 0, 0) } };

const metrics = new Registry();
collectDefaultMetrics({ register: metrics, prefix: 'trivial_' });
const apollo = new ApolloServer({
  typeDefs: loadTypeDefs(),
  resolvers: { ...resolvers, Query: { predict: () => answer }, Mutation: {} } as never,
});
await apollo.start();
const app = express();
app.get('/metrics', async (_req, res) => {
  res.type(metrics.contentType).send(await metrics.metrics());
});
app.use('/graphql', express.json(), expressMiddleware(apollo));
const server = createServer(app);
server.listen(Number(values.port), '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${port}` }));
  console.log(JSON.stringify({ msg: 'ready' }));
});
process.on('SIGTERM', () => {
  server.close();
  void apollo.stop().then(() => process.exit(0));
});
