/**
 * The process-wide batcher of one model version. Every input that missed the cache, from every
 * concurrent request, is queued here; a DataLoader collects them into model batches of at most
 * maxBatchSize inputs, and the Dispatcher admits batches to the worker pool as workers free up.
 *
 * When a batch goes (the policy `bench/` measures; see bench/README.md):
 * - The model may start a batch now (a worker is free and the model is under its worker
 *   limit): at the end of the current tick (setImmediate), so a burst of resolvers lands in one
 *   batch and a lone request never waits for a window. A model whose manifest sets maxDelayMs
 *   waits that long instead while another of its batches is running, to build bigger batches.
 * - It may not: the batch joins the Dispatcher's queue at once and keeps filling there until a
 *   worker frees up. Under load, batches grow by themselves, with no timer.
 * - A full batch goes at once.
 *
 * The queue is bounded: past maxQueue waiting inputs, new ones are refused with OVERLOADED
 * instead of waiting without limit. A request's inputs are admitted as one unit (computeMany):
 * all of them when they fit under the bound, or, for a request larger than the bound, when
 * nothing of the model is queued or running (so such a predictMany runs on an idle model rather
 * than being refused for ever); none otherwise. They
 * are also refused at once when the work queued ahead of the request's last input (estimated
 * from the model's recent batches) would outlast its deadline: under overload the excess gets a
 * fast OVERLOADED instead of a slow DEADLINE_EXCEEDED, and what is accepted can still finish in
 * time. Inputs whose requests all left (deadline passed, client gone) are dropped before they run.
 *
 * A batcher has one priority (see dispatcher.ts): a model version has an interactive batcher, and
 * a background one once a prediction job runs on it, so a job's inputs never ride in an
 * interactive batch and are admitted only as interactive traffic leaves workers free.
 */
import DataLoader from 'dataloader';
import { codeOf, inferenceFailed, itemFailed, overloaded, overloadedForBatch, overloadedForDeadline, workerCrashed } from '../domain/errors.ts';
import type { BatchPolicy, ClassificationNeeds, Payload } from '../domain/types.ts';
import type { Metrics } from '../metrics.ts';
import type { Dispatcher, Priority } from './dispatcher.ts';
import { Job, type ComputedItem } from './job.ts';
import type { WorkerModel } from '../pipelines/handle.ts';
import { WorkerCrashedError, type InferencePool } from './pool.ts';

/** What the batcher needs of the worker pool: running a batch (a fake in unit tests). */
export type BatchRunner = Pick<InferencePool, 'run'>;

/** Batches the wait estimate averages over: enough to smooth noise, few enough to follow load. */
const RECENT_BATCHES = 16;

/**
 * The wait estimate is multiplied by this before it is compared with a deadline. Measured by
 * test/overload.test.ts at twice the sustainable rate: 1.0 let 20% of accepted requests miss a
 * 1 s deadline, 1.25 let 3.7% miss, 1.5 let 0.2% miss while still serving 94% of the sustainable
 * rate (the rest of the excess was refused in 6 ms at the median).
 */
const WAIT_HEADROOM = 1.5;

interface OpenBatch {
  dispatch: () => void;
  size: number;
  submitted: boolean;
  timer?: NodeJS.Timeout;
}

export class ModelBatcher {
  /** Jobs queued or running, by cache key: the in-flight dedup across requests. */
  private readonly pending = new Map<string, Job>();
  private queuedJobs = 0;
  private runningBatches = 0;
  private current: OpenBatch | null = null;
  /** Duration and size of the most recent batches, and their sums, for the wait estimate. */
  private readonly recent: Array<{ ms: number; size: number }> = [];
  private recentMs = 0;
  private recentSize = 0;
  private readonly loader: DataLoader<Job, null>;

  constructor(
    readonly modelName: string,
    private readonly handle: WorkerModel,
    readonly policy: BatchPolicy,
    private readonly pool: BatchRunner,
    private readonly dispatcher: Dispatcher,
    private readonly metrics: Metrics,
    readonly priority: Priority = 'interactive',
  ) {
    this.loader = new DataLoader((jobs) => this.runBatch(jobs), {
      cache: false,
      maxBatchSize: policy.maxBatchSize,
      batchScheduleFn: (dispatch) => this.open(dispatch),
    });
  }

