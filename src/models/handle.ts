/**
 * What the workers need to know of a served model, sent with every batch: for a single model the
 * pipeline that fits the manifest's input (tabular, text, mnist, symbols, ocr, vad or tensor) and
 * that pipeline's options; for a multi-stage model the stages its workers run.
 */
import type { HandleOf, ModelHandle, PipelineName, PipelineOptions, StagedHandle, WorkerModel, WorkerStage } from '../pipelines/handle.ts';
import type { ServedModel } from './served-model.ts';

export function modelHandle(model: ServedModel): WorkerModel {
  return model.stages ? stagedHandle(model) : singleModelHandle(model);
}

/** The stages a worker runs for each input of a multi-stage model: those before the first call. */
function stagedHandle(model: ServedModel): StagedHandle {
  const stages = model.stages!;
  const input = model.manifest.input;
  if (input.kind !== 'IMAGE' || input.preprocess !== 'stages') throw new Error(`model ${model.id}: a multi-stage model reads an image`);
  const worker: WorkerStage[] = [];
  for (const stage of stages.spec.stages) {
    const base = { name: stage.name, takes: stage.takes, passes: stage.passes };
    if (stage.kind === 'CALL') break;
    if (stage.kind === 'STEP') worker.push({ ...base, kind: 'STEP', step: stage.step });
    else worker.push({ ...base, kind: 'MODEL', filePath: stages.files[stage.name]!, tensor: stage.tensor, output: stage.output, prepare: stage.prepare, post: stage.post });
  }
  return {
    id: model.id,
    pipeline: 'stages',
    image: { maxBytes: input.maxBytes, maxPixels: input.maxPixels, minSide: input.minSide },
    input: stages.input,
    stages: worker,
    exports: [...stages.exports],
  };
}

export function singleModelHandle(model: ServedModel): ModelHandle {
  const { manifest } = model;
  const filePath = model.filePath;
  if (filePath === null) throw new Error(`model ${model.id} has no model file`);
  const outputs: Record<string, string> = {};
  for (const [role, name] of Object.entries(manifest.output)) if (typeof name === 'string') outputs[role] = name;
  const handle = <P extends PipelineName>(pipeline: P, inputTensor: string, options: PipelineOptions[P]): HandleOf<P> => ({ id: model.id, filePath, pipeline, inputTensor, outputs, options });
  const labelCount = model.labels.length;
  const input = manifest.input;
  switch (input.kind) {
    case 'FEATURES':
      return handle('tabular', input.tensor, { featureCount: input.features.length, labelCount });
    case 'TEXT':
      return handle('text', input.tensor, { labelCount });
    case 'IMAGE': {
      if (input.preprocess === 'stages') throw new Error(`model ${model.id}: a multi-stage model has no single-model handle`);
      const image = { maxBytes: input.maxBytes, maxPixels: input.maxPixels };
      if (input.preprocess === 'mnist') return handle('mnist', input.tensor, { labelCount, image });
      if (input.preprocess === 'symbols') return handle('symbols', input.tensor, { labelCount, image });
      return handle('ocr', input.tensor, { image, vocabularyPath: model.vocabularyPath });
    }
    case 'AUDIO':
      return handle('vad', input.tensor, { maxSeconds: input.maxSeconds, stateTensor: input.stateTensor, sampleRateTensor: input.sampleRateTensor });
    case 'TENSOR':
      return handle('tensor', input.tensors[0]!.name, { tensors: input.tensors, outputNames: outputNames(manifest.output.names) });
  }
}

/** The manifest's `output.names` (one name or a list), or null: every output of the graph. */
function outputNames(names: string | string[] | undefined): string[] | null {
  if (names === undefined) return null;
  return typeof names === 'string' ? [names] : names;
}
