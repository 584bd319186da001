/**
 * The live panel's numbers: once a second, one shared sampler turns the server's own Prometheus
 * metrics into a point (requests/s, p50/p99 latency, batch sizes, queue depth, cache hit ratio,
 * worker utilisation, event-loop delay) and keeps the last few minutes of points in a ring.
 * Viewers read the ring; however many there are, the work is one tick a second. The sampler
 * starts with the first viewer and stops once nobody has looked for a while, so a server nobody
 * watches does no sampling at all.
 */
import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Histogram, Counter, Gauge } from 'prom-client';
import type { Metrics } from '../../metrics.ts';

export interface LivePoint {
  /** Milliseconds since the Unix epoch at the end of the interval. */
  t: number;
  /** GraphQL requests answered per second. */
  requestsPerSecond: number;
  /** Latency of the requests answered in the interval (from the histogram's buckets), or null if none. */
  p50Ms: number | null;
  p99Ms: number | null;
  /** Model batches run per second and their mean size (null when none ran). */
  batchesPerSecond: number;
  meanBatchSize: number | null;
  /** Inputs waiting in model queues now, plus batches waiting for a free worker. */
  queueDepth: number;
  /** Share of cache lookups answered from L1 or the store (null when there were none). */
  cacheHitRatio: number | null;
  /** Share of the workers' time spent on batches (pre-processing, inference, post-processing). */
  workerUtilisation: number;
  /** The event loop's delay over the interval: p99 and max, in milliseconds. */
  eventLoopP99Ms: number;
  eventLoopMaxMs: number;
}

export interface LiveSnapshot {
  intervalMs: number;
  workers: number;
  points: LivePoint[];
}

export interface LiveSources {
  metrics: Metrics;
  workers: number;
  /** Batches waiting for a free worker. */
  waitingBatches: () => number;
}

export interface LiveSamplerOptions {
  intervalMs?: number;
  /** Points kept: 300 at one a second is five minutes. */
  keep?: number;
  /** The sampler stops after this long without a reader. */
  idleStopMs?: number;
}

/** Cumulative counts read from the registry at one instant. */
interface Totals {
  at: number;
  requests: number;
  latencyBuckets: Map<number, number>;
  batches: number;
  batchInputs: number;
  workerSeconds: number;
  hits: number;
  lookups: number;
  /** Not cumulative: what waits at this instant. */
  queueDepth: number;
}

type ValuesOf = Awaited<ReturnType<Histogram['get']>>['values'];

async function values(metric: Histogram | Counter | Gauge): Promise<ValuesOf> {
  return (await metric.get()).values;
}

function sumOf(values: ValuesOf, name: string, where: (labels: Record<string, unknown>) => boolean = () => true): number {
  let total = 0;
  // A histogram's values name their series (_sum, _count, _bucket); a counter's and a gauge's do not.
  for (const v of values) if ((v.metricName ?? name) === name && where(v.labels)) total += v.value;
  return total;
}

