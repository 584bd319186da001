/**
 * Reference (a) of issue 14 ((c) of GUIDE section 3): Apollo Server 5's `startStandaloneServer`
 * answering a constant, the bar for the HTTP + GraphQL layer. Same schema and field resolvers as
 * PredictQL, so it answers the very documents the benchmarks send: `predict` returns a constant
 * iris answer and `predictMany` that answer once per input, without any model, check or cache.
 *
 *   node --import tsx bench/trivial-server.ts --port 0
 */
import { parseArgs } from 'node:util';
import { resolvers } from '../src/graphql/resolvers.ts';
import { loadConfig } from '../src/config.ts';
import { readRepository } from '../src/models/repository.ts';
import { modelDefaults } from '../src/models/settings.ts';
import type { PredictionResult } from '../src/predict/prediction.ts';
import { serveReference } from './lib/reference-server.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' } } });
const [iris] = (await readRepository('models', modelDefaults(loadConfig([], {})))).filter((m) => m.name === 'iris');
const answer: PredictionResult = { model: iris!, cached: true, cacheSource: 'L1', item: { kind: 'classification', labelIndex: 0, probabilities: Float32Array.of(1, 0, 0) } };

await serveReference(
  'trivial',
  { ...resolvers, Query: { predict: () => answer, predictMany: (_: unknown, args: { inputs: unknown[] }) => args.inputs.map(() => answer) }, Mutation: {} },
  Number(values.port),
);
