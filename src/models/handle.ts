/**
 * What the workers need to know of a served model: the ModelHandle sent with every batch, with
 * the pipeline that fits the manifest's input and the pipeline's settings.
 */
import type { ModelHandle, PipelineName } from '../engine/tasks.ts';
import type { ServedModel } from './served-model.ts';

export function pipelineOf(model: ServedModel): PipelineName {
  const input = model.manifest.input;
  switch (input.kind) {
    case 'FEATURES':
      return 'tabular';
    case 'TEXT':
      return 'text';
    case 'IMAGE':
      return input.preprocess === 'mnist' ? 'mnist' : input.preprocess === 'symbols' ? 'symbols' : 'ocr';
    case 'AUDIO':
      return 'vad';
    case 'TENSOR':
      return 'tensor';
  }
}

export function modelHandle(model: ServedModel): ModelHandle {
  const { manifest } = model;
  const input = manifest.input;
  const outputs: Record<string, string> = {};
  for (const [role, name] of Object.entries(manifest.output)) if (typeof name === 'string') outputs[role] = name;
  const options: Record<string, unknown> = { labelCount: model.labels.length };
  let inputTensor = '';
  switch (input.kind) {
    case 'FEATURES':
      inputTensor = input.tensor;
      options.featureCount = input.features.length;
      break;
    case 'TEXT':
      inputTensor = input.tensor;
      break;
    case 'IMAGE':
      inputTensor = input.tensor;
      Object.assign(options, { maxBytes: input.maxBytes, maxPixels: input.maxPixels, vocabularyPath: model.vocabularyPath });
      break;
    case 'AUDIO':
      inputTensor = input.tensor;
      Object.assign(options, { maxBytes: input.maxBytes, maxSeconds: input.maxSeconds, stateTensor: input.stateTensor, sampleRateTensor: input.sampleRateTensor });
      break;
    case 'TENSOR':
      inputTensor = input.tensors[0]!.name;
      Object.assign(options, { tensors: input.tensors, outputNames: manifest.output.names ?? null });
      break;
  }
  return { id: model.id, filePath: model.filePath, pipeline: pipelineOf(model), inputTensor, outputs, options };
}
