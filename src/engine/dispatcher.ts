/**
 * Admits batches to the worker pool, at most `capacity` at a time (one per worker), oldest first
 * across every model. Batches that wait here instead of in Piscina's queue can still grow, and
 * their inputs can still be dropped when their deadline passes or their client leaves.
 */
export class Dispatcher {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly capacity: number) {}

  get hasFreeSlot(): boolean {
    return this.running < this.capacity;
  }

  /** Batches admitted and not yet finished. */
  get busy(): number {
    return this.running;
  }

  /** Batches waiting for a free worker. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Calls `start` once a slot is free (at once if one is); `start` must lead to one release(). */
  submit(start: () => void): void {
    if (this.running < this.capacity) {
      this.running++;
      start();
    } else {
      this.waiting.push(start);
    }
  }

  /** A batch finished: its slot goes to the oldest waiting batch, if any. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.running--;
    if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private idleWaiters: Array<() => void> = [];

  /**
   * Resolves when no batch is running or waiting. Shutdown waits for this before stopping the
   * workers: a worker terminated inside session.run takes the whole process down with it
   * (onnxruntime-node throws a C++ exception into a dying thread).
   */
  idle(): Promise<void> {
    if (this.running === 0 && this.waiting.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}
