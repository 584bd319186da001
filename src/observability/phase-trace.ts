/**
 * The intervals of one request's phases, kept only while tracing is on (OTEL_EXPORTER_OTLP_ENDPOINT
 * set): RequestTimings already measures every phase, and with a PhaseTrace beside it also notes
 * when each one started and ended. The spans are made from these after the response has gone
 * (src/observability/tracing.ts), so the request's own path never calls into OpenTelemetry, and
 * with tracing off it pays one `undefined` check per phase.
 *
 * Times are performance.now() values. This module knows nothing of OpenTelemetry.
 */
import type { PhaseTimings } from '../domain/types.ts';

/** Where a phase hangs in the trace: under the HTTP request, or under GraphQL execution. */
export type PhaseParent = 'request' | 'execution';

export interface TracedInterval {
  name: string;
  parent: PhaseParent;
  start: number;
  end: number;
  attributes?: Record<string, string | number>;
}

/** A worker batch an input ran in, as the batcher reports it. */
export interface BatchRun {
  /** From the input entering its model's queue to its batch's dispatch. */
  queueMs: number;
  /** The whole batch's phases inside the worker (sums over its chunks). */
  timings: PhaseTimings;
  /** When the batch was sent to a worker (performance.now()); absent: laid out back from now. */
  dispatchedAt?: number;
  batchSize?: number;
}

/** Enough for any sane request; a predictMany of thousands of inputs keeps its first batches and counts the rest. */
export const MAX_INTERVALS = 256;

const PREDICTION_PHASES = new Set(['cacheLookup', 'queueWait', 'preprocess', 'inference', 'postprocess', 'cacheWrite']);

export class PhaseTrace {
  readonly intervals: TracedInterval[] = [];
  /** Intervals not kept past MAX_INTERVALS. */
  dropped = 0;
  /** Batches already noted: the inputs of one batch share its PhaseTimings object. */
  private readonly batches = new WeakSet<PhaseTimings>();

  /** A phase that just ended after `ms` milliseconds. */
  ended(name: string, ms: number, now: number, attributes?: Record<string, string | number>): void {
    this.record({ name, parent: PREDICTION_PHASES.has(name) ? 'execution' : 'request', start: now - ms, end: now, attributes });
  }

  /**
   * A worker batch's phases, once per batch however many of the request's inputs it held: the
   * queue wait of the first of them, then pre-processing, inference and post-processing laid end
   * to end from the dispatch (the worker measures their sums over the batch's chunks, not each
   * chunk's start).
   */
  batch(run: BatchRun, now: number, model: string): void {
    if (this.batches.has(run.timings)) return;
    this.batches.add(run.timings);
    const { preprocessMs, inferenceMs, postprocessMs } = run.timings;
    const dispatchedAt = run.dispatchedAt ?? now - preprocessMs - inferenceMs - postprocessMs;
    const attributes: Record<string, string | number> = { 'predictql.model': model };
    if (run.batchSize !== undefined) attributes['predictql.batch_size'] = run.batchSize;
    this.record({ name: 'queueWait', parent: 'execution', start: dispatchedAt - run.queueMs, end: dispatchedAt, attributes });
    let at = dispatchedAt;
    for (const [name, ms] of [['preprocess', preprocessMs], ['inference', inferenceMs], ['postprocess', postprocessMs]] as const) {
      this.record({ name, parent: 'execution', start: at, end: at + ms, attributes });
      at += ms;
    }
  }

  private record(interval: TracedInterval): void {
    if (this.intervals.length >= MAX_INTERVALS) {
      this.dropped++;
      return;
    }
    this.intervals.push(interval);
  }
}
