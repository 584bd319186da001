/**
 * GET /metrics: Prometheus text. With PROCESSES > 1 it describes the whole server, whichever
 * process the scrape reached (src/cluster.ts merges every process's metrics in the primary).
 */
import type { FastifyInstance } from 'fastify';
import { clusterMetrics, isClusterWorker, serveClusterMetrics } from '../../cluster.ts';
import type { Metrics } from '../../metrics.ts';

export async function metricsRoutes(app: FastifyInstance, { metrics }: { metrics: Metrics }): Promise<void> {
  const inCluster = isClusterWorker();
  if (inCluster) serveClusterMetrics(metrics.registry);
  app.get('/metrics', async (_request, reply) => {
    const text = inCluster ? await clusterMetrics() : await metrics.registry.metrics();
    reply.type(metrics.registry.contentType);
    return text;
  });
}
