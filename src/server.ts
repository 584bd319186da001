/**
 * Assembles a PredictQL server from its parts and runs it:
 *   model repository -> registry, worker pool, result cache -> GraphQL (Apollo on Express).
 * The HTTP port opens before the models finish loading, so /healthz answers at once and /readyz
 * tells an orchestrator when to send traffic.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { AddressInfo } from 'node:net';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginInlineTraceDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { Logger } from 'pino';
import { PredictionCache } from './cache/prediction-cache.ts';
import { PersistedQueryCache } from './cache/persisted-queries.ts';
import { createCacheStore } from './cache/stores.ts';
import type { Config } from './config.ts';
import { Dispatcher } from './engine/dispatcher.ts';
import { InferencePool } from './engine/pool.ts';
import type { RequestContext } from './graphql/context.ts';
import { cancelled } from './domain/errors.ts';
import { formatErrorWith } from './graphql/format-error.ts';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { costLimitPlugin } from './graphql/plugins/cost-limit.ts';
import { requestLimitsPlugin } from './graphql/plugins/request-limits.ts';
import { boundedDocumentStore } from './graphql/document-store.ts';
import { errorLogPlugin } from './graphql/plugins/error-log.ts';
import { graphqlErrorHandler } from './http/error-handler.ts';
import { loadShedder } from './http/load-shedding.ts';
import { disposePlugin } from './graphql/plugins/dispose.ts';
import { timingsPlugin } from './graphql/plugins/timings.ts';
import { RequestTimings } from './observability/timings.ts';
import { resolvers } from './graphql/resolvers.ts';
import { loadTypeDefs } from './graphql/type-defs.ts';
import { healthRouter } from './http/health.ts';
import { landingRouter } from './http/landing.ts';
import { playgroundRouter } from './http/playground.ts';
import { Metrics } from './metrics.ts';
import { clusterMetrics, isClusterWorker, serveClusterMetrics } from './cluster.ts';
import { isAdminRequest } from './http/admin-token.ts';
import { ModelLifecycle } from './models/lifecycle.ts';
import { ModelRegistry } from './models/registry.ts';
import { readRepository } from './models/repository.ts';
import { modelDefaults } from './models/settings.ts';
import { Predictions } from './predict/predictions.ts';

export interface RunningServer {
  url: string;
  port: number;
  /** The inference pool, for diagnostics and for tests that stop a worker. */
  pool: InferencePool;
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
  const pool = new InferencePool({ workers: config.workers, ortThreads: config.ortThreads, ortSpinning: config.ortSpinning, niceIncrement: config.workerNice, heapMb: config.workerHeapMb });
  pool.on('workerError', (error: Error) => logger.error({ err: error }, 'an idle inference worker failed; it was replaced'));
  const dispatcher = new Dispatcher(pool.size);
  metrics.watchPool(pool.size, () => dispatcher.busy, () => dispatcher.queued);
  const lifecycle = new ModelLifecycle(config.modelsDir, defaults, pool, metrics, logger, (model) => predictions.drain(model));
  const registry = new ModelRegistry(models, (model) => lifecycle.load(model));
  const predictions = new Predictions(registry, pool, dispatcher, cache, metrics, { deadlineMs: config.deadlineMs });

  const app = express();
  app.disable('x-powered-by');
  // While shutting down, idle keep-alive connections are ended; a request the client sent on one
  // just before it saw the end cannot be answered any more. Running it would compute an answer
  // nobody receives: drop it unread, and the client sees a closed connection, as for any request
  // the server never accepted.
  app.use((req, _res, next) => {
    if (req.socket.writableEnded || req.socket.destroyed) {
      req.socket.destroy();
      return;
    }
    next();
  });
  const httpServer = createServer(app);
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
  const apollo = new ApolloServer<RequestContext>({
    typeDefs: loadTypeDefs(),
    resolvers,
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
      ApolloServerPluginDrainHttpServer({ httpServer }),
      ApolloServerPluginLandingPageDisabled(),
      // Unused here (no @cacheControl hints, not a federated subgraph), and the cache-control
      // plugin's willResolveField hook wraps every field of every request (bench/profile.ts).
      ApolloServerPluginCacheControlDisabled(),
      ApolloServerPluginInlineTraceDisabled(),
      // (graphql-armor's types come from Apollo's CommonJS declarations, ours from its ESM ones.)
      ...(armor.plugins as unknown as ApolloServerPlugin<RequestContext>[]),
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
  app.use(healthRouter(registry, () => (shuttingDown ? 'shutting down' : started ? 'ready' : 'loading')));
  if (isClusterWorker()) serveClusterMetrics(metrics.registry);
  app.get('/metrics', async (_req, res) => {
    const text = isClusterWorker() ? await clusterMetrics() : await metrics.registry.metrics();
    res.type(metrics.registry.contentType).send(text);
  });
  // Which process answered: several share the port when PROCESSES > 1.
  app.use((_req, res, next) => {
    res.setHeader('x-predictql-process', String(process.pid));
    next();
  });
  app.use(landingRouter(() => registry.list(), { playground: config.playground }));
  if (config.playground) app.use(playgroundRouter(() => registry.list(), '/graphql'));
  const shedder = loadShedder(config.maxEventLoopDelayMs, metrics);
  app.use(
    '/graphql',
    shedder.middleware,
    (req, res, next) => {
      res.locals.timings = new RequestTimings();
      res.locals.requestId = requestIdOf(req.headers['x-request-id']);
      res.setHeader('x-request-id', res.locals.requestId);
      next();
    },
    express.json({ limit: config.maxBodyBytes }),
    (_req, res, next) => {
      const timings = res.locals.timings as RequestTimings;
      timings.add('httpBodyParse', performance.now() - timings.startedAt);
      next();
    },
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        // A client that disconnects before its answer has its queued inputs dropped.
        const disconnect = new AbortController();
        res.once('close', () => {
          if (!res.writableFinished) disconnect.abort(cancelled());
        });
        return {
          registry,
          lifecycle,
          cache,
          predictions: predictions.forRequest(res.locals.timings as RequestTimings, disconnect.signal),
          isAdmin: isAdminRequest(req.headers.authorization, config.adminToken),
          requestId: res.locals.requestId as string,
          timings: res.locals.timings as RequestTimings,
        };
      },
    }),
  );
  app.use(graphqlErrorHandler({ maxBodyBytes: config.maxBodyBytes, debugErrors: config.debugErrors }, logger, metrics));

  await listen(httpServer, config.host, config.port);
  const { port } = httpServer.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  logger.info({ url, models: models.map((m) => `${m.id} (${m.manifest.loading})`), cache: cache.description, workers: pool.size }, 'listening');

  const ready = (async () => {
    for (const model of registry.all()) {
      if (model.manifest.loading === 'STARTUP') await registry.ensureLoaded(model);
    }
    started = true;
    if (config.watchModels) lifecycle.watch(registry);
    logger.info('ready');
  })();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shuttingDown = true;
      await apollo.stop();
      await ready.catch(() => undefined);
      await lifecycle.close();
      // Batches of clients that left may still be running; let them end before the workers do.
      await dispatcher.idle();
      await pool.close();
      await cache.close();
      shedder.close();
      logger.info('stopped');
    })();
    return closing;
  };

  return { url, port, pool, ready, close };
}

/** The client's request id if it is a sane token, else a new one. */
function requestIdOf(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value && /^[\w.:-]{1,128}$/.test(value) ? value : randomUUID();
}

function listen(server: Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
