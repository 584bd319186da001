/**
 * Text-line recognition (`ocr`, PP-OCRv4): each image is decoded RGB, scaled to 48 px high and
 * normalised in BGR order. Lines run in groups that share a padded width, because this network
 * mixes information across the whole width and padding a line to a wider neighbour's width can
 * change what it reads; grouped, every line reads as it would alone (and as the cache assumes).
 * Output: per-step character probabilities [N, W/8, 6625], CTC-decoded greedily here.
 */
import * as ort from 'onnxruntime-node';
import { decodeImage } from '../processing/image.ts';
import { ctcGreedyDecode, groupOcrLines, loadOcrKeys, prepareOcrBatch, type OcrBatchOptions } from '../processing/ocr.ts';
import { bytesOf, mergeResults, prepareEach } from './items.ts';
import { outputName, runSession, timed, type Pipeline } from './pipeline.ts';
import type { ItemResult } from '../domain/types.ts';

const OPTIONS: OcrBatchOptions = { height: 48, maxWidth: 3200 };
/** A line longer than this is squeezed anyway; decoding bigger images wastes time. */
const MAX_DECODE_SIDE = 4096;
const keysByPath = new Map<string, string[]>();

function keys(path: string): string[] {
  let loaded = keysByPath.get(path);
  if (!loaded) {
    loaded = loadOcrKeys(path);
    keysByPath.set(path, loaded);
  }
  return loaded;
}

export const ocr: Pipeline = {
  async run(session, model, payloads, context) {
    const { timings } = context;
    const vocabulary = keys(String(model.options.vocabularyPath));
    const limits = { maxBytes: Number(model.options.maxBytes), maxPixels: Number(model.options.maxPixels) };
    const prepared = await timed(timings, 'preprocessMs', () => prepareEach(payloads, (p) => decodeImage(bytesOf(p), limits, 'rgb', MAX_DECODE_SIDE)));
    const images = prepared.flatMap((p) => (p.ok ? [p.value] : []));
    const answers: ItemResult[] = new Array(images.length);
    const name = outputName(model, 'probabilities');
    for (const group of groupOcrLines(images, OPTIONS)) {
      const batch = await timed(timings, 'preprocessMs', () => prepareOcrBatch(group.indices.map((i) => images[i]!), { ...OPTIONS, minWidth: group.width }));
      const outputs = await runSession(session, { [model.inputTensor]: new ort.Tensor('float32', batch.data, batch.dims) }, [name], context);
      await timed(timings, 'postprocessMs', () => {
        const output = outputs[name]!;
        const [n, t, c] = output.dims as [number, number, number];
        const texts = ctcGreedyDecode(output.data as Float32Array, n, t, c, vocabulary, batch.widths);
        group.indices.forEach((index, k) => {
          answers[index] = { kind: 'textRecognition', text: texts[k]!.text, confidence: texts[k]!.confidence };
        });
      });
    }
    return mergeResults(prepared, answers);
  },
};
