/**
 * Text classifiers (`spam`, `prompt-injection`): each text is tokenised here, in the worker, and
 * the batch becomes one string tensor [N, T], rows right-padded with '' (which no n-gram
 * matches, so padding never changes an answer). Output: probabilities [N, labels].
 */
import * as ort from 'onnxruntime-node';
import { padTokens, tokenize } from '../processing/text.ts';
import { clampProbabilities, classificationsOf, floatOutput, outputName, runSession, timed, type Pipeline } from './pipeline.ts';

export const text: Pipeline = {
  async run(session, model, payloads, { timings, ...context }) {
    const classes = Number(model.options.labelCount);
    const feed = await timed(timings, 'preprocessMs', () => {
      const rows = payloads.map((p) => {
        if (p.kind !== 'text') throw new Error(`model ${model.id} takes text, got ${p.kind}`);
        return tokenize(p.text);
      });
      const { data, dims } = padTokens(rows);
      return new ort.Tensor('string', data, dims);
    });
    const name = outputName(model, 'probabilities');
    const outputs = await runSession(session, { [model.inputTensor]: feed }, [name], { timings, ...context });
    return timed(timings, 'postprocessMs', () => classificationsOf(clampProbabilities(floatOutput(outputs, name, model, payloads.length * classes)), payloads.length, classes));
  },
};
