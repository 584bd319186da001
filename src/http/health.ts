/**
 * Probes for orchestrators: /healthz says the process is alive and serving HTTP; /readyz says it
 * should receive traffic, which is once every STARTUP model is loaded in every worker, and no
 * longer once shutdown has begun.
 */
import express, { type Router } from 'express';
import type { ModelRegistry } from '../models/registry.ts';

export function healthRouter(registry: ModelRegistry, state: () => 'loading' | 'ready' | 'shutting down'): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', (_req, res) => {
    const models = Object.fromEntries(registry.list().map((m) => [m.name, { version: m.version, state: m.status.state, loading: m.manifest.loading }]));
    const status = state();
    res.status(status === 'ready' ? 200 : 503).json({ status, models });
  });
  return router;
}
