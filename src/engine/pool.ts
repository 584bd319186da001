/**
 * The inference worker pool: a fixed set of Piscina worker threads, each holding ONNX Runtime
 * sessions. Fixed, not elastic, because a model must be loaded in every worker before the server
 * is ready, and a thread that came and went would pay the load again on a request's time.
 */
import { Piscina } from 'piscina';
import type { LoadResult, LoadTask, ModelHandle, RunResult, RunTask, WorkerOptions, WorkerTask } from './tasks.ts';

export interface PoolOptions {
  workers: number;
  ortThreads: number;
}

const LOAD_BARRIER_TIMEOUT_MS = 120_000;

export class InferencePool {
  readonly size: number;
  /** Tasks sent to workers and not yet answered: with size, tells whether a worker is free. */
  busyWorkers = 0;
  private readonly piscina: Piscina<WorkerTask, RunResult | LoadResult>;

  constructor(options: PoolOptions) {
    this.size = options.workers;
    const workerData: WorkerOptions = { ortThreads: options.ortThreads };
    this.piscina = new Piscina({
      filename: new URL('./worker.ts', import.meta.url).href,
      minThreads: options.workers,
      maxThreads: options.workers,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData,
    });
  }

  /** Runs one batch of `rows` inputs on some worker; the features' buffer is moved, not copied. */
  async run(model: ModelHandle, rows: number, features: Float32Array): Promise<RunResult> {
    const task: RunTask = { type: 'run', model, rows, features };
    this.busyWorkers++;
    try {
      return (await this.piscina.run(task, { transferList: [features.buffer as ArrayBuffer] })) as RunResult;
    } finally {
      this.busyWorkers--;
    }
  }

  /**
   * Opens the model in every worker and warms it up with `sample`. Resolves with the slowest
   * worker's load time, since the model is ready only when every worker has it.
   */
  async loadEverywhere(model: ModelHandle, sample: Float32Array): Promise<number> {
    const barrier = new Int32Array(new SharedArrayBuffer(4));
    const tasks = Array.from({ length: this.size }, () => {
      const task: LoadTask = { type: 'load', model, sample, barrier, parties: this.size, barrierTimeoutMs: LOAD_BARRIER_TIMEOUT_MS };
      return this.piscina.run(task) as Promise<LoadResult>;
    });
    const results = await Promise.all(tasks);
    return Math.max(...results.map((r) => r.loadTimeMs));
  }

  async close(): Promise<void> {
    await this.piscina.destroy();
  }
}
