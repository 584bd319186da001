/**
 * Assembles a PredictQL server from its parts and runs it:
 *   model repository -> registry, worker pool, result cache -> GraphQL (Apollo on Fastify).
 * The HTTP port opens before the models finish loading, so /healthz answers at once and /readyz
 * tells an orchestrator when to send traffic.
 */
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { makeExecutableSchema } from '@graphql-tools/schema';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import type { Logger } from 'pino';
import { PredictionCache } from './cache/prediction-cache.ts';
import { PersistedQueryCache } from './cache/persisted-queries.ts';
import { createCacheStore } from './cache/stores.ts';
import type { Config } from './config.ts';
import { Dispatcher } from './engine/dispatcher.ts';
import { InferencePool } from './engine/pool.ts';
import type { RequestContext } from './graphql/context.ts';
import { formatErrorWith } from './graphql/format-error.ts';
import { costLimitPlugin } from './graphql/plugins/cost-limit.ts';
import { subscriptionsElsewherePlugin } from './graphql/plugins/subscriptions-elsewhere.ts';
import { requestLimitsPlugin } from './graphql/plugins/request-limits.ts';
import { boundedDocumentStore } from './graphql/document-store.ts';
import { errorLogPlugin } from './graphql/plugins/error-log.ts';
import { disposePlugin } from './graphql/plugins/dispose.ts';
import { timingsPlugin } from './graphql/plugins/timings.ts';
import { resolvers } from './graphql/resolvers.ts';
import { loadTypeDefs } from './graphql/type-defs.ts';
import { isAdminRequest } from './http/admin-token.ts';
import { createFront } from './http/app.ts';
import { BodyBudget } from './http/body-budget.ts';
import { graphqlRoutes } from './http/routes/graphql.ts';
import { healthRoutes } from './http/routes/health.ts';
import { LiveSampler } from './http/front/live-sampler.ts';
import { frontPageRoutes } from './http/routes/front.ts';
import { metricsRoutes, metricsSource } from './http/routes/metrics.ts';
import { playgroundAssetRoutes, playgroundPageFor } from './http/routes/playground.ts';
import { streamRoutes } from './http/routes/stream.ts';
import { Metrics } from './metrics.ts';
import { listenForMetrics, metricsEndpoint } from './http/metrics-endpoint.ts';
import { createTracing } from './observability/tracing.ts';
import { ModelLifecycle } from './models/lifecycle.ts';
import { ModelRegistry } from './models/registry.ts';
import { readRepository } from './models/repository.ts';
import { modelDefaults } from './models/settings.ts';
import { Predictions, type RequestPredictions } from './predict/predictions.ts';
import { createJobBackend } from './jobs/create.ts';
import { PredictionJobs } from './jobs/jobs.ts';
import { StreamOperations } from './http/streams/operations.ts';
import { serveGraphQLSse } from './http/streams/sse.ts';
import { serveGraphQLWs } from './http/streams/ws.ts';

export interface RunningServer {
  url: string;
  port: number;
  /** Where /metrics is served when METRICS_PORT is set (its own listener); else undefined: on the main port. */
  metricsUrl?: string;
  /** The inference pool, for diagnostics and for tests that stop a worker. */
  pool: InferencePool;
  /** Prediction jobs, for tests that subscribe to a job's progress in-process. */
  jobs: PredictionJobs;
  /** Resolves once every model is loaded in every worker; rejects if one fails to load. */
  ready: Promise<void>;
  /** Stops accepting, lets in-flight requests finish, then frees workers and the cache. */
  close(): Promise<void>;
}

