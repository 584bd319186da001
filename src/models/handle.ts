/** What the workers need to know of a served model: the ModelHandle sent with every batch. */
import type { ModelHandle } from '../engine/tasks.ts';
import type { ServedModel } from './served-model.ts';

export function modelHandle(model: ServedModel): ModelHandle {
  const { manifest } = model;
  return {
    id: model.id,
    filePath: model.filePath,
    pipeline: 'tabular',
    inputTensor: manifest.input.tensor,
    outputs: { probabilities: manifest.output.probabilities },
    options: { featureCount: manifest.input.features.length, labelCount: manifest.labels.length },
  };
}
