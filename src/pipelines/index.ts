/** The pipelines by name, as models/handle.ts picks them from a manifest's input. */
import type { PipelineName } from '../engine/tasks.ts';
import { mnist } from './mnist.ts';
import { ocr } from './ocr.ts';
import type { Pipeline } from './pipeline.ts';
import { symbols } from './symbols.ts';
import { tabular } from './tabular.ts';
import { tensor } from './tensor.ts';
import { text } from './text.ts';
import { vad } from './vad.ts';

const PIPELINES: Record<PipelineName, Pipeline> = { tabular, text, mnist, symbols, ocr, vad, tensor };

export function pipelineFor(name: PipelineName): Pipeline {
  return PIPELINES[name];
}