export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const defaults = modelDefaults(config);
  const models = await readRepository(config.modelsDir, defaults);
  const metrics = new Metrics();
  const cacheStore = createCacheStore(config.cacheUrl, {
    maxBytes: config.cacheMaxBytes,
    sweepIntervalMs: config.cacheSweepIntervalMs,
    maxPersistedQueries: config.apqMaxEntries,
    commandTimeoutMs: config.cacheTimeoutMs,
  });
  const cache = new PredictionCache(cacheStore, { l1MaxBytes: config.l1MaxBytes, timeoutMs: config.cacheTimeoutMs }, metrics, logger);
  const pool = new InferencePool({ workers: config.workers, ortThreads: config.ortThreads, ortSpinning: config.ortSpinning, executionProviders: config.executionProviders, niceIncrement: config.workerNice, heapMb: config.workerHeapMb });
  pool.on('workerError', (error: Error) => logger.error({ err: error }, 'an idle inference worker failed; it was replaced'));
  const dispatcher = new Dispatcher(pool.size, config.jobsMaxWorkers);
  metrics.watchPool(pool.size, () => dispatcher.busy, (priority) => dispatcher.queuedAt(priority));
  const lifecycle = new ModelLifecycle(config.modelsDir, defaults, pool, metrics, logger, (model) => predictions.drain(model));
  const registry = new ModelRegistry(models, (model) => lifecycle.load(model));
  // Undefined without an OTLP endpoint: then no request creates anything for tracing.
  const tracing = createTracing({ endpoint: config.otelEndpoint, tracesEndpoint: config.otelTracesEndpoint, serviceName: config.otelServiceName, scheduleDelayMs: config.otelScheduleDelayMs, sampleRatio: config.otelSampleRatio });
  const predictions = new Predictions(registry, pool, dispatcher, cache, metrics, {
    deadlineMs: config.deadlineMs,
    streams: { maxStreams: config.maxStreams, bufferEvents: config.streamBufferEvents, stallMs: config.streamStallMs },
  });
  // One chunk more than the workers jobs may use, so the next chunk's batch is queued when one ends.
  const jobBackend = createJobBackend(config.cacheUrl, { ttlSeconds: config.jobsTtlSeconds, concurrency: config.jobsMaxWorkers + 1, onError: (err) => logger.error({ err }, 'prediction job chunk failed; it is retried') });
  for (const warning of jobBackend.warnings) logger.warn(warning);
  const jobs = new PredictionJobs(jobBackend.store, jobBackend.queue, predictions, registry, metrics, { maxInputs: config.jobsMaxInputs, maxActive: config.jobsMaxActive, ttlSeconds: config.jobsTtlSeconds }, (err, context) => logger.error({ err }, context));

  // The byte scan before JSON.parse (json-body.ts), for POST /graphql and the stream transports alike.
  const jsonLimits = { maxValues: config.maxBodyJsonValues, maxVariablesDepth: config.maxVariablesDepth };
  const front = await createFront({
    logger,
    metrics,
    maxBodyBytes: config.maxBodyBytes,
    debugErrors: config.debugErrors,
    cors: { origins: config.corsOrigins, credentials: config.corsCredentials },
    connections: {
      maxConnections: config.maxConnections,
      headersTimeoutMs: config.headersTimeoutMs,
      requestTimeoutMs: config.requestTimeoutMs,
      sendTimeoutMs: config.sendTimeoutMs,
      keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    },
  });
  const bodyBudget = new BodyBudget(config.maxBodyBytesInFlight);
  metrics.watchConnections(() => new Promise((resolve) => front.server.getConnections((_error, count) => resolve(count))), () => bodyBudget.inFlight);
  // Limits on the document itself, checked at parse and validation time, before any resolver runs.
  const armor = new ApolloArmor({
    maxDepth: { n: config.maxQueryDepth },
    maxAliases: { n: config.maxAliases },
    // graphql-armor's token limit parses every document a second time, and its error reaches
    // clients as a 500; graphql-js counts tokens in the one parse Apollo does (parseOptions below).
    maxTokens: { enabled: false },
    maxDirectives: { n: config.maxDirectives },
    // Our own cost limit prices predictions by model and input size (src/predict/cost.ts).
    costLimit: { enabled: false },
    // "Did you mean ...?" helps in development and maps the schema for an attacker in production.
    blockFieldSuggestion: { enabled: !config.playground },
  }).protect();
  // One schema for Apollo (queries, mutations) and the stream transports (subscriptions).
  const schema = makeExecutableSchema<RequestContext>({ typeDefs: loadTypeDefs(), resolvers: resolvers as Parameters<typeof makeExecutableSchema<RequestContext>>[0]['resolvers'] });
  const apollo = new ApolloServer<RequestContext>({
    schema,
    introspection: config.playground,
    formatError: formatErrorWith({ debugErrors: config.debugErrors }),
    validationRules: armor.validationRules,
    parseOptions: { maxTokens: config.maxTokens },
    documentStore: boundedDocumentStore(config.documentCacheMaxBytes),
    includeStacktraceInErrorResponses: config.debugErrors,
    // main.ts owns the signals: it drains the whole server, not only Apollo.
    stopOnTerminationSignals: false,
    plugins: [
      // First: it refuses oversized query text and variables before any other plugin sees them.
      requestLimitsPlugin(config, metrics),
      // Stops the HTTP server (fastify.close(): no new connections, idle ones closed, the rest
      // once their requests are answered; all closed after 10 s).
      fastifyApolloDrainPlugin(front),
      ApolloServerPluginLandingPageDisabled(),
      // Unused here (no @cacheControl hints, not a federated subgraph), and the cache-control
      // plugin's willResolveField hook wraps every field of every request (bench/profile.ts).
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // (graphql-armor's types come from Apollo's CommonJS declarations, ours from its ESM ones.)
      ...(armor.plugins as unknown as ApolloServerPlugin<RequestContext>[]),
      subscriptionsElsewherePlugin(),
      costLimitPlugin(registry, config.maxRequestCost, metrics),
      disposePlugin(),
      timingsPlugin(metrics, logger),
      errorLogPlugin(logger),
    ],
    // Automatic persisted queries live in the same store as the results, bounded (in Apollo's
    // own bounded memory cache when the store is off).
    persistedQueries: cacheStore.persistedQueries
      ? { cache: new PersistedQueryCache(cacheStore.persistedQueries, { maxQueryBytes: config.apqMaxQueryBytes, ttlSeconds: config.apqTtlSeconds, timeoutMs: config.cacheTimeoutMs }, (operation) => metrics.cacheErrors.inc({ operation })) }
      : { ttl: config.apqTtlSeconds },
  });
  await apollo.start();

  let shuttingDown = false;
  let started = false;
  // The routes, one plugin per concern (src/http/routes/); a new one is a file and a line here.
  await front.register(healthRoutes, { registry, state: () => (shuttingDown ? 'shutting down' : started ? 'ready' : 'loading') });
  // METRICS_TOKEN's check on either port; with METRICS_PORT the answer moves to a listener of its own.
  const metricsAnswer = metricsEndpoint(metricsSource(metrics), config.metricsToken);
  const metricsHere = config.metricsPort === undefined;
  if (metricsHere) await front.register(metricsRoutes, { answer: metricsAnswer });
  // The front page and the live panel (one shared sampler of this server's metrics).
  const live = new LiveSampler({ metrics, workers: pool.size, waitingBatches: () => dispatcher.queued });
  await front.register(frontPageRoutes, { models: () => registry.list(), live, playground: config.playground, metricsLink: metricsHere });
  if (config.playground) await front.register(playgroundAssetRoutes);
  await front.register(graphqlRoutes, {
    apollo,
    metrics,
    maxEventLoopDelayMs: config.maxEventLoopDelayMs,
    bodyBudget,
    maxBodyBytes: config.maxBodyBytes,
    jsonBody: jsonLimits,
    tracing,
    browserPage: config.playground ? playgroundPageFor(() => registry.list(), '/graphql') : undefined,
    context: ({ request, requestId, timings, disconnect }): RequestContext => {
      let forRequest: RequestPredictions | undefined;
      return {
        registry,
        lifecycle,
        cache,
        jobs,
        // Made when a resolver first asks: requests that predict nothing skip it.
        get predictions() {
          return (forRequest ??= predictions.forRequest(timings, disconnect()));
        },
        isAdmin: isAdminRequest(request.headers.authorization, config.adminToken),
        requestId,
        timings,
      };
    },
  });

  // Subscriptions (predictStream) beside Apollo, on the same port: graphql-ws on the WebSocket
  // upgrade of /graphql (Node's server hands upgrades to ws's 'upgrade' listener; Fastify's
  // routes never see them), graphql-sse at /graphql/stream.
  const streamOperations = new StreamOperations({
    schema,
    registry,
    lifecycle,
    cache,
    predictions,
    jobs,
    metrics,
    logger,
    validationRules: armor.validationRules as unknown as import('graphql').ValidationRule[],
    maxTokens: config.maxTokens,
    maxRequestCost: config.maxRequestCost,
    limits: config,
    adminToken: config.adminToken,
    debugErrors: config.debugErrors,
  });
  const webSockets = serveGraphQLWs(front.server, '/graphql', streamOperations, config.maxBodyBytes, jsonLimits);
  const eventStreams = serveGraphQLSse(streamOperations, config.maxBodyBytes, logger, jsonLimits, bodyBudget);
  await front.register(streamRoutes, { eventStreams });

  // Fastify logs the address it listens on; the 'listening' line below says more.
  await front.listen({ host: config.host, port: config.port, listenTextResolver: () => 'HTTP port open' });
  const { port } = front.server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  const metricsServer = config.metricsPort === undefined ? undefined : await listenForMetrics(config.host, config.metricsPort, metricsAnswer);
  const metricsUrl = metricsServer && `http://${host}:${(metricsServer.address() as AddressInfo).port}/metrics`;
  logger.info({ url, models: models.map((m) => `${m.id} (${m.manifest.loading})`), cache: cache.description, workers: pool.size, metricsUrl, tracesTo: tracing?.url }, 'listening');

  const ready = (async () => {
    for (const model of registry.all()) {
      if (model.manifest.loading === 'STARTUP') await registry.ensureLoaded(model);
    }
    // Jobs start once the models are loaded: a resumed job's chunks go straight to the workers.
    // Not awaited: predictions are served while a Redis job store is unreachable.
    jobs.start().catch((err: unknown) => logger.error({ err }, 'prediction jobs could not resume; they resume at the next start'));
    started = true;
    if (config.watchModels) lifecycle.watch(registry);
    logger.info('ready');
  })();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      // Streams first: they send the answers ready for them and end with SHUTTING_DOWN; then
      // their connections close (a client that does not read is not waited for long), before
      // Apollo's drain closes the HTTP server.
      predictions.streams.close();
      await predictions.streams.ended(STREAM_DRAIN_MS);
      eventStreams.close();
      await webSockets.close();
      // Keep-alive connections left idle by answered requests are closed as they become idle,
      // so the drain does not wait for KEEP_ALIVE_TIMEOUT_MS (the server from connections.ts is
      // our own, not one whose connections Fastify tracks).
      const closeIdle = setInterval(() => front.server.closeIdleConnections(), 100);
      closeIdle.unref();
      front.server.closeIdleConnections();
      await apollo.stop();
      clearInterval(closeIdle);
      await ready.catch(() => undefined);
      await lifecycle.close();
      // Running chunks finish and store their outcomes; chunks not started wait for the next start.
      await jobs.close();
      jobBackend.cleanup();
      // Batches of clients that left may still be running; let them end before the workers do.
      await dispatcher.idle();
      await pool.close();
      await cache.close();
      live.close();
      await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
      // Sends the spans still buffered.
      await tracing?.close();
      logger.info('stopped');
    })();
    return closing;
  };

  return { url, port, metricsUrl, pool, jobs, ready, close };
}

/** How long shutdown waits for open streams to send their last answers and their end. */
const STREAM_DRAIN_MS = 1000;
