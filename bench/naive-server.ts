/**
 * Reference (b) of GUIDE section 3, the naive server: Apollo Server whose resolver runs the
 * model for each request on the main thread (pre-processing, session.run, post-processing), with
 * PredictQL's own schema, input checks, pipelines and field resolvers, so both servers do the
 * same work per request. None of PredictQL's machinery: no batching across requests, no
 * workers, no cache. `predictMany` runs its inputs as one batch, one session.run, as a naive
 * implementer who knows the model takes a batch would (`--many per-row`: one run per input, for
 * comparison; the batch is the stronger, so the fair reference).
 *
 *   node --import tsx bench/naive-server.ts --port 0 --models iris,ocr [--ort-threads N] [--many batch|per-row]
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

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, models: { type: 'string', default: 'iris' }, 'ort-threads': { type: 'string', default: '0' }, many: { type: 'string', default: 'batch' } } });
if (values.many !== 'batch' && values.many !== 'per-row') throw new Error(`--many: batch or per-row, not ${values.many}`);
const repository = await readRepository('models', modelDefaults(loadConfig([], {})));
const threads = Number(values['ort-threads']);
const served = new Map<string, { model: ServedModel; session: ort.InferenceSession; handle: ModelHandle }>();
for (const name of values.models.split(',')) {
  const model = repository.find((m) => m.name === name);
  if (!model) throw new Error(`no model ${name}`);
  const session = await ort.InferenceSession.create(model.filePath!, threads > 0 ? { intraOpNumThreads: threads } : {});
  served.set(name, { model, session, handle: singleModelHandle(model) });
}

function entryOf(name: string) {
  const entry = served.get(name);
  if (!entry) throw new Error(`no model ${name}`);
  return entry;
}

/** One session.run of every input, pre- and post-processing included. */
async function run(name: string, inputs: readonly PredictionInput[]): Promise<PredictionResult[]> {
  const { model, session, handle } = entryOf(name);
  const { results } = await runBatch(session, handle, inputs.map((input) => encodeInput(model, input).payload), 'probabilities');
  return results.map((item) => {
    if (!item || item.kind === 'failure') throw new Error(item?.message ?? 'no result');
    return { model, cached: false, cacheSource: 'NONE', item };
  });
}

await serveReference('naive', {
  ...resolvers,
  Query: {
    predict: async (_: unknown, args: { model: string; input: PredictionInput }): Promise<PredictionResult> => (await run(args.model, [args.input]))[0]!,
    predictMany: async (_: unknown, args: { model: string; inputs: PredictionInput[] }): Promise<PredictionResult[]> => {
      if (values.many === 'batch') return run(args.model, args.inputs);
      const out: PredictionResult[] = [];
      for (const input of args.inputs) out.push(...(await run(args.model, [input])));
      return out;
    },
  },
  Mutation: {},
}, Number(values.port));
