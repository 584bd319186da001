/**
 * Probes for orchestrators: /healthz says the process is alive and serving HTTP; /readyz says it
 * should receive traffic, which is once every STARTUP model is loaded in every worker, and no
 * longer once shutdown has begun.
 */
import type { FastifyInstance } from 'fastify';
import type { ModelRegistry } from '../../models/registry.ts';

export interface HealthRouteOptions {
  registry: ModelRegistry;
  state: () => 'loading' | 'ready' | 'shutting down';
}

export async function healthRoutes(app: FastifyInstance, { registry, state }: HealthRouteOptions): Promise<void> {
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const models = Object.fromEntries(registry.list().map((m) => [m.name, { version: m.version, state: m.status.state, loading: m.manifest.loading }]));
    const status = state();
    reply.code(status === 'ready' ? 200 : 503);
    return { status, models };
  });
}
