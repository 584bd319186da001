/**
 * Text classifiers (`spam`, `prompt-injection`): each text is tokenised here, in the worker, and
 * the batch becomes one string tensor [N, T], rows right-padded with '' (which no n-gram
 * matches, so padding never changes an answer). Output: probabilities [N, labels].
 */
import * as ort from 'onnxruntime-node';
import { clampProbabilities } from '../processing/probabilities.ts';
import { padTokens, tokenize } from '../processing/text.ts';
import { classificationsOf, floatOutput, outputName } from './outputs.ts';
import { runFeeds, type Pipeline } from './pipeline.ts';

export const text: Pipeline<'text', string[], ort.InferenceSession.FeedsType, ort.InferenceSession.ReturnType> = {
  decode(payload, model) {
    if (payload.kind !== 'text') throw new Error(`model ${model.id} takes text, got ${payload.kind}`);
    return tokenize(payload.text);
  },
  outputs: (model) => [outputName(model, 'probabilities')],
  feed(rows, { model }) {
    const { data, dims } = padTokens(rows);
    return { [model.inputTensor]: new ort.Tensor('string', data, dims) };
  },
  run: runFeeds,
  postprocess(outputs, rows, _fed, { model }) {
    const classes = model.options.labelCount;
    return classificationsOf(clampProbabilities(floatOutput(outputs, outputName(model, 'probabilities'), model, rows.length * classes)), rows.length, classes);
  },
};
