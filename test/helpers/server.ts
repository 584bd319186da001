/**
 * Starts a real PredictQL server for a test: in this process, on a free port, with its own
 * cache directory, queried over HTTP like any client would.
 */
import { rmSync } from 'node:fs';
import { loadConfig, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { startServer, type RunningServer } from '../../src/server.ts';
import { graphql, request, type ClientResponse, type GraphQLResponse, type RequestOptions } from './client.ts';
import { metricSamples } from './metrics.ts';
import { tempDir } from './temp.ts';

export type { GraphQLResponse } from './client.ts';
export { freePort, tempDir } from './temp.ts';

export interface TestServer extends RunningServer {
  config: Config;
  /** A query through the test client (test/helpers/client.ts), with headers or a signal in `options`. */
  graphql<T = any>(query: string, variables?: Record<string, unknown>, options?: Pick<RequestOptions, 'headers' | 'signal'>): Promise<GraphQLResponse<T>>;
  get(path: string, headers?: Record<string, string>): Promise<ClientResponse>;
  /** The value of a Prometheus sample at /metrics, e.g. metric('predictql_batch_size_count', { model: 'iris' }). */
  metric(name: string, labels?: Record<string, string>): Promise<number>;
}

export async function startTestServer(overrides: Record<string, string> = {}): Promise<TestServer> {
  const env: Record<string, string> = {
    PORT: '0',
    LOG_LEVEL: 'warn',
    WORKERS: '2',
    ...overrides,
  };
  let ownCacheDir: string | undefined;
  if (!env.CACHE_URL) {
    ownCacheDir = tempDir('predictql-cache-');
    env.CACHE_URL = `lmdb://${ownCacheDir}`;
  }
  const config = loadConfig([], env);
  const server = await startServer(config, createLogger(config.logLevel));
  await server.ready;
  return {
    ...server,
    config,
    async close() {
      await server.close();
      if (ownCacheDir) {
        rmSync(ownCacheDir, { recursive: true, force: true });
        // The prediction jobs' LMDB environment, beside the cache (src/jobs/create.ts).
        rmSync(`${ownCacheDir}-jobs`, { recursive: true, force: true });
      }
    },
    graphql(query, variables, options) {
      return graphql(server.url, { query, variables }, options);
    },
    get(path, headers = {}) {
      return request(`${server.url}${path}`, { headers });
    },
    async metric(name, labels = {}) {
      return (await metricSamples(server.url, name, labels))[0] ?? 0;
    },
  };
}

export const IRIS_QUERY = `query ($features: [Float!]!) {
  predict(model: "iris", input: { features: $features }) {
    cached
    ... on Classification { label score classes { label score } }
  }
}`;
