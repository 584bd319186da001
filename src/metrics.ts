/**
 * Prometheus metrics, scraped at GET /metrics. One registry per server instance, so two servers
 * in one process (as in tests) keep separate counts.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PhaseTimings } from './domain/types.ts';
import { Children, DeferredObservations, type Incrementer, type Observer } from './observability/deferred.ts';

const SECONDS_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class Metrics {
  readonly registry = new Registry();
  /**
   * What every request records (its phases, its cache lookups, its predictions), buffered as
   * numbers and handed to prom-client when the metrics are read: see src/observability/deferred.ts.
   */
  private readonly deferred = new DeferredObservations();
  private readonly flushDeferred = () => this.deferred.flush();

  readonly predictions = new Counter({
    name: 'predictql_predictions_total',
    help: 'Predictions answered, by model, outcome (ok or the error code) and whether they came from the cache',
    labelNames: ['model', 'outcome', 'cached'] as const,
    registers: [this.registry],
    collect: this.flushDeferred,
  });

  readonly batchSize = new Histogram({
    name: 'predictql_batch_size',
    help: 'Inputs per model batch sent to the inference workers',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  readonly requestPhaseSeconds = new Histogram({
    name: 'predictql_request_phase_seconds',
    help: 'Time of each phase of a GraphQL request, in seconds: httpBodyParse, graphqlParse, graphqlValidate, cacheLookup, queueWait, preprocess, inference, postprocess, cacheWrite, execution, serialization (prediction phases: the slowest input of the request)',
    labelNames: ['phase'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
    collect: this.flushDeferred,
  });

  readonly requestSeconds = new Histogram({
    name: 'predictql_request_seconds',
    help: 'Time of a whole GraphQL request, from its arrival to its answer being ready to send, in seconds',
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly outputsFetched = new Counter({
    name: 'predictql_outputs_fetched_total',
    help: 'Batches that asked ONNX Runtime for each graph output, by model and output (outputs no selected field needs are not fetched)',
    labelNames: ['model', 'output'] as const,
    registers: [this.registry],
  });

  readonly queueSeconds = new Histogram({
    name: 'predictql_queue_seconds',
    help: 'Time an input waited in its model queue before its batch went to a worker, in seconds',
    labelNames: ['model'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly phaseSeconds = new Histogram({
    name: 'predictql_batch_phase_seconds',
    help: 'Time of one batch in each worker phase (preprocess, inference, postprocess), in seconds',
    labelNames: ['model', 'phase'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly rejected = new Counter({
    name: 'predictql_rejected_total',
    help: 'Inputs refused before queueing, by model and reason (OVERLOADED)',
    labelNames: ['model', 'reason'] as const,
    registers: [this.registry],
  });

  readonly shed = new Counter({
    name: 'predictql_http_shed_total',
    help: 'GraphQL requests answered 503 OVERLOADED unread because the event loop was behind (MAX_EVENT_LOOP_DELAY_MS)',
    registers: [this.registry],
  });

  readonly queriesRefused = new Counter({
    name: 'predictql_queries_refused_total',
    help: 'Requests refused whole before execution, by the limit they broke (MAX_QUERY_BYTES, MAX_VARIABLES_DEPTH, MAX_VARIABLES_BYTES, MAX_BODY_JSON_VALUES, MAX_REQUEST_COST, MAX_QUERY_DEPTH, MAX_ALIASES, MAX_TOKENS, MAX_DIRECTIVES, MAX_BODY_BYTES, MAX_BODY_BYTES_IN_FLIGHT)',
    labelNames: ['limit'] as const,
    registers: [this.registry],
  });

  readonly connectionsDropped = new Counter({
    name: 'predictql_http_connections_dropped_total',
    help: 'Connections closed as they arrived because MAX_CONNECTIONS were open',
    registers: [this.registry],
  });

  readonly dropped = new Counter({
    name: 'predictql_dropped_total',
    help: 'Queued inputs dropped before they ran because every request waiting for them left, by reason (DEADLINE_EXCEEDED, CANCELLED)',
    labelNames: ['model', 'reason'] as const,
    registers: [this.registry],
  });

  readonly queueDepth = new Gauge({
    name: 'predictql_queue_depth',
    help: 'Inputs waiting in each model queue, by model and priority (interactive: predict, predictMany; background: prediction jobs)',
    labelNames: ['model', 'priority'] as const,
    registers: [this.registry],
  });

  readonly modelLoadSeconds = new Histogram({
    name: 'predictql_model_load_seconds',
    help: 'Time to open a model in every worker and warm it up, in seconds',
    labelNames: ['model'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly modelMemoryBytes = new Gauge({
    name: 'predictql_model_memory_bytes',
    help: 'Resident memory a model version added across the inference workers when it loaded',
    labelNames: ['model', 'version'] as const,
    registers: [this.registry],
  });

  readonly cacheLookups = new Counter({
    name: 'predictql_cache_lookups_total',
    help: 'Result cache lookups by model and result (hit_l1, hit_store, miss, collision: the entry belongs to another input, invalid: the entry is not an answer this model could give)',
    labelNames: ['model', 'result'] as const,
    registers: [this.registry],
    collect: this.flushDeferred,
  });

  readonly cacheErrors = new Counter({
    name: 'predictql_cache_errors_total',
    help: 'Result cache store operations that failed or timed out, by operation (read, write)',
    labelNames: ['operation'] as const,
    registers: [this.registry],
  });

  readonly stageSeconds = new Histogram({
    name: 'predictql_stage_seconds',
    help: "Time of each stage of a multi-stage model per input, in seconds, by model and stage (the manifest's stage names, and decode): worker stages' own time; a call stage's from its first item queued to its last answered",
    labelNames: ['model', 'stage'] as const,
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly stageItems = new Histogram({
    name: 'predictql_stage_items',
    help: 'Items in a list a stage of a multi-stage model passed on, per input, by model and value (the lines found on a page, up to its limit)',
    labelNames: ['model', 'value'] as const,
    buckets: [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000],
    registers: [this.registry],
  });

  readonly stageTruncated = new Counter({
    name: 'predictql_stage_truncated_total',
    help: "Inputs of a multi-stage model where a stage found more items than its limit and passed on only the first (a page with more lines than maxLines), by model and value",
    labelNames: ['model', 'value'] as const,
    registers: [this.registry],
  });

  readonly stageItemSources = new Counter({
    name: 'predictql_stage_item_sources_total',
    help: "Items a call stage handed to another model, by model, stage and source: cache (the called model's cache had it) or computed (queued in the called model's batches, or shared with an identical item in flight)",
    labelNames: ['model', 'stage', 'source'] as const,
    registers: [this.registry],
  });

  readonly jobInputs = new Counter({
    name: 'predictql_job_inputs_total',
    help: 'Outcomes of prediction job inputs this process stored, by model and outcome (ok or the error code); answers found in the cache count too. Each input is stored once, by whichever process answered it',
    labelNames: ['model', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly streamsOpen = new Gauge({
    name: 'predictql_streams_open',
    help: 'predictStream subscriptions open now, over graphql-ws and graphql-sse (at most MAX_STREAMS)',
    registers: [this.registry],
  });

  readonly streams = new Counter({
    name: 'predictql_streams_total',
    help: 'predictStream subscriptions by outcome: completed, left (the client unsubscribed or went away), too_slow (STREAM_TOO_SLOW), shutting_down, refused (TOO_MANY_STREAMS or shutting down)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly streamEvents = new Counter({
    name: 'predictql_stream_events_total',
    help: 'Events (one per input answered) handed to stream transports to send',
    registers: [this.registry],
  });

  readonly streamInputsDropped = new Counter({
    name: 'predictql_stream_inputs_dropped_total',
    help: 'Inputs of streams that ended before answering them, by how the stream ended (left, too_slow, shutting_down): never submitted, or dropped from the model queue unless another request waited for them',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly streamFirstEventSeconds = new Histogram({
    name: 'predictql_stream_first_event_seconds',
    help: 'Time from a stream opening to its first event taken by the transport, in seconds',
    buckets: SECONDS_BUCKETS,
    registers: [this.registry],
  });

  readonly streamSeconds = new Histogram({
    name: 'predictql_stream_seconds',
    help: 'How long streams stayed open, in seconds',
    buckets: [...SECONDS_BUCKETS, 10, 30, 60, 300],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'predictql_' });
  }

  /** Pool utilisation, read when Prometheus scrapes: workers, workers busy, batches waiting. */
  watchPool(size: number, busy: () => number, waiting: (priority: 'interactive' | 'background') => number): void {
    new Gauge({ name: 'predictql_pool_workers', help: 'Inference worker threads', registers: [this.registry], collect() { this.set(size); } });
    new Gauge({ name: 'predictql_pool_busy_workers', help: 'Inference workers running a batch now', registers: [this.registry], collect() { this.set(busy()); } });
    new Gauge({
      name: 'predictql_pool_waiting_batches',
      help: 'Batches waiting for a free worker, by priority (interactive; background: prediction jobs)',
      labelNames: ['priority'] as const,
      registers: [this.registry],
      collect() {
        for (const priority of ['interactive', 'background'] as const) this.set({ priority }, waiting(priority));
      },
    });
  }

  /** The HTTP front's connections and the request-body bytes it holds, read when Prometheus scrapes. */
  watchConnections(open: () => Promise<number>, bodyBytesInFlight: () => number): void {
    new Gauge({ name: 'predictql_http_connections', help: 'Open HTTP connections (bounded by MAX_CONNECTIONS)', registers: [this.registry], async collect() { this.set(await open()); } });
    new Gauge({ name: 'predictql_http_body_bytes_in_flight', help: 'Request-body bytes declared or read by requests not yet ended (bounded by MAX_BODY_BYTES_IN_FLIGHT)', registers: [this.registry], collect() { this.set(bodyBytesInFlight()); } });
  }

  private readonly phaseChildren = new Children<Observer>(([phase]) => this.requestPhaseSeconds.labels({ phase: phase! }));
  private readonly predictionChildren = new Children<Incrementer>(([model, outcome, cached]) => this.predictions.labels({ model: model!, outcome: outcome!, cached: cached! }));
  private readonly lookupChildren = new Children<Incrementer>(([model, result]) => this.cacheLookups.labels({ model: model!, result: result! }));

  /** One phase of a request, into predictql_request_phase_seconds (deferred). */
  observePhase(phase: string, seconds: number): void {
    this.deferred.observe(this.phaseChildren.get(phase), seconds);
  }

  /** One prediction answered, into predictql_predictions_total (deferred). */
  countPrediction(model: string, outcome: string, cached: boolean): void {
    this.deferred.inc(this.predictionChildren.get(model, outcome, cached ? 'true' : 'false'));
  }

  /** One cache lookup, into predictql_cache_lookups_total (deferred). */
  countCacheLookup(model: string, result: 'hit_l1' | 'hit_store' | 'miss' | 'collision' | 'invalid'): void {
    this.deferred.inc(this.lookupChildren.get(model, result));
  }

  /** Prediction jobs by state, read from the job store when Prometheus scrapes (with Redis: every instance's jobs). */
  watchJobs(count: () => Promise<Record<string, number>>): void {
    new Gauge({
      name: 'predictql_jobs',
      help: 'Prediction jobs in the job store by state (finished ones until JOBS_TTL_SECONDS removes them)',
      labelNames: ['state'] as const,
      registers: [this.registry],
      async collect() {
        // Bounded: a job store that cannot answer (Redis down) must not hold /metrics.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<Record<string, number>>((resolve) => (timer = setTimeout(() => resolve({}), 500)));
        const counts = await Promise.race([count().catch(() => ({})), timeout]);
        clearTimeout(timer);
        for (const [state, n] of Object.entries(counts)) this.set({ state }, n);
      },
    });
  }

  observeBatch(model: string, timings: PhaseTimings): void {
    this.phaseSeconds.observe({ model, phase: 'preprocess' }, timings.preprocessMs / 1000);
    this.phaseSeconds.observe({ model, phase: 'inference' }, timings.inferenceMs / 1000);
    this.phaseSeconds.observe({ model, phase: 'postprocess' }, timings.postprocessMs / 1000);
  }
}
