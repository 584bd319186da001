/**
 * Tabular rows (`features`): stacked into one [N, F] float32 tensor. When the batch's queries
 * select only the label and the graph has a label output (the iris forest does), only that
 * output is fetched; otherwise the probabilities, from which the label is derived.
 */
import * as ort from 'onnxruntime-node';
import type { Payload } from '../domain/types.ts';
import { clampProbabilities, classificationsOf, floatOutput, outputName, runSession, timed, type Pipeline } from './pipeline.ts';

export const tabular: Pipeline = {
  async run(session, model, payloads, context) {
    const width = Number(model.options.featureCount);
    const classes = Number(model.options.labelCount);
    const feed = await timed(context.timings, 'preprocessMs', () => {
      const data = new Float32Array(payloads.length * width);
      payloads.forEach((p: Payload, i) => {
        if (p.kind !== 'features') throw new Error(`model ${model.id} takes features, got ${p.kind}`);
        data.set(p.values, i * width);
      });
      return { [model.inputTensor]: new ort.Tensor('float32', data, [payloads.length, width]) };
    });
    const labelName = model.outputs.label;
    if (context.needs === 'label' && labelName) {
      const outputs = await runSession(session, feed, [labelName], context);
      const labels = outputs[labelName]!.data as BigInt64Array;
      return Array.from(labels, (label) => ({ kind: 'classification' as const, labelIndex: Number(label) }));
    }
    const name = outputName(model, 'probabilities');
    const outputs = await runSession(session, feed, [name], context);
    return timed(context.timings, 'postprocessMs', () => classificationsOf(clampProbabilities(floatOutput(outputs, name, model, payloads.length * classes)), payloads.length, classes));
  },
};
