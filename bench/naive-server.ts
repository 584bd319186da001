/**
 * Reference (b) of GUIDE section 3, the naive server: Apollo Server whose resolver runs the
 * model for each request on the main thread (pre-processing, session.run, post-processing), with
 * PredictQL's own schema, input checks, pipelines and field resolvers, so both servers do the
 * same work per request. None of PredictQL's machinery: no batching, no workers, no cache.
 *
 *   node --import tsx bench/naive-server.ts --port 0 --models iris,ocr [--ort-threads N]
 * --ort-threads 0 (default) keeps ONNX Runtime's default: all cores.
 */
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import type { PredictionInput } from '../src/graphql/generated/resolvers-types.ts';
import { resolvers } from '../src/graphql/resolvers.ts';
import { singleModelHandle } from '../src/models/handle.ts';
import { loadConfig } from '../src/config.ts';
import { readRepository } from '../src/models/repository.ts';
import { modelDefaults } from '../src/models/settings.ts';
import type { ModelHandle } from '../src/pipelines/handle.ts';
import { runBatch } from '../src/pipelines/index.ts';
import type { ServedModel } from '../src/models/served-model.ts';
import { encodeInput } from '../src/predict/input.ts';
import { serveReference } from './lib/reference-server.ts';
import type { PredictionResult } from '../src/predict/prediction.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, models: { type: 'string', default: 'iris' }, 'ort-threads': { type: 'string', default: '0' } } });
const repository = await readRepository('models', modelDefaults(loadConfig([], {})));
const threads = Number(values['ort-threads']);
const served = new Map<string, { model: ServedModel; session: ort.InferenceSession; handle: ModelHandle }>();
for (const name of values.models.split(',')) {
  const model = repository.find((m) => m.name === name);
  if (!model) throw new Error(`no model ${name}`);
  const session = await ort.InferenceSession.create(model.filePath!, threads > 0 ? { intraOpNumThreads: threads } : {});
  served.set(name, { model, session, handle: singleModelHandle(model) });
}

await serveReference('naive', {
  ...resolvers,
  Query: {
    predict: async (_: unknown, args: { model: string; input: PredictionInput }): Promise<PredictionResult> => {
      const entry = served.get(args.model);
      if (!entry) throw new Error(`no model ${args.model}`);
      const { model, session, handle } = entry;
      const { payload } = encodeInput(model, args.input);
      const { results: [item] } = await runBatch(session, handle, [payload], 'probabilities');
      if (!item || item.kind === 'failure') throw new Error(item?.message ?? 'no result');
      return { model, cached: false, cacheSource: 'NONE', item };
    },
  },
  Mutation: {},
}, Number(values.port));
