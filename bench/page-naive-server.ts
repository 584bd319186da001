/**
 * The naive page reader the `page` scenario (bench/page-scenario.ts) measures PredictQL's
 * `ocr-page` against: Apollo Server 5's startStandaloneServer with PredictQL's schema, whose
 * resolver reads a page with @gutenye/ocr-node (the same PP-OCRv4 detector and recogniser, run on
 * the main thread, one line at a time) and answers iris by session.run on the main thread too.
 * No workers, no batching, no cache: reference (b) of GUIDE section 3.
 *
 *   node --import tsx bench/page-naive-server.ts --port 0 [--ort-threads N]
 * --ort-threads 0 (default) keeps ONNX Runtime's default: all cores.
 */
import { parseArgs } from 'node:util';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import Ocr from '@gutenye/ocr-node';
import * as ort from 'onnxruntime-node';
import { loadConfig } from '../src/config.ts';
import type { PredictionInput } from '../src/graphql/generated/resolvers-types.ts';
import { loadTypeDefs } from '../src/graphql/type-defs.ts';
import { singleModelHandle } from '../src/models/handle.ts';
import { readRepository } from '../src/models/repository.ts';
import { modelDefaults } from '../src/models/settings.ts';
import { runBatch } from '../src/pipelines/index.ts';
import { encodeInput } from '../src/predict/input.ts';

const { values } = parseArgs({ options: { port: { type: 'string', default: '0' }, 'ort-threads': { type: 'string', default: '0' } } });
const threads = Number(values['ort-threads']);
const onnxOptions = threads > 0 ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {};

interface GutenyeLine {
  text: string;
  mean: number;
  /** The line's four corners, [x, y] each. */
  box: number[][];
}
const ocr = (await Ocr.create({ onnxOptions })) as { detect(image: Buffer): Promise<GutenyeLine[]> };

const iris = (await readRepository('models', modelDefaults(loadConfig([], {})))).find((m) => m.name === 'iris')!;
const irisSession = await ort.InferenceSession.create(iris.filePath!, onnxOptions);
const irisHandle = singleModelHandle(iris);

function boxOf(corners: number[][]) {
  const xs = corners.map((p) => p[0]!);
  const ys = corners.map((p) => p[1]!);
  const x = Math.round(Math.min(...xs));
  const y = Math.round(Math.min(...ys));
  return { x, y, width: Math.round(Math.max(...xs)) - x, height: Math.round(Math.max(...ys)) - y };
}

const apollo = new ApolloServer({
  typeDefs: loadTypeDefs(),
  resolvers: {
    Query: {
      predict: async (_: unknown, args: { model: string; input: PredictionInput }) => {
        if (args.model === 'ocr-page') {
          const lines = await ocr.detect(Buffer.from(args.input.image!, 'base64'));
          return { type: 'DocumentText', cached: false, cacheSource: 'NONE', text: lines.map((l) => l.text).join('\n'), lines: lines.map((l) => ({ text: l.text, confidence: l.mean, box: boxOf(l.box) })), detectedLines: lines.length, truncated: false };
        }
        if (args.model === 'iris') {
          const { payload } = encodeInput(iris, args.input);
          const [item] = (await runBatch(irisSession, irisHandle, [payload], 'label')).results;
          if (!item || item.kind !== 'classification') throw new Error('iris gave no answer');
          return { type: 'Classification', cached: false, cacheSource: 'NONE', label: iris.labels[item.labelIndex] };
        }
        throw new Error(`this reference server reads ocr-page and iris, not ${args.model}`);
      },
    },
    Prediction: { __resolveType: (result: { type: string }) => result.type },
  },
});
const { url } = await startStandaloneServer(apollo, { listen: { port: Number(values.port), host: '127.0.0.1' } });
// The log lines bench/lib/processes.ts waits for; it posts to `${url}/graphql`, which the standalone server answers too.
console.log(JSON.stringify({ msg: 'listening', url: url.replace(/\/$/, '') }));
console.log(JSON.stringify({ msg: 'ready' }));
process.on('SIGTERM', () => void apollo.stop().then(() => process.exit(0)));
