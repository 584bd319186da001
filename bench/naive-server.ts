/**
 * Reference (b) of GUIDE section 3, the naive server: Apollo Server whose resolver calls
 * session.run for each request on the main thread. Same schema and same answers as PredictQL,
 * none of its machinery: no batching, no workers, no cache.
 *
 *   node --import tsx bench/naive-server.ts --port 0 --model iris [--ort-threads N]
 * --ort-threads 0 (default) keeps ONNX Runtime's default: all cores.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { ApolloServer } from '@apollo/server';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import * as ort from 'onnxruntime-node';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadTypeDefs } from '../src/graphql/type-defs.ts';
import { readRepository } from '../src/models/repository.ts';
import { resolvers } from '../src/graphql/resolvers.ts';
import type { PredictionResult } from '../src/predict/prediction.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, model: { type: 'string', default: 'iris' }, 'ort-threads': { type: 'string', default: '0' } } });
const models = await readRepository('models', { maxBatchSize: 1, maxDelayMs: 0 });
const model = models.find((m) => m.name === values.model);
if (!model) throw new Error(`no model ${values.model}`);
const threads = Number(values['ort-threads']);
const session = await ort.InferenceSession.create(model.filePath, threads > 0 ? { intraOpNumThreads: threads } : {});
const { tensor: inputName, features } = model.manifest.input;
const outputName = model.manifest.output.probabilities;

const metrics = new Registry();
collectDefaultMetrics({ register: metrics, prefix: 'naive_' });

const apollo = new ApolloServer({
  typeDefs: loadTypeDefs(),
  resolvers: {
    Query: {
      predict: async (_: unknown, args: { input: { features: number[] } }): Promise<PredictionResult> => {
        const input = new ort.Tensor('float32', Float32Array.from(args.input.features), [1, features.length]);
        const outputs = await session.run({ [inputName]: input }, [outputName]);
        return { model, cached: false, item: { kind: 'classification', probabilities: outputs[outputName]!.data as Float32Array } };
      },
    },
    // The same field resolvers as PredictionQL's, so both servers do the same work per field.
    Prediction: resolvers.Prediction,
    Classification: resolvers.Classification,
  } as never,
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
