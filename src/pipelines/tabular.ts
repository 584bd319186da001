/**
 * Tabular rows (`features`): stacked into one [N, F] float32 tensor. When the batch's queries
 * select only the label and the graph has a label output (the iris forest does), only that
 * output is fetched; otherwise the probabilities, from which the label is derived.
 */
import * as ort from 'onnxruntime-node';
import { clampProbabilities } from '../processing/probabilities.ts';
import type { HandleOf } from './handle.ts';
import { classificationsOf, floatOutput, outputName } from './outputs.ts';
import { runFeeds, type Batch, type Pipeline } from './pipeline.ts';

/** The label output, when the batch needs nothing more and the graph has one. */
function labelOnly({ model, needs }: { model: HandleOf<'tabular'>; needs: Batch<'tabular'>['needs'] }): string | undefined {
  return needs === 'label' ? model.outputs.label : undefined;
}

export const tabular: Pipeline<'tabular', Float32Array, ort.InferenceSession.FeedsType, ort.InferenceSession.ReturnType> = {
  decode(payload, model) {
    if (payload.kind !== 'features') throw new Error(`model ${model.id} takes features, got ${payload.kind}`);
    return payload.values;
  },
  outputs(model, needs) {
    const label = labelOnly({ model, needs });
    return label ? [label] : [outputName(model, 'probabilities')];
  },
  feed(rows, { model }) {
    const width = model.options.featureCount;
    const data = new Float32Array(rows.length * width);
    rows.forEach((row, i) => data.set(row, i * width));
    return { [model.inputTensor]: new ort.Tensor('float32', data, [rows.length, width]) };
  },
  run: runFeeds,
  postprocess(outputs, rows, _fed, batch) {
    const label = labelOnly(batch);
    if (label) return Array.from(outputs[label]!.data as BigInt64Array, (index) => ({ kind: 'classification' as const, labelIndex: Number(index) }));
    const { model } = batch;
    const classes = model.options.labelCount;
    return classificationsOf(clampProbabilities(floatOutput(outputs, outputName(model, 'probabilities'), model, rows.length * classes)), rows.length, classes);
  },
};
