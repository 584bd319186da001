/**
 * The inference worker pool: a fixed set of Piscina worker threads, each holding ONNX Runtime
 * sessions. Fixed, not elastic, because a model is opened in every worker before the server is
 * ready, and a thread that came and went would pay that load again on a request's time.
 *
 * A worker that dies (a native abort, an exit) fails only the batch it was running: Piscina
 * starts a replacement, which opens sessions again on its first batch of each model.
 */
import { EventEmitter } from 'node:events';
import { Piscina } from 'piscina';
import type { ClassificationNeeds, Payload } from '../domain/types.ts';
import type { WorkerModel } from '../pipelines/handle.ts';
import {
  transferablesOf,
  type LoadResult,
  type LoadTask,
  type RunResult,
  type RunTask,
  type UnloadTask,
  type WorkerOptions,
  type WorkerTask,
} from './tasks.ts';

export interface PoolOptions {
  workers: number;
  ortThreads: number;
  ortSpinning: boolean;
  /** ONNX Runtime execution providers in order of preference; CPU is always the last resort. */
  executionProviders: string[];
  /** Added to the workers' nice value, so the event loop wins the CPU over inference. */
  niceIncrement: number;
  /**
   * Each worker's JS heap limit. A worker that exceeds it (a pathological input blowing up its
   * pre-processing) is stopped by Node and replaced; only its batch fails, not the process.
   */
  heapMb: number;
}

export interface ModelLoadReport {
  /** The slowest worker's open + warm-up time: the model is ready only when every worker has it. */
  loadTimeMs: number;
  /** Resident memory the model added, summed over the workers. */
  memoryBytes: number;
  /** The batch size the graph's input fixes, or null when it is dynamic. */
  fixedBatchSize: number | null;
  /** The provider each session got and the ones it skipped, as the first worker reports them (every worker tries the same list). */
  sessions: LoadResult['sessions'];
}

/** A worker died while running a batch. */
export class WorkerCrashedError extends Error {
  override name = 'WorkerCrashedError';
}

const BROADCAST_TIMEOUT_MS = 300_000;

export class InferencePool extends EventEmitter {
  readonly size: number;
  private readonly piscina: Piscina<WorkerTask, RunResult | LoadResult | void>;
  /** Broadcasts run one at a time: two interleaved ones could each hold half the workers at their barrier. */
  private broadcasts: Promise<unknown> = Promise.resolve();

  constructor(options: PoolOptions) {
    super();
    this.size = options.workers;
    const workerData: WorkerOptions = { ortThreads: options.ortThreads, ortSpinning: options.ortSpinning, executionProviders: options.executionProviders };
    this.piscina = new Piscina({
      filename: new URL('./worker.ts', import.meta.url).href,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      resourceLimits: { maxOldGenerationSizeMb: options.heapMb },
      niceIncrement: options.niceIncrement,
      workerData,
    });
    // Piscina reports a worker that fails while idle as an 'error' event; unheard, it would end
    // the process. The pool replaces the worker either way.
    this.piscina.on('error', (error: Error) => this.emit('workerError', error));
  }

  /** The worker threads, for tests that need to stop one. */
  get threads() {
    return this.piscina.threads;
  }

  /** Runs one batch on some worker. Payload buffers are moved to the worker, not copied. */
  async run(model: WorkerModel, payloads: Payload[], needs: ClassificationNeeds): Promise<RunResult> {
    const task: RunTask = { type: 'run', model, payloads, needs };
    try {
      return (await this.piscina.run(task, { transferList: transferablesOf(payloads) })) as RunResult;
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      if (/worker exited|Terminating worker|memory limit/i.test(message)) throw new WorkerCrashedError(`the inference worker stopped while running this batch (${message})`);
      throw error;
    }
  }

  /** Opens the model in every worker and warms it up with `sample`. */
  async loadEverywhere(model: WorkerModel, sample: Payload): Promise<ModelLoadReport> {
    const results = (await this.broadcast((barrier) => ({ type: 'load', model, sample, barrier, parties: this.size, barrierTimeoutMs: BROADCAST_TIMEOUT_MS }) satisfies LoadTask)) as LoadResult[];
    return {
      loadTimeMs: Math.max(...results.map((r) => r.loadTimeMs)),
      memoryBytes: results.reduce((sum, r) => sum + r.rssDeltaBytes, 0),
      fixedBatchSize: results[0]?.fixedBatchSize ?? null,
      sessions: results[0]?.sessions ?? [],
    };
  }

  /** Closes the model version's session in every worker. */
  async unloadEverywhere(modelId: string): Promise<void> {
    await this.broadcast((barrier) => ({ type: 'unload', modelId, barrier, parties: this.size, barrierTimeoutMs: BROADCAST_TIMEOUT_MS }) satisfies UnloadTask);
  }

  /**
   * Sends one task to each worker. The tasks meet at a barrier in shared memory inside the
   * worker, so no worker can take two of them: N tasks land on N workers.
   */
  private broadcast(makeTask: (barrier: Int32Array) => WorkerTask): Promise<unknown[]> {
    const run = () => {
      const barrier = new Int32Array(new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT));
      return Promise.all(Array.from({ length: this.size }, () => this.piscina.run(makeTask(barrier))));
    };
    const result = this.broadcasts.then(run, run);
    this.broadcasts = result.catch(() => undefined);
    return result;
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
