/**
 * Admits batches to the worker pool: at most `capacity` at a time (one per worker), and at most
 * `limit` of one model at a time, oldest first across models.
 *
 * Batches that wait here instead of in Piscina's queue can still grow, and their inputs can
 * still be dropped when their deadline passes or their client leaves. The per-model limit is
 * what keeps a heavy model from taking every worker: with one worker more than the model may
 * use, a cheap model's batch always finds a free worker instead of queueing behind a batch of
 * the heavy one (Triton's answer to the same problem is a per-model instance count).
 *
 * Two priorities. `interactive` batches (predict, predictMany, streams) go first. `background`
 * batches (prediction jobs) take a worker only when no interactive batch waits, and never more
 * than `maxBackground` workers at once: the rest stay free for the next interactive batch, which
 * so never queues behind a job's batch that started while it was away.
 */
export type Priority = 'interactive' | 'background';

interface Waiting {
  model: string;
  limit: number;
  start: () => void;
}

export class Dispatcher {
  private running = 0;
  private runningBackground = 0;
  private readonly runningByModel = new Map<string, number>();
  private readonly waiting: Record<Priority, Waiting[]> = { interactive: [], background: [] };
  private idleWaiters: Array<() => void> = [];

  constructor(
    readonly capacity: number,
    /** Most background batches running at once (JOBS_MAX_WORKERS). */
    readonly maxBackground = capacity,
  ) {}

  /** True when a batch of `model` (limit `limit`) at `priority` would start at once. */
  canStart(model: string, limit: number, priority: Priority = 'interactive'): boolean {
    if (this.running >= this.capacity || (this.runningByModel.get(model) ?? 0) >= limit) return false;
    return priority === 'interactive' || (this.waiting.interactive.length === 0 && this.runningBackground < this.maxBackground);
  }

  /** Batches admitted and not yet finished. */
  get busy(): number {
    return this.running;
  }

  /** Batches waiting for a free worker (both priorities). */
  get queued(): number {
    return this.waiting.interactive.length + this.waiting.background.length;
  }

  /** Batches of one priority waiting for a free worker. */
  queuedAt(priority: Priority): number {
    return this.waiting[priority].length;
  }

  /** Calls `start` once a slot is free (at once if one is); `start` must lead to one release(model, priority). */
  submit(model: string, limit: number, start: () => void, priority: Priority = 'interactive'): void {
    if (this.canStart(model, limit, priority)) this.begin(model, start, priority);
    else this.waiting[priority].push({ model, limit, start });
  }

  /** A batch of `model` finished: its slot goes to the oldest waiting batch that may use it, interactive ones first. */
  release(model: string, priority: Priority = 'interactive'): void {
    this.running--;
    if (priority === 'background') this.runningBackground--;
    this.runningByModel.set(model, (this.runningByModel.get(model) ?? 1) - 1);
    // Several slots may be free (a background batch ended while the background limit held others back).
    for (;;) {
      const next = this.takeNext();
      if (!next) break;
      this.begin(next.waiting.model, next.waiting.start, next.priority);
    }
    if (this.running === 0 && this.queued === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  /**
   * Resolves when no batch is running or waiting. Shutdown waits for this before stopping the
   * workers: a worker terminated inside session.run takes the whole process down with it
   * (onnxruntime-node throws a C++ exception into a dying thread).
   */
  idle(): Promise<void> {
    if (this.running === 0 && this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private takeNext(): { waiting: Waiting; priority: Priority } | undefined {
    for (const priority of ['interactive', 'background'] as const) {
      const queue = this.waiting[priority];
      const i = queue.findIndex((w) => this.canStart(w.model, w.limit, priority));
      if (i !== -1) return { waiting: queue.splice(i, 1)[0]!, priority };
    }
    return undefined;
  }

  private begin(model: string, start: () => void, priority: Priority): void {
    this.running++;
    if (priority === 'background') this.runningBackground++;
    this.runningByModel.set(model, (this.runningByModel.get(model) ?? 0) + 1);
    start();
  }
}
