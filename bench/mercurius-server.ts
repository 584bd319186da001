/**
 * Reference (c) of issue 14 ((d) of GUIDE section 3): Fastify 5 + Mercurius with graphql-jit
 * compiled execution (`jit: 1`: a document is compiled on its second use), answering a constant:
 * the ceiling of Node GraphQL on this machine. Same schema and field resolvers as PredictQL, the
 * same answers as bench/trivial-server.ts, so it answers the very documents the benchmarks send.
 * Mercurius also caches parsed and validated documents (its default LRU of 1024).
 *
 *   node --import tsx bench/mercurius-server.ts --port 0
 */
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import mercurius, { type IResolvers } from 'mercurius';
import { resolvers } from '../src/graphql/resolvers.ts';
import { loadTypeDefs } from '../src/graphql/type-defs.ts';
import { loadConfig } from '../src/config.ts';
import { readRepository } from '../src/models/repository.ts';
import { modelDefaults } from '../src/models/settings.ts';
import type { PredictionResult } from '../src/predict/prediction.ts';
import { announce, serveMetrics } from './lib/reference-server.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const [iris] = (await readRepository('models', modelDefaults(loadConfig([], {})))).filter((m) => m.name === 'iris');
const answer: PredictionResult = { model: iris!, cached: true, cacheSource: 'L1', item: { kind: 'classification', labelIndex: 0, probabilities: Float32Array.of(1, 0, 0) } };

// Mercurius takes a union's type resolver as `resolveType`, where graphql-tools takes `__resolveType`.
const { Prediction, ...fieldResolvers } = resolvers;
const app = Fastify({ logger: false, bodyLimit: 50 * 1024 * 1024 });
await app.register(mercurius, {
  schema: loadTypeDefs(),
  resolvers: {
    ...fieldResolvers,
    Query: { predict: () => answer, predictMany: (_: unknown, args: { inputs: unknown[] }) => args.inputs.map(() => answer) },
    Mutation: {},
    Prediction: { resolveType: Prediction!.__resolveType },
  } as unknown as IResolvers,
  jit: 1,
  path: '/graphql',
});
const address = await app.listen({ port: Number(values.port), host: '127.0.0.1' });
announce(address, await serveMetrics('mercurius'));
process.on('SIGTERM', () => void app.close().then(() => process.exit(0)));
