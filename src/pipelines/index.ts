/**
 * The pipelines by name (src/models/handle.ts picks one from a manifest's input), and the entry
 * point the worker runs every batch through.
 */
import type * as ort from 'onnxruntime-node';
import type { ClassificationNeeds, ItemResult, Payload } from '../domain/types.ts';
import type { ModelHandle, PipelineName } from './handle.ts';
import { mnist } from './mnist.ts';
import { ocr } from './ocr.ts';
import { runPipeline, type BatchOutcome, type Pipeline } from './pipeline.ts';
import { symbols } from './symbols.ts';
import { tabular } from './tabular.ts';
import { tensor } from './tensor.ts';
import { text } from './text.ts';
import { vad } from './vad.ts';

const PIPELINES: { [P in PipelineName]: Pipeline<P, unknown, unknown, unknown> } = { tabular, text, mnist, symbols, ocr, vad, tensor };

/** Runs one batch of `model` through its pipeline: one result (or failure) per payload, in order. */
export function runBatch(session: ort.InferenceSession, model: ModelHandle, payloads: readonly Payload[], needs: ClassificationNeeds): Promise<BatchOutcome<ItemResult>> {
  return runPipeline(PIPELINES[model.pipeline] as Pipeline<PipelineName, unknown, unknown, unknown>, session, model, payloads, needs);
}
