/**
 * Handwritten symbols (`symbols`, detypify): each drawing is decoded grey, its strokes thinned
 * and redrawn as detypify draws them, on a 224x224 black canvas. The graph fixes its batch at 1,
 * so the inputs of a batch run one by one (the batcher sends one at a time anyway). Output:
 * logits [1, 411], turned into probabilities by a softmax here.
 */
import * as ort from 'onnxruntime-node';
import { decodeImage } from '../processing/image.ts';
import { SYMBOL_SIZE, toSymbolTensor } from '../processing/symbols.ts';
import { bytesOf, mergeResults, prepareEach } from './items.ts';
import { argmax, floatOutput, outputName, runSession, timed, type Pipeline } from './pipeline.ts';

/** Drawings are shrunk to at most this side while decoding: the model sees 224 px. */
const MAX_DECODE_SIDE = 1024;

export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

export const symbols: Pipeline = {
  async run(session, model, payloads, context) {
    const { timings } = context;
    const classes = Number(model.options.labelCount);
    const limits = { maxBytes: Number(model.options.maxBytes), maxPixels: Number(model.options.maxPixels) };
    const prepared = await timed(timings, 'preprocessMs', () =>
      prepareEach(payloads, async (p) => toSymbolTensor(await decodeImage(bytesOf(p), limits, 'grey', MAX_DECODE_SIDE))),
    );
    const name = outputName(model, 'logits');
    const answers = [];
    for (const p of prepared) {
      if (!p.ok) continue;
      const outputs = await runSession(session, { [model.inputTensor]: new ort.Tensor('float32', p.value, [1, 1, SYMBOL_SIZE, SYMBOL_SIZE]) }, [name], context);
      answers.push(
        await timed(timings, 'postprocessMs', () => {
          const logits = floatOutput(outputs, name, model, classes);
          // The largest logit is the most probable class: the softmax is only for scores.
          return context.needs === 'label' ? { kind: 'classification' as const, labelIndex: argmax(logits) } : { kind: 'classification' as const, labelIndex: argmax(logits), probabilities: softmax(logits) };
        }),
      );
    }
    return mergeResults(prepared, answers);
  },
};
