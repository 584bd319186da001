/**
 * Admits batches to the worker pool: at most `capacity` at a time (one per worker), and at most
 * `limit` of one model at a time, oldest first across models.
 *
 * Batches that wait here instead of in Piscina's queue can still grow, and their inputs can
 * still be dropped when their deadline passes or their client leaves. The per-model limit is
 * what keeps a heavy model from taking every worker: with one worker more than the model may
 * use, a cheap model's batch always finds a free worker instead of queueing behind a batch of
 * the heavy one (Triton's answer to the same problem is a per-model instance count).
 */
interface Waiting {
  model: string;
  limit: number;
  start: () => void;
}

export class Dispatcher {
  private running = 0;
  private readonly runningByModel = new Map<string, number>();
  private readonly waiting: Waiting[] = [];
  private idleWaiters: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  /** True when a batch of `model` (limit `limit`) would start at once. */
  canStart(model: string, limit: number): boolean {
    return this.running < this.capacity && (this.runningByModel.get(model) ?? 0) < limit;
  }

  /** Batches admitted and not yet finished. */
  get busy(): number {
    return this.running;
  }

  /** Batches waiting for a free worker. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Calls `start` once a slot is free (at once if one is); `start` must lead to one release(model). */
  submit(model: string, limit: number, start: () => void): void {
    if (this.canStart(model, limit)) this.begin(model, start);
    else this.waiting.push({ model, limit, start });
  }

  /** A batch of `model` finished: its slot goes to the oldest waiting batch that may use it. */
  release(model: string): void {
    this.running--;
    this.runningByModel.set(model, (this.runningByModel.get(model) ?? 1) - 1);
    const next = this.waiting.findIndex((w) => this.canStart(w.model, w.limit));
    if (next !== -1) {
      const [waiting] = this.waiting.splice(next, 1);
      this.begin(waiting!.model, waiting!.start);
    }
    if (this.running === 0 && this.waiting.length === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * Resolves when no batch is running or waiting. Shutdown waits for this before stopping the
   * workers: a worker terminated inside session.run takes the whole process down with it
   * (onnxruntime-node throws a C++ exception into a dying thread).
   */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private begin(model: string, start: () => void): void {
    this.running++;
    this.runningByModel.set(model, (this.runningByModel.get(model) ?? 0) + 1);
    start();
  }
}
