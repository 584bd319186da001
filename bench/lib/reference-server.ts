/**
 * The HTTP side of the Apollo reference servers (naive, trivial): Apollo Server 5's
 * `startStandaloneServer` on 127.0.0.1, as a tutorial would write it: GUIDE section 3 asks for
 * no weaker reference (Apollo on Express is ~40% slower than standalone). The standalone server
 * answers GraphQL on every path, so its /metrics (default process metrics, for the event-loop
 * delay) is served on a port of its own, announced in the same log lines as PredictQL's, so
 * bench/lib/processes.ts can start either.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import { collectDefaultMetrics, Registry } from 'prom-client';
import { loadTypeDefs } from '../../src/graphql/type-defs.ts';

/** A /metrics of default process metrics (event-loop delay, CPU) on a port of its own. */
export async function serveMetrics(name: string): Promise<string> {
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics, prefix: `${name}_` });
  const server = createServer((_req, res) => {
    void metrics.metrics().then((text) => res.writeHead(200, { 'content-type': metrics.contentType }).end(text));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  server.unref();
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** The log lines processes.ts waits for. */
export function announce(url: string, metricsUrl: string): void {
  console.log(JSON.stringify({ msg: 'listening', url: url.replace(/\/$/, ''), metricsUrl }));
  console.log(JSON.stringify({ msg: 'ready' }));
}

export async function serveReference(name: string, resolvers: unknown, port: number): Promise<void> {
  const apollo = new ApolloServer({ typeDefs: loadTypeDefs(), resolvers: resolvers as never });
  // The standalone server parses bodies up to 50 MB: a predictMany of thousands of rows passes.
  const { url } = await startStandaloneServer(apollo, { listen: { port, host: '127.0.0.1' } });
  announce(url, await serveMetrics(name));
  process.on('SIGTERM', () => void apollo.stop().then(() => process.exit(0)));
}