  private idleWaiters: Array<() => void> = [];

  /** Resolves when no input of this model is queued or running (to retire a version). */
  idle(): Promise<void> {
    if (this.pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Inputs waiting for a batch to run. */
  get queueDepth(): number {
    return this.queuedJobs;
  }

  /**
   * Milliseconds until the last of `inputs` new inputs queued now has its answer: the inputs
   * ahead of it and its own batch, times the recent time per input, spread over the workers the
   * model may use, with WAIT_HEADROOM for the variance of batch times on busy cores. 0 when they
   * all go in the next batch with nothing queued ahead, or no batch has been measured yet.
   */
  estimatedWaitMs(inputs = 1): number {
    if (this.recentSize === 0 || (this.queuedJobs === 0 && inputs <= this.policy.maxBatchSize)) return 0;
    const work = this.queuedJobs + Math.max(inputs, this.policy.maxBatchSize);
    return (WAIT_HEADROOM * work * (this.recentMs / this.recentSize)) / this.policy.maxWorkers;
  }

  /** Computes one input: computeMany of one. */
  compute(inputKey: string, payload: Payload, needs: ClassificationNeeds, signal?: AbortSignal, deadlineAt?: number): Promise<ComputedItem> {
    return this.computeMany([{ key: inputKey, payload }], needs, signal, deadlineAt)[0]!;
  }

  /**
   * Computes the inputs of one request, each joining the computation of the same input already
   * pending. Admits them as a unit: throws OVERLOADED at once, with nothing queued, when they
   * would pass the queue bound (a request larger than the bound: unless the model is idle), or when the work queued ahead of the
   * last of them would take longer than is left until `deadlineAt` (a performance.now() time).
   */
  computeMany(inputs: ReadonlyArray<{ key: string; payload: Payload }>, needs: ClassificationNeeds, signal?: AbortSignal, deadlineAt?: number): Array<Promise<ComputedItem>> {
    // A label-only job cannot serve a request that needs the probabilities: keep them apart.
    const keys = inputs.map((input) => `${input.key}|${needs}`);
    const fresh = inputs.length === 1 ? (this.pending.has(keys[0]!) ? 0 : 1) : new Set(keys.filter((key) => !this.pending.has(key))).size;
    if (fresh > 0) this.admit(fresh, deadlineAt);
    return inputs.map((input, i) => this.enqueue(keys[i]!, input.payload, needs, signal));
  }

  /** Throws OVERLOADED when `fresh` new inputs may not be queued now; see the header. */
  private admit(fresh: number, deadlineAt: number | undefined): void {
    const { maxQueue } = this.policy;
    // Larger than the bound: only on an idle model (nothing queued or running), so one batch job
    // at a time holds the queue past its bound, and only while nobody else is waiting.
    if (fresh > maxQueue ? this.pending.size > 0 : this.queuedJobs + fresh > maxQueue) {
      this.metrics.rejected.inc({ model: this.modelName, reason: 'OVERLOADED' }, fresh);
      // One input over a full queue keeps the short message clients and dashboards know.
      throw fresh === 1 ? overloaded(this.modelName, maxQueue, 1) : overloadedForBatch(this.modelName, this.queuedJobs, this.pending.size - this.queuedJobs, fresh, maxQueue, 1);
    }
    if (deadlineAt !== undefined) {
      const waitMs = this.estimatedWaitMs(fresh);
      const leftMs = deadlineAt - performance.now();
      if (waitMs > leftMs) {
        this.metrics.rejected.inc({ model: this.modelName, reason: 'DEADLINE_UNREACHABLE' }, fresh);
        throw overloadedForDeadline(this.modelName, this.queuedJobs, waitMs, leftMs, fresh);
      }
    }
  }

  /** Queues one admitted input (or joins its pending job). */
  private enqueue(key: string, payload: Payload, needs: ClassificationNeeds, signal: AbortSignal | undefined): Promise<ComputedItem> {
    let job = this.pending.get(key);
    if (job) return job.join(signal);
    job = new Job(key, payload, needs);
    this.pending.set(key, job);
    this.queuedJobs++;
    void this.loader.load(job);
    // Join before the batch can be submitted: a full batch runs synchronously from here, and
    // a job nobody has joined counts as abandoned.
    const joined = job.join(signal);
    this.metrics.queueDepth.set({ model: this.modelName, priority: this.priority }, this.queuedJobs);
    // load() has opened a batch if none was open, so `current` holds this job.
    const batch = this.current!;
    if (++batch.size >= this.policy.maxBatchSize) this.submit(batch);
    return joined;
  }

  /** Keeps the last RECENT_BATCHES batches, with running sums: the estimate runs for every input. */
  private remember(batch: { ms: number; size: number }): void {
    this.recent.push(batch);
    this.recentMs += batch.ms;
    this.recentSize += batch.size;
    if (this.recent.length > RECENT_BATCHES) {
      const dropped = this.recent.shift()!;
      this.recentMs -= dropped.ms;
      this.recentSize -= dropped.size;
    }
  }

  private open(dispatch: () => void): void {
    let dispatched = false;
    const batch: OpenBatch = {
      // DataLoader would run a batch twice if asked twice; the batch may be submitted by its
      // timer, by filling up, or by the lone-request rule, whichever comes first.
      dispatch: () => {
        if (dispatched) return;
        dispatched = true;
        dispatch();
      },
      size: 0,
      submitted: false,
    };
    this.current = batch;
    if (!this.dispatcher.canStart(this.handle.id, this.policy.maxWorkers, this.priority)) this.submit(batch);
    else if (this.runningBatches > 0 && this.policy.maxDelayMs > 0) batch.timer = setTimeout(() => this.submit(batch), this.policy.maxDelayMs);
    else setImmediate(() => this.submit(batch));
  }

  private submit(batch: OpenBatch): void {
    if (batch.submitted) return;
    batch.submitted = true;
    clearTimeout(batch.timer);
    this.dispatcher.submit(this.handle.id, this.policy.maxWorkers, () => batch.dispatch(), this.priority);
  }

  private async runBatch(jobs: readonly Job[]): Promise<null[]> {
    this.queuedJobs -= jobs.length;
    const live: Job[] = [];
    for (const job of jobs) {
      if (!job.abandoned) {
        live.push(job);
        continue;
      }
      this.pending.delete(job.key);
      this.metrics.dropped.inc({ model: this.modelName, reason: codeOf(job.lastLeaveReason) });
      job.fail(job.lastLeaveReason);
    }
    if (live.length === 0) {
      this.dispatcher.release(this.handle.id, this.priority);
      return jobs.map(() => null);
    }

    this.runningBatches++;
    const dispatchedAt = performance.now();
    this.metrics.batchSize.observe({ model: this.modelName }, live.length);
    try {
      const needs = live.some((job) => job.needs === 'probabilities') ? 'probabilities' : 'label';
      const { results, timings, fetched } = await this.pool.run(this.handle, live.map((job) => job.payload), needs);
      this.metrics.observeBatch(this.modelName, timings);
      this.remember({ ms: performance.now() - dispatchedAt, size: live.length });
      for (const output of fetched) this.metrics.outputsFetched.inc({ model: this.modelName, output });
      live.forEach((job, i) => {
        const result = results[i]!;
        if (result.kind === 'failure') job.fail(itemFailed(result.code, result.message));
        else job.succeed({ result, queueMs: dispatchedAt - job.enqueuedAt, dispatchedAt, batchSize: live.length, timings });
      });
    } catch (error) {
      const message = (error as Error).message ?? String(error);
      const failure = error instanceof WorkerCrashedError ? workerCrashed(this.modelName, message) : inferenceFailed(this.modelName, message);
      for (const job of live) job.fail(failure);
    } finally {
      for (const job of live) {
        this.pending.delete(job.key);
        this.metrics.queueSeconds.observe({ model: this.modelName }, (dispatchedAt - job.enqueuedAt) / 1000);
      }
      this.runningBatches--;
      this.dispatcher.release(this.handle.id, this.priority);
      this.metrics.queueDepth.set({ model: this.modelName, priority: this.priority }, this.queuedJobs);
      if (this.pending.size === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
    return jobs.map(() => null);
  }
}
