/**
 * One input to compute, shared by every request that asked for it while it was pending, so an
 * input already queued or running is computed once however many requests want it. Each request
 * joins with its own AbortSignal (deadline, client gone) and leaves on its own; a job that every
 * request has left is dropped before it runs.
 */
import { performance } from 'node:perf_hooks';
import { cancelled, CodedError } from '../domain/errors.ts';
import type { ClassificationNeeds, Payload, PhaseTimings, WorkerAnswer } from '../domain/types.ts';

export interface ComputedItem {
  result: WorkerAnswer;
  /** From entering the queue to its batch's dispatch. */
  queueMs: number;
  /** When its batch was sent to a worker (performance.now()), for the request's trace. */
  dispatchedAt: number;
  batchSize: number;
  /** The whole batch's phases inside the worker. */
  timings: PhaseTimings;
}

export class Job {
  readonly enqueuedAt = performance.now();
  private waiters = 0;
  /** Why the last waiter left, for the metrics of dropped jobs. */
  lastLeaveReason: unknown;
  private resolveFn!: (value: ComputedItem) => void;
  private rejectFn!: (error: unknown) => void;
  private readonly promise: Promise<ComputedItem>;

  constructor(
    readonly key: string,
    readonly payload: Payload,
    readonly needs: ClassificationNeeds,
  ) {
    this.promise = new Promise<ComputedItem>((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // Nobody may be waiting when it settles (every waiter left); that is not an unhandled error.
    this.promise.catch(() => undefined);
  }

  /** True when every request that wanted this job has gone. */
  get abandoned(): boolean {
    return this.waiters === 0;
  }

  succeed(value: ComputedItem): void {
    this.resolveFn(value);
  }

  fail(error: unknown): void {
    this.rejectFn(error);
  }

  /** Waits for the result on behalf of one request; rejects early when `signal` aborts. */
  join(signal?: AbortSignal): Promise<ComputedItem> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    this.waiters++;
    return new Promise<ComputedItem>((resolve, reject) => {
      let left = false;
      const leave = (): boolean => {
        if (left) return false;
        left = true;
        this.waiters--;
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = () => {
        if (!leave()) return;
        this.lastLeaveReason = abortReason(signal!);
        reject(this.lastLeaveReason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.promise.then(
        (value) => leave() && resolve(value),
        (error: unknown) => leave() && reject(error),
      );
    });
  }
}

/** Why a request left: the domain error it was aborted with (its deadline), or CANCELLED (the client went away). */
export function abortReason(signal: AbortSignal): unknown {
  return signal.reason instanceof CodedError ? signal.reason : cancelled();
}
