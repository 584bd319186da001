/**
 * The second-level stores of the result cache, chosen by CACHE_URL:
 *
 *   lmdb://<dir>    embedded on disk (default ./data/cache): no server, survives restarts and
 *                   crashes, shared by the processes of one machine
 *   redis://host:port[/db], rediss://...   shared by every instance (through @keyv/redis)
 *   redis+cluster://host1:port,host2:port  the same on a Redis Cluster (its seed nodes)
 *   memory://       this process only, gone on restart
 *   off             no result cache
 *
 * Each store comes as two Keyv namespaces on the same backend: predictions, and Apollo's
 * automatic persisted queries.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import KeyvRedis, { createCluster } from '@keyv/redis';
import { Keyv, type KeyvOptions, type KeyvStoreAdapter } from 'keyv';
import { KeyvLmdbStore } from './lmdb-store.ts';

export interface CacheStore {
  kind: 'lmdb' | 'redis' | 'memory' | 'off';
  /** For logs and /readyz; no credentials. */
  description: string;
  predictions: Keyv | null;
  persistedQueries: Keyv | null;
  /** Removes the predictions whose key starts with `prefix` (all when empty); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  close(): Promise<void>;
}

/** deletePrefix for stores Keyv can iterate (Redis scans, memory walks its Map). */
async function deleteByIteration(keyv: Keyv, prefix: string): Promise<number> {
  const doomed: string[] = [];
  if (keyv.iterator) {
    for await (const [key] of keyv.iterator(undefined)) if (typeof key === 'string' && key.startsWith(prefix)) doomed.push(key);
  }
  let removed = 0;
  for (const key of doomed) if (await keyv.delete(key)) removed++;
  return removed;
}

/** How long a Redis command may wait before the cache treats the store as down. */
const REDIS_TIMEOUT_MS = 250;

// Redis holds strings: the binary entries travel as base64 there. The embedded and memory
// stores keep them binary, so Keyv's JSON serialisation is switched off for them.
const binaryAsBase64: Pick<KeyvOptions, 'serialize' | 'deserialize'> = {
  serialize: (data) =>
    JSON.stringify({ value: data.value instanceof Uint8Array ? { b64: Buffer.from(data.value).toString('base64') } : data.value, expires: data.expires }),
  deserialize: <Value>(text: string) => {
    const data = JSON.parse(text) as { value?: unknown; expires?: number };
    const value = data.value as { b64?: string } | undefined;
    return { value: (value && typeof value.b64 === 'string' ? new Uint8Array(Buffer.from(value.b64, 'base64')) : data.value) as Value, expires: data.expires };
  },
};

export function createCacheStore(cacheUrl: string): CacheStore {
  if (cacheUrl === 'off') return { kind: 'off', description: 'off', predictions: null, persistedQueries: null, deletePrefix: async () => 0, close: async () => undefined };
  if (cacheUrl === 'memory://') {
    const raw = { serialize: undefined, deserialize: undefined };
    const predictions = new Keyv({ namespace: 'predictql', ...raw });
    return {
      kind: 'memory',
      description: 'memory',
      predictions,
      persistedQueries: new Keyv({ namespace: 'predictql-apq', ...raw }),
      deletePrefix: (prefix) => deleteByIteration(predictions, prefix),
      close: async () => undefined,
    };
  }
  if (cacheUrl.startsWith('lmdb://')) {
    const dir = resolve(cacheUrl.slice('lmdb://'.length));
    mkdirSync(dir, { recursive: true });
    const store = new KeyvLmdbStore(dir);
    const raw = { serialize: undefined, deserialize: undefined };
    return {
      kind: 'lmdb',
      description: `lmdb ${dir}`,
      predictions: new Keyv({ store, namespace: 'predictql', ...raw }),
      persistedQueries: new Keyv({ store: store.sibling(), namespace: 'predictql-apq', ...raw }),
      deletePrefix: (prefix) => store.deletePrefix(prefix),
      close: () => store.disconnect(),
    };
  }
  const cluster = /^rediss?\+cluster:\/\//.test(cacheUrl);
  const seeds = cluster ? cacheUrl.replace(/^rediss?\+cluster:\/\//, '').replace(/\/$/, '').split(',') : [];
  const url = new URL(cluster ? `redis://${seeds[0]}` : cacheUrl);
  // Commands must fail while Redis is away, not queue up without bound until it returns.
  const client = {
    disableOfflineQueue: true,
    socket: { connectTimeout: 1000, reconnectStrategy: (retries: number) => Math.min(100 * 2 ** retries, 2000) },
  };
  const connection = () =>
    cluster
      ? // redis+cluster://host1:port,host2:port: the seed nodes of a Redis Cluster.
        createCluster({ rootNodes: seeds.map((node) => ({ url: `redis://${node}` })), defaults: client })
      : { url: cacheUrl, ...client };
  const redis = (namespace: string): KeyvStoreAdapter =>
    new KeyvRedis(connection() as never, { namespace, throwOnConnectError: false, throwOnErrors: true, connectionTimeout: REDIS_TIMEOUT_MS }) as unknown as KeyvStoreAdapter;
  const predictions = redis('predictql');
  const persistedQueries = redis('predictql-apq');
  const predictionsKeyv = new Keyv({ store: predictions, namespace: 'predictql', throwOnErrors: true, ...binaryAsBase64 });
  return {
    kind: 'redis',
    description: cluster ? `redis cluster ${seeds.join(',')}` : `redis ${url.hostname}:${url.port || 6379}${url.pathname}`,
    predictions: predictionsKeyv,
    deletePrefix: (prefix) => deleteByIteration(predictionsKeyv, prefix),
    persistedQueries: new Keyv({ store: persistedQueries, namespace: 'predictql-apq', throwOnErrors: true, ...binaryAsBase64 }),
    close: async () => {
      await Promise.allSettled([predictions.disconnect?.(), persistedQueries.disconnect?.()]);
    },
  };
}
