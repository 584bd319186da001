/**
 * Probes for orchestrators: /healthz says the process is alive and serving HTTP; /readyz says it
 * should receive traffic, which is only once every model is loaded in every worker.
 */
import express, { type Router } from 'express';
import type { ModelRegistry } from '../models/registry.ts';

export function healthRouter(registry: ModelRegistry, isShuttingDown: () => boolean): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const models = Object.fromEntries(registry.list().map((m) => [m.name, { version: m.version, loaded: m.status.loaded }]));
    const ready = registry.allLoaded && !isShuttingDown();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : isShuttingDown() ? 'shutting down' : 'loading', models });
  });
  return router;
}
