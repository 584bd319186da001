/**
 * OpenTelemetry traces of GraphQL requests, exported over OTLP/HTTP (JSON) when an endpoint is
 * configured (OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); without one,
 * createTracing returns undefined and nothing of OpenTelemetry is created.
 *
 * A request's spans are made after its response has gone, from what RequestTimings and its
 * PhaseTrace measured, with explicit start and end times: the hot path never calls into the SDK,
 * and needs no context manager. The server span continues the caller's W3C `traceparent`:
 *
 *   POST /graphql (server)
 *   ├─ http.body_parse, graphql.parse, graphql.validate, serialization
 *   └─ graphql.execute
 *      └─ cache.lookup, queue.wait, preprocess, inference, postprocess, cache.write (per model batch)
 *
 * Framework-free: the HTTP front calls `endRequest` when a response finishes.
 */
import { performance } from 'node:perf_hooks';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Context, type Span, type Tracer } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, TracerProvider } from '@opentelemetry/sdk-trace';
import { PhaseTrace, type TracedInterval } from './phase-trace.ts';
import { RequestTimings } from './timings.ts';

export interface TracingOptions {
  /** OTEL_EXPORTER_OTLP_ENDPOINT: the collector's base URL; traces go to `<it>/v1/traces`. */
  endpoint?: string;
  /** OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: the full URL for traces, used as it is. */
  tracesEndpoint?: string;
  /** OTEL_SERVICE_NAME. */
  serviceName: string;
  /** OTEL_BSP_SCHEDULE_DELAY: longest wait before a batch of finished spans is sent. */
  scheduleDelayMs: number;
  /** OTEL_TRACES_SAMPLER_ARG: the share of root requests traced (parent-based: a caller's decision is followed). Default 1. */
  sampleRatio?: number;
}

/** What the HTTP front knows of a finished request. */
export interface FinishedRequest {
  method: string;
  /** The route, e.g. /graphql (low cardinality: no query string). */
  route: string;
  status: number;
  /** The request's `traceparent` (and `tracestate`) headers, if it had them. */
  traceparent?: string | string[];
  tracestate?: string | string[];
  requestId?: string;
}

/** The span name of each phase RequestTimings measures. */
const SPAN_NAMES: Record<string, string> = {
  httpBodyParse: 'http.body_parse',
  graphqlParse: 'graphql.parse',
  graphqlValidate: 'graphql.validate',
  execution: 'graphql.execute',
  serialization: 'serialization',
  cacheLookup: 'cache.lookup',
  queueWait: 'queue.wait',
  preprocess: 'preprocess',
  inference: 'inference',
  postprocess: 'postprocess',
  cacheWrite: 'cache.write',
};

const propagator = new W3CTraceContextPropagator();
const headerGetter = {
  keys: (carrier: Record<string, string | string[] | undefined>) => Object.keys(carrier),
  get: (carrier: Record<string, string | string[] | undefined>, key: string) => carrier[key],
};

export class Tracing {
  private readonly provider: TracerProvider;
  private readonly tracer: Tracer;
  readonly url: string;

  constructor(options: TracingOptions) {
    this.url = options.tracesEndpoint ?? `${options.endpoint!.replace(/\/+$/, '')}/v1/traces`;
    // The exporter still reads OTEL_EXPORTER_OTLP_HEADERS and the other standard variables itself.
    const exporter = new OTLPTraceExporter({ url: this.url });
    this.provider = new TracerProvider({
      resource: resourceFromAttributes({ 'service.name': options.serviceName }),
      spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: options.scheduleDelayMs })],
      sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(options.sampleRatio ?? 1) }),
    });
    this.tracer = this.provider.getTracer('predictql');
  }

  /** Timings for a new request, with the PhaseTrace its spans are made from. */
  requestTimings(): RequestTimings {
    return new RequestTimings(new PhaseTrace());
  }

  /** Makes the request's spans, from its start (timings.startedAt) to now. */
  endRequest(timings: RequestTimings, request: FinishedRequest): void {
    const phases = timings.trace;
    if (!phases) return;
    const end = performance.now();
    const carrier: Record<string, string | string[] | undefined> = { traceparent: request.traceparent, tracestate: request.tracestate };
    const parent = request.traceparent ? propagator.extract(ROOT_CONTEXT, carrier, headerGetter) : ROOT_CONTEXT;
    const server = this.tracer.startSpan(
      `${request.method} ${request.route}`,
      {
        kind: SpanKind.SERVER,
        startTime: epoch(timings.startedAt),
        attributes: {
          'http.request.method': request.method,
          'http.route': request.route,
          'http.response.status_code': request.status,
          ...(request.requestId ? { 'predictql.request_id': request.requestId } : {}),
          ...(phases.dropped > 0 ? { 'predictql.phases_dropped': phases.dropped } : {}),
        },
      },
      parent,
    );
    // Not sampled: the server span records nothing, and neither would its children.
    if (!server.isRecording()) return;
    if (request.status >= 500) server.setStatus({ code: SpanStatusCode.ERROR });
    const underServer = trace.setSpan(parent, server);
    // Execution spans first: the prediction phases hang under the one whose time holds them.
    const executions: Array<{ interval: TracedInterval; context: Context }> = [];
    for (const interval of phases.intervals) {
      if (interval.name !== 'execution') continue;
      const span = this.child(interval, underServer);
      executions.push({ interval, context: trace.setSpan(underServer, span) });
      span.end(epoch(interval.end));
    }
    for (const interval of phases.intervals) {
      if (interval.name === 'execution') continue;
      const context = interval.parent === 'execution' ? (executions.find((e) => e.interval.start <= interval.start && interval.start <= e.interval.end) ?? executions[0])?.context ?? underServer : underServer;
      this.child(interval, context).end(epoch(interval.end));
    }
    server.end(epoch(end));
  }

  private child(interval: TracedInterval, context: Context): Span {
    return this.tracer.startSpan(
      SPAN_NAMES[interval.name] ?? interval.name,
      { kind: SpanKind.INTERNAL, startTime: epoch(interval.start), attributes: { 'predictql.phase': interval.name, ...interval.attributes } },
      context,
    );
  }

  /** Sends the spans still buffered, then stops. */
  async close(): Promise<void> {
    await this.provider.shutdown();
  }
}

/** A Tracing when an OTLP endpoint is configured; otherwise undefined, and tracing costs nothing. */
export function createTracing(options: TracingOptions): Tracing | undefined {
  return options.endpoint || options.tracesEndpoint ? new Tracing(options) : undefined;
}

/** A performance.now() time as milliseconds since the epoch, which is what OpenTelemetry takes. */
function epoch(time: number): number {
  return performance.timeOrigin + time;
}
