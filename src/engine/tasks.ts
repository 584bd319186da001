/**
 * The messages between the main thread and the inference workers. Tensors travel as typed
 * arrays in Piscina's transfer list, so a batch's bytes are moved, never copied or turned to JSON.
 */

/** What a worker needs to open and run one model version. */
export interface ModelHandle {
  /** `name@version`: the key of the worker's session cache. */
  id: string;
  filePath: string;
  inputTensor: string;
  featureCount: number;
  probabilitiesOutput: string;
  labelCount: number;
}

export interface WorkerOptions {
  /** ONNX Runtime intra-op threads per session. */
  ortThreads: number;
}

/** Open the model in every worker (see InferencePool.loadEverywhere) and warm it up. */
export interface LoadTask {
  type: 'load';
  model: ModelHandle;
  /** One input row to warm the session up with. */
  sample: Float32Array;
  /** [arrived]: a barrier on shared memory that keeps each worker to one load task. */
  barrier: Int32Array;
  parties: number;
  barrierTimeoutMs: number;
}

export interface LoadResult {
  threadId: number;
  loadTimeMs: number;
}

/** Run one batch: `rows` inputs of `featureCount` floats each, row-major. */
export interface RunTask {
  type: 'run';
  model: ModelHandle;
  rows: number;
  features: Float32Array;
}

export interface RunResult {
  /** rows x labelCount probabilities, row-major. */
  probabilities: Float32Array;
  inferenceMs: number;
}

export type WorkerTask = LoadTask | RunTask;
