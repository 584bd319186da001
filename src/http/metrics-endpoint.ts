/**
 * GET /metrics, framework-free: optionally behind a bearer token (METRICS_TOKEN), and optionally
 * on a port of its own (METRICS_PORT) served by a small node:http listener, so a scrape still gets
 * through while the main port is saturated or at its connection cap. The HTTP front mounts
 * `answer` on the main port when no METRICS_PORT is set.
 */
import { createServer, type Server } from 'node:http';
import { bearerMatches } from './admin-token.ts';

export interface MetricsAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface MetricsSource {
  contentType: string;
  /** The Prometheus text (every process's, under PROCESSES > 1). */
  render(): Promise<string>;
}

/** The answer to a GET /metrics carrying `authorization`. */
export function metricsEndpoint(source: MetricsSource, token: string | undefined): (authorization: string | undefined) => Promise<MetricsAnswer> {
  return async (authorization): Promise<MetricsAnswer> => {
    if (token !== undefined && !bearerMatches(authorization, token)) {
      return {
        status: 401,
        headers: { 'content-type': 'text/plain; charset=utf-8', 'www-authenticate': 'Bearer realm="predictql metrics"' },
        body: '/metrics needs the header "Authorization: Bearer <METRICS_TOKEN>"\n',
      };
    }
    return { status: 200, headers: { 'content-type': source.contentType }, body: await source.render() };
  };
}

/** Serves only GET /metrics on `host:port`; resolves with the listening server. */
export async function listenForMetrics(host: string, port: number, answer: (authorization: string | undefined) => Promise<MetricsAnswer>): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('only /metrics is served on this port\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('GET /metrics\n');
      return;
    }
    answer(req.headers.authorization).then(
      ({ status, headers, body }) => res.writeHead(status, headers).end(req.method === 'HEAD' ? undefined : body),
      () => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('metrics could not be collected\n'),
    );
  });
  // A scraper reads one answer and goes: no connection should linger here.
  server.requestTimeout = 10_000;
  server.headersTimeout = 10_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}
