/**
 * The messages between the main thread and the inference workers. Typed arrays travel in
 * Piscina's transfer list, so a batch's bytes are moved between threads, never copied or turned
 * into JSON.
 */
import type { ProviderFallback } from './providers.ts';
import type { ClassificationNeeds, ItemFailure, Payload, WorkerAnswer } from '../domain/types.ts';
import type { WorkerModel } from '../pipelines/handle.ts';
import type { BatchOutcome } from '../pipelines/pipeline.ts';

export interface WorkerOptions {
  /** ONNX Runtime intra-op threads per session. */
  ortThreads: number;
  /** Whether ONNX Runtime's idle intra-op threads spin-wait for work (fast when cores are free, ruinous when oversubscribed). */
  ortSpinning: boolean;
  /** ONNX Runtime execution providers in order of preference (EXECUTION_PROVIDERS); CPU is the last resort. */
  executionProviders: string[];
}

/** Open the model in every worker (see InferencePool.loadEverywhere) and warm it up. */
export interface LoadTask {
  type: 'load';
  model: WorkerModel;
  /** One input to warm the session up with. */
  sample: Payload;
  /** [arrived]: a barrier on shared memory that keeps each worker to one load task. */
  barrier: Int32Array;
  parties: number;
  barrierTimeoutMs: number;
}

export interface LoadResult {
  threadId: number;
  loadTimeMs: number;
  /** Growth of the worker process's resident memory while the session opened. */
  rssDeltaBytes: number;
  /** The batch dimension of the first graph input: a number when the model fixes it. */
  fixedBatchSize: number | null;
  /** Each session the model opened in this worker (the model's, or each stage's): the provider it got, and those skipped. */
  sessions: Array<{ session: string; provider: string; fallbacks: ProviderFallback[] }>;
}

/** Drop a model version's session (it was replaced or removed). */
export interface UnloadTask {
  type: 'unload';
  modelId: string;
  barrier: Int32Array;
  parties: number;
  barrierTimeoutMs: number;
}

/** Run one batch. */
export interface RunTask {
  type: 'run';
  model: WorkerModel;
  payloads: Payload[];
  /** For classifiers: whether any input of the batch needs the probabilities. */
  needs: ClassificationNeeds;
}

/** One result (or failure) per payload, the batch's worker phases, and the graph outputs it fetched. */
export type RunResult = BatchOutcome;

export type WorkerTask = LoadTask | UnloadTask | RunTask;

const MIN_TRANSFER_BYTES = 4096;

/** The buffers of typed arrays that can be moved rather than copied. */
export function transferablesOf(payloads: readonly Payload[]): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (view: ArrayBufferView) => {
    // Only a view that spans its whole buffer (moving a shared buffer would take memory away
    // from other views of it), and only a large one: copying a tabular row is cheaper than
    // detaching its buffer.
    if (view.byteLength < MIN_TRANSFER_BYTES) return;
    if (view.buffer instanceof ArrayBuffer && view.byteOffset === 0 && view.byteLength === view.buffer.byteLength) buffers.add(view.buffer);
  };
  for (const p of payloads) {
    if (p.kind === 'features') add(p.values);
    else if (p.kind === 'bytes') add(p.bytes);
    else if (p.kind === 'tensors') p.tensors.forEach((t) => add(t.data));
    // Not `pixels`: a line cut from a page may be wanted again after this batch (a page that
    // shares it, computed with the cache off), so it is copied, never detached.
  }
  return [...buffers];
}

export function resultTransferables(results: ReadonlyArray<WorkerAnswer | ItemFailure>): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const add = (view: ArrayBufferView) => {
    if (view.buffer instanceof ArrayBuffer) buffers.add(view.buffer);
  };
  for (const r of results) {
    if (r.kind === 'classification' && r.probabilities) add(r.probabilities);
    else if (r.kind === 'speechDetection') add(r.segments);
    else if (r.kind === 'tensor') r.outputs.forEach((t) => add(t.data));
    else if (r.kind === 'stageOutput') {
      for (const value of Object.values(r.values)) if (value.kind === 'regions') value.regions.forEach((region) => add(region.image.pixels));
    }
  }
  return [...buffers];
}
