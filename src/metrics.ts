/**
 * Prometheus metrics, scraped at GET /metrics. One registry per server instance, so two servers
 * in one process (as in tests) keep separate counts.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export class Metrics {
  readonly registry = new Registry();

  readonly predictions = new Counter({
    name: 'predictql_predictions_total',
    help: 'Predictions answered, by model, outcome (ok or the error code) and whether they came from the cache',
    labelNames: ['model', 'outcome', 'cached'] as const,
    registers: [this.registry],
  });

  readonly batchSize = new Histogram({
    name: 'predictql_batch_size',
    help: 'Inputs per model batch sent to the inference workers',
    labelNames: ['model'] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  readonly inferenceSeconds = new Histogram({
    name: 'predictql_inference_seconds',
    help: 'Time of one batch inside ONNX Runtime (session.run), in seconds',
    labelNames: ['model'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });

  readonly modelLoadSeconds = new Histogram({
    name: 'predictql_model_load_seconds',
    help: 'Time to open a model in every worker and warm it up, in seconds',
    labelNames: ['model'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'predictql_' });
  }
}
