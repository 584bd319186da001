/**
 * Handwritten digits (`digits`): each PNG/JPEG is decoded grey and normalised MNIST-style (white
 * on black, 20 px box centred by mass in 28x28) in the worker; the batch runs as one
 * [N, 1, 28, 28] tensor. Output: probabilities [N, 10].
 */
import * as ort from 'onnxruntime-node';
import type { Payload } from '../domain/types.ts';
import { decodeImage, type ImageLimits } from '../processing/image.ts';
import { greyLevels, MNIST_SIZE, toMnistTensor } from '../processing/mnist.ts';
import { clampProbabilities } from '../processing/probabilities.ts';
import { bytesOf } from './bytes.ts';
import { classificationsOf, floatOutput, outputName } from './outputs.ts';
import { runFeeds, type Pipeline } from './pipeline.ts';

/**
 * Images are shrunk to at most this side while decoding: the digit ends up 20 px high anyway,
 * and a 25-megapixel photo then costs about 56 ms instead of 0.7 s and 450 MB, with the same
 * 28x28 result.
 */
const MAX_DECODE_SIDE = 1024;
const PIXELS = MNIST_SIZE * MNIST_SIZE;

/** Decodes PNG/JPEG bytes and normalises them for the digits model: 784 values, row-major. */
export async function decodeDigit(bytes: Uint8Array, limits: ImageLimits): Promise<Float32Array> {
  const image = await decodeImage(bytes, limits, 'grey', MAX_DECODE_SIDE);
  return toMnistTensor(greyLevels(image), image.width, image.height);
}

export const mnist: Pipeline<'mnist', Float32Array, ort.InferenceSession.FeedsType, ort.InferenceSession.ReturnType> = {
  decode: (payload: Payload, model) => decodeDigit(bytesOf(payload), model.options.image),
  outputs: (model) => [outputName(model, 'probabilities')],
  feed(images, { model }) {
    const data = new Float32Array(images.length * PIXELS);
    images.forEach((image, i) => data.set(image, i * PIXELS));
    return { [model.inputTensor]: new ort.Tensor('float32', data, [images.length, 1, MNIST_SIZE, MNIST_SIZE]) };
  },
  run: runFeeds,
  postprocess(outputs, images, _fed, { model }) {
    const classes = model.options.labelCount;
    return classificationsOf(clampProbabilities(floatOutput(outputs, outputName(model, 'probabilities'), model, images.length * classes)), images.length, classes);
  },
};
