/**
 * A pipeline is the worker-side half of a model family: it turns a batch of checked inputs into
 * the model's feeds (pre-processing), runs the session, and turns the outputs into one result per
 * input (post-processing). It runs on a worker thread, so decoding images, tokenising text and
 * decoding CTC output never take time from the main thread's event loop.
 */
import type * as ort from 'onnxruntime-node';
import type { ClassificationNeeds, ItemFailure, ItemResult, Payload, PhaseTimings } from '../domain/types.ts';
import type { ModelHandle } from '../engine/tasks.ts';

/** What a pipeline gets besides the session and the inputs. */
export interface RunContext {
  timings: PhaseTimings;
  /** Classifiers: fetch and compute only what the batch's queries select. */
  needs: ClassificationNeeds;
  /** Records each graph output session.run is asked for. */
  fetched: Set<string>;
}

export interface Pipeline {
  /**
   * One result per payload, in order. An input that cannot be processed yields an ItemFailure
   * and the others still run; an error thrown here fails the whole batch.
   */
  run(session: ort.InferenceSession, model: ModelHandle, payloads: readonly Payload[], context: RunContext): Promise<Array<ItemResult | ItemFailure>>;
}

/** session.run for the named outputs, timed as inference and recorded as fetched. */
export function runSession(session: ort.InferenceSession, feeds: ort.InferenceSession.FeedsType, outputs: string[], context: RunContext): Promise<ort.InferenceSession.ReturnType> {
  for (const name of outputs) context.fetched.add(name);
  return timed(context.timings, 'inferenceMs', () => session.run(feeds, outputs));
}

/** Index of the largest value; the first one wins a tie, as ONNX-ML classifiers do. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Classifier answers from [rows, classes] probabilities (kept, since they were computed anyway). */
export function classificationsOf(probabilities: Float32Array, rows: number, classes: number): ItemResult[] {
  return rowsOf(probabilities, rows, classes).map((row) => ({ kind: 'classification' as const, labelIndex: argmax(row), probabilities: row }));
}

export function failure(code: string, message: string): ItemFailure {
  return { kind: 'failure', code, message };
}

/** Runs `fn`, adding its duration to `timings[phase]`. */
export async function timed<T>(timings: PhaseTimings, phase: keyof PhaseTimings, fn: () => T | Promise<T>): Promise<T> {
  const started = performance.now();
  try {
    return await fn();
  } finally {
    timings[phase] += performance.now() - started;
  }
}

/**
 * Classifier outputs can land a hair outside [0, 1] (float32 sums of tree leaves give 1.0000001);
 * the API promises probabilities in 0..1, so the last bit of rounding is clamped away.
 */
export function clampProbabilities(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = Math.min(1, Math.max(0, values[i]!));
  return values;
}

/** Splits a [rows, width] row-major output into one view per row, sharing its buffer. */
export function rowsOf(data: Float32Array, rows: number, width: number): Float32Array[] {
  return Array.from({ length: rows }, (_, i) => data.subarray(i * width, (i + 1) * width));
}

export function outputName(model: ModelHandle, role: string): string {
  const name = model.outputs[role];
  if (!name) throw new Error(`model ${model.id}: no "${role}" output is configured`);
  return name;
}

export function floatOutput(outputs: ort.InferenceSession.ReturnType, name: string, model: ModelHandle, length: number): Float32Array {
  const tensor = outputs[name];
  if (!tensor || tensor.type !== 'float32' || tensor.data.length !== length) {
    throw new Error(
      `model ${model.id}: output "${name}" should be float32 with ${length} values, got ${tensor ? `${tensor.type} [${tensor.dims.join(', ')}]` : 'nothing'}`,
    );
  }
  return tensor.data as Float32Array;
}
