/**
 * What the workers need to know of a served model: the ModelHandle sent with every batch, with
 * the pipeline that fits the manifest's input (tabular, text, mnist, symbols, ocr, vad or tensor)
 * and that pipeline's options.
 */
import type { HandleOf, ModelHandle, PipelineName, PipelineOptions } from '../pipelines/handle.ts';
import type { ServedModel } from './served-model.ts';

export function modelHandle(model: ServedModel): ModelHandle {
  const { manifest } = model;
  const outputs: Record<string, string> = {};
  for (const [role, name] of Object.entries(manifest.output)) if (typeof name === 'string') outputs[role] = name;
  const handle = <P extends PipelineName>(pipeline: P, inputTensor: string, options: PipelineOptions[P]): HandleOf<P> => ({ id: model.id, filePath: model.filePath, pipeline, inputTensor, outputs, options });
  const labelCount = model.labels.length;
  const input = manifest.input;
  switch (input.kind) {
    case 'FEATURES':
      return handle('tabular', input.tensor, { featureCount: input.features.length, labelCount });
    case 'TEXT':
      return handle('text', input.tensor, { labelCount });
    case 'IMAGE': {
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
