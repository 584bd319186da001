/**
 * GET /metrics: Prometheus text, through src/http/metrics-endpoint.ts (METRICS_TOKEN's bearer check,
 * 401 without it). With PROCESSES > 1 it describes the whole server, whichever process the scrape
 * reached (src/cluster.ts merges every process's metrics in the primary). The assembler mounts
 * this route only when METRICS_PORT is unset; otherwise the same answer is served on that port.
 */
import type { FastifyInstance } from 'fastify';
import { clusterMetrics, isClusterWorker, serveClusterMetrics } from '../../cluster.ts';
import type { Metrics } from '../../metrics.ts';
import type { MetricsAnswer, MetricsSource } from '../metrics-endpoint.ts';

/**
 * This process's metrics as /metrics serves them, on whichever port. In a cluster worker it also
 * starts answering the primary's requests for this process's metrics, so it is made once.
 */
export function metricsSource(metrics: Metrics): MetricsSource {
  const inCluster = isClusterWorker();
  if (inCluster) serveClusterMetrics(metrics.registry);
  return {
    contentType: metrics.registry.contentType,
    render: () => (inCluster ? clusterMetrics() : metrics.registry.metrics()),
  };
}

export interface MetricsRouteOptions {
  /** From metricsEndpoint(): the answer to a GET /metrics carrying this authorization header. */
  answer: (authorization: string | undefined) => Promise<MetricsAnswer>;
}

export async function metricsRoutes(app: FastifyInstance, { answer }: MetricsRouteOptions): Promise<void> {
  app.get('/metrics', async (request, reply) => {
    const { status, headers, body } = await answer(request.headers.authorization);
    reply.code(status).headers(headers);
    return body;
  });
}
