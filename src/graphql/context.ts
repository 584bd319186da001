/** What every resolver of one GraphQL request can reach. */
import type { PredictionCache } from '../cache/prediction-cache.ts';
import type { PredictionJobs } from '../jobs/jobs.ts';
import type { ModelLifecycle } from '../models/lifecycle.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { RequestTimings } from '../observability/timings.ts';
import type { RequestPredictions } from '../predict/predictions.ts';

export interface RequestContext {
  registry: ModelRegistry;
  lifecycle: ModelLifecycle;
  cache: PredictionCache;
  predictions: RequestPredictions;
  /** Prediction jobs (the same for every request). */
  jobs: PredictionJobs;
  /** True when the request carried `Authorization: Bearer <ADMIN_TOKEN>` and a token is set. */
  isAdmin: boolean;
  /** The request's `x-request-id`, or one made up for it; in logs and the response header. */
  requestId: string;
  timings: RequestTimings;
  /** Set by the stream transports (graphql-ws, graphql-sse) for a subscription. */
  stream?: StreamTransport;
}

/** What a subscription's transport lets the stream do to its connection. */
export interface StreamTransport {
  /** Ends the client's connection: it stopped reading (STREAM_TOO_SLOW). */
  cutOff(error: Error): void;
  /** Logs an error no code was given to (the client gets a masked message). */
  logUnexpected(error: unknown): void;
}
