/**
 * Handwritten digits (`digits`): each PNG/JPEG is decoded and normalised MNIST-style (grey,
 * white on black, 20 px box centred by mass in 28x28) in the worker; the batch runs as one
 * [N, 1, 28, 28] tensor. Output: probabilities [N, 10].
 */
import * as ort from 'onnxruntime-node';
import { imageToMnist } from '../processing/mnist.ts';
import { bytesOf, mergeResults, prepareEach } from './items.ts';
import { clampProbabilities, classificationsOf, floatOutput, outputName, runSession, timed, type Pipeline } from './pipeline.ts';

const SIDE = 28;

export const mnist: Pipeline = {
  async run(session, model, payloads, context) {
    const { timings } = context;
    const classes = Number(model.options.labelCount);
    const limits = { maxBytes: Number(model.options.maxBytes), maxPixels: Number(model.options.maxPixels) };
    const prepared = await timed(timings, 'preprocessMs', () => prepareEach(payloads, (p) => imageToMnist(bytesOf(p), limits)));
    const images = prepared.flatMap((p) => (p.ok ? [p.value] : []));
    if (images.length === 0) return mergeResults(prepared, []);
    const data = new Float32Array(images.length * SIDE * SIDE);
    images.forEach((image, i) => data.set(image, i * SIDE * SIDE));
    const name = outputName(model, 'probabilities');
    const outputs = await runSession(session, { [model.inputTensor]: new ort.Tensor('float32', data, [images.length, 1, SIDE, SIDE]) }, [name], context);
    return timed(timings, 'postprocessMs', () =>
      mergeResults(prepared, classificationsOf(clampProbabilities(floatOutput(outputs, name, model, images.length * classes)), images.length, classes)),
    );
  },
};