/** The value below which `q` of the observations fall, interpolated inside its bucket. */
export function quantileFromBuckets(bucketCounts: Array<[number, number]>, q: number): number | null {
  const sorted = [...bucketCounts].sort((a, b) => a[0] - b[0]);
  const total = sorted.at(-1)?.[1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  let lowerBound = 0;
  let lowerCount = 0;
  for (const [bound, count] of sorted) {
    if (count >= rank) {
      if (!Number.isFinite(bound)) return lowerBound;
      const inBucket = count - lowerCount;
      return inBucket > 0 ? lowerBound + ((bound - lowerBound) * (rank - lowerCount)) / inBucket : bound;
    }
    lowerBound = bound;
    lowerCount = count;
  }
  return lowerBound;
}

export class LiveSampler {
  private readonly intervalMs: number;
  private readonly keep: number;
  private readonly idleStopMs: number;
  private readonly points: LivePoint[] = [];
  private timer: NodeJS.Timeout | undefined;
  private loopDelay: IntervalHistogram | undefined;
  private last: Totals | undefined;
  private lastRead = 0;
  private sampling = false;

  constructor(
    private readonly sources: LiveSources,
    options: LiveSamplerOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 1000;
    this.keep = options.keep ?? 300;
    this.idleStopMs = options.idleStopMs ?? 120_000;
  }

  /** The points after `since` (epoch ms); starts the sampler if it was asleep. */
  read(since = 0): LiveSnapshot {
    this.lastRead = performance.now();
    if (!this.timer) this.start();
    return { intervalMs: this.intervalMs, workers: this.sources.workers, points: this.points.filter((p) => p.t > since) };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.loopDelay?.disable();
    this.loopDelay = undefined;
    this.last = undefined;
  }

  private start(): void {
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    void this.totals().then((totals) => (this.last = totals));
    this.timer = setInterval(() => void this.tick(), this.intervalMs);
    // Sampling must never keep a process alive that is otherwise done.
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    if (performance.now() - this.lastRead > this.idleStopMs) {
      this.close();
      return;
    }
    if (this.sampling || !this.last) return;
    this.sampling = true;
    try {
      const now = await this.totals();
      const point = this.pointBetween(this.last, now);
      this.last = now;
      this.points.push(point);
      if (this.points.length > this.keep) this.points.splice(0, this.points.length - this.keep);
    } finally {
      this.sampling = false;
    }
  }

  private pointBetween(before: Totals, after: Totals): LivePoint {
    const seconds = Math.max((after.at - before.at) / 1000, 1e-3);
    const latency: Array<[number, number]> = [...after.latencyBuckets].map(([bound, count]) => [bound, count - (before.latencyBuckets.get(bound) ?? 0)]);
    const batches = after.batches - before.batches;
    const lookups = after.lookups - before.lookups;
    const loop = this.loopDelay;
    const toMs = (ns: number) => (Number.isFinite(ns) ? ns / 1e6 : 0);
    const point: LivePoint = {
      t: Date.now(),
      requestsPerSecond: (after.requests - before.requests) / seconds,
      p50Ms: nullableMs(quantileFromBuckets(latency, 0.5)),
      p99Ms: nullableMs(quantileFromBuckets(latency, 0.99)),
      batchesPerSecond: batches / seconds,
      meanBatchSize: batches > 0 ? (after.batchInputs - before.batchInputs) / batches : null,
      queueDepth: after.queueDepth,
      cacheHitRatio: lookups > 0 ? (after.hits - before.hits) / lookups : null,
      workerUtilisation: Math.min(1, (after.workerSeconds - before.workerSeconds) / (seconds * this.sources.workers)),
      eventLoopP99Ms: loop && loop.count > 0 ? toMs(loop.percentile(99)) : 0,
      eventLoopMaxMs: loop && loop.count > 0 ? toMs(loop.max) : 0,
    };
    loop?.reset();
    return point;
  }

  private async totals(): Promise<Totals> {
    const m = this.sources.metrics;
    const [request, batch, phases, lookups, queue] = await Promise.all([values(m.requestSeconds), values(m.batchSize), values(m.phaseSeconds), values(m.cacheLookups), values(m.queueDepth)]);
    const latencyBuckets = new Map<number, number>();
    for (const v of request) if (v.metricName === 'predictql_request_seconds_bucket') latencyBuckets.set(v.labels.le === '+Inf' ? Infinity : Number(v.labels.le), v.value);
    return {
      at: performance.now(),
      requests: sumOf(request, 'predictql_request_seconds_count'),
      latencyBuckets,
      batches: sumOf(batch, 'predictql_batch_size_count'),
      batchInputs: sumOf(batch, 'predictql_batch_size_sum'),
      workerSeconds: sumOf(phases, 'predictql_batch_phase_seconds_sum'),
      hits: sumOf(lookups, 'predictql_cache_lookups_total', (l) => l.result === 'hit_l1' || l.result === 'hit_store'),
      lookups: sumOf(lookups, 'predictql_cache_lookups_total'),
      queueDepth: sumOf(queue, 'predictql_queue_depth') + this.sources.waitingBatches(),
    };
  }
}

function nullableMs(seconds: number | null): number | null {
  return seconds === null ? null : seconds * 1000;
}
