/** Tabular rows (`features`): stacked into one [N, F] float32 tensor; output: probabilities. */
import * as ort from 'onnxruntime-node';
import type { Payload } from '../engine/tasks.ts';
import { clampProbabilities, floatOutput, outputName, rowsOf, timed, type Pipeline } from './pipeline.ts';

export const tabular: Pipeline = {
  async run(session, model, payloads, timings) {
    const width = Number(model.options.featureCount);
    const classes = Number(model.options.labelCount);
    const feed = await timed(timings, 'preprocessMs', () => {
      const data = new Float32Array(payloads.length * width);
      payloads.forEach((p: Payload, i) => {
        if (p.kind !== 'features') throw new Error(`model ${model.id} takes features, got ${p.kind}`);
        data.set(p.values, i * width);
      });
      return new ort.Tensor('float32', data, [payloads.length, width]);
    });
    const probabilitiesName = outputName(model, 'probabilities');
    const outputs = await timed(timings, 'inferenceMs', () => session.run({ [model.inputTensor]: feed }, [probabilitiesName]));
    return timed(timings, 'postprocessMs', () => {
      const probabilities = clampProbabilities(floatOutput(outputs, probabilitiesName, model, payloads.length * classes));
      return rowsOf(probabilities, payloads.length, classes).map((row) => ({ kind: 'classification' as const, probabilities: row }));
    });
  },
};
