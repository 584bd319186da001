/**
 * Handwritten symbols (`symbols`, detypify): each drawing is decoded grey, its strokes thinned
 * and redrawn as detypify draws them, on a 224x224 black canvas. The graph fixes its batch at 1,
 * so the inputs of a batch run one by one (the batcher sends one at a time anyway). Output:
 * logits [1, 411], turned into probabilities by a softmax here when a query asks for scores.
 */
import * as ort from 'onnxruntime-node';
import { decodeImage } from '../processing/image.ts';
import { argmax, softmax } from '../processing/probabilities.ts';
import { SYMBOL_SIZE, toSymbolTensor } from '../processing/symbols.ts';
import { bytesOf } from './bytes.ts';
import { floatOutput, outputName } from './outputs.ts';
import { runFeeds, type Pipeline } from './pipeline.ts';

/** Drawings are shrunk to at most this side while decoding: the model sees 224 px. */
const MAX_DECODE_SIDE = 1024;

export const symbols: Pipeline<'symbols', Float32Array, ort.InferenceSession.FeedsType, ort.InferenceSession.ReturnType> = {
  decode: async (payload, model) => toSymbolTensor(await decodeImage(bytesOf(payload), model.options.image, 'grey', MAX_DECODE_SIDE)),
  outputs: (model) => [outputName(model, 'logits')],
  runs: (drawings) => drawings.map((_, i) => [i]),
  feed: ([drawing], { model }) => ({ [model.inputTensor]: new ort.Tensor('float32', drawing!, [1, 1, SYMBOL_SIZE, SYMBOL_SIZE]) }),
  run: runFeeds,
  postprocess(outputs, _drawings, _fed, { model, needs, outputs: [name] }) {
    const logits = floatOutput(outputs, name!, model, model.options.labelCount);
    // The largest logit is the most probable class: the softmax is only for scores.
    return [needs === 'label' ? { kind: 'classification', labelIndex: argmax(logits) } : { kind: 'classification', labelIndex: argmax(logits), probabilities: softmax(logits) }];
  },
};
