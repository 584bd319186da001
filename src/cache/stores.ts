/**
 * The second-level stores of the result cache, chosen by CACHE_URL:
 *
 *   lmdb://<dir>    embedded on disk (default ./data/cache): no server, survives restarts and
 *                   crashes, shared by the processes of one machine, kept under CACHE_MAX_BYTES
 *   redis://host:port[/db], rediss://...   shared by every instance
 *   redis+cluster://host1:port,host2:port  the same on a Redis Cluster (its seed nodes)
 *   memory://       this process only, gone on restart, kept under CACHE_MAX_BYTES
 *   off             no result cache
 *
 * Each store comes as two Keyv namespaces on the same backend: predictions, and Apollo's
 * automatic persisted queries (APQ).
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Keyv, type KeyvStoreAdapter } from 'keyv';
import { LmdbCache, type LmdbCacheEvents, type LmdbUsage } from './lmdb-cache.ts';
import { KeyvLmdbStore } from './lmdb-store.ts';
import { KeyvMemoryStore } from './memory-store.ts';
import { KeyvRedisStore, RedisConnection } from './redis-store.ts';
import type { EventEmitter } from 'node:events';

export interface CacheStoreOptions {
  /** lmdb:// and memory://: the bound on the store's size (on disk, in memory). */
  maxBytes: number;
  /** lmdb://: how often expired entries are removed and the bounds checked. */
  sweepIntervalMs: number;
  /** lmdb:// and memory://: most persisted queries kept. */
  maxPersistedQueries: number;
  /** Redis: longest a command may wait before it fails. */
  commandTimeoutMs: number;
}

export interface CacheStore {
  kind: 'lmdb' | 'redis' | 'memory' | 'off';
  /** For logs and /readyz; no credentials. */
  description: string;
  predictions: Keyv | null;
  persistedQueries: Keyv | null;
  /** Removes the predictions whose key starts with `prefix` (all when empty); returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /** Removes every persisted query; returns how many. */
  clearPersistedQueries(): Promise<number>;
  /** A bounded store's evictions and skipped writes (lmdb://). */
  events?: EventEmitter<LmdbCacheEvents>;
  /** A bounded store's size on disk (lmdb://). */
  usage?(): LmdbUsage;
  /** What an operator should know at startup. */
  warnings(): string[];
  close(): Promise<void>;
}

export const PREDICTIONS_NAMESPACE = 'predictql';
export const APQ_NAMESPACE = 'predictql-apq';

/** Keyv around one of our stores: values go to the store as they are, and failures reject. */
function keyv(store: KeyvStoreAdapter & { deletePrefix(prefix?: string): Promise<number> }, namespace: string): Keyv {
  return new Keyv({ store, namespace, serialize: undefined, deserialize: undefined, throwOnErrors: true });
}

export function createCacheStore(cacheUrl: string, options: CacheStoreOptions): CacheStore {
  if (cacheUrl === 'off') {
    return { kind: 'off', description: 'off', predictions: null, persistedQueries: null, deletePrefix: async () => 0, clearPersistedQueries: async () => 0, warnings: () => [], close: async () => undefined };
  }
  if (cacheUrl === 'memory://') {
    const predictions = new KeyvMemoryStore(options.maxBytes, undefined, false);
    const persisted = new KeyvMemoryStore(options.maxBytes, options.maxPersistedQueries, true);
    return {
      kind: 'memory',
      description: 'memory',
      predictions: keyv(predictions, PREDICTIONS_NAMESPACE),
      persistedQueries: keyv(persisted, APQ_NAMESPACE),
      deletePrefix: (prefix) => predictions.deletePrefix(prefix),
      clearPersistedQueries: () => persisted.deletePrefix(),
      warnings: () => [],
      close: async () => undefined,
    };
  }
  if (cacheUrl.startsWith('lmdb://')) {
    const dir = resolve(cacheUrl.slice('lmdb://'.length));
    mkdirSync(dir, { recursive: true });
    const cache = new LmdbCache(dir, {
      maxBytes: options.maxBytes,
      sweepIntervalMs: options.sweepIntervalMs,
      spaces: [{ name: PREDICTIONS_NAMESPACE }, { name: APQ_NAMESPACE, maxEntries: options.maxPersistedQueries }],
    });
    const predictions = new KeyvLmdbStore(cache, PREDICTIONS_NAMESPACE);
    const persisted = new KeyvLmdbStore(cache, APQ_NAMESPACE);
    return {
      kind: 'lmdb',
      description: `lmdb ${dir}`,
      predictions: keyv(predictions, PREDICTIONS_NAMESPACE),
      persistedQueries: keyv(persisted, APQ_NAMESPACE),
      deletePrefix: (prefix) => predictions.deletePrefix(prefix),
      clearPersistedQueries: () => persisted.deletePrefix(),
      events: cache,
      usage: () => cache.usage(),
      warnings: () => cache.warnings(),
      close: () => cache.close(),
    };
  }
  const connection = new RedisConnection(cacheUrl, Math.max(1000, options.commandTimeoutMs));
  const predictions = new KeyvRedisStore(connection, false);
  const persisted = new KeyvRedisStore(connection, true);
  return {
    kind: 'redis',
    description: connection.description,
    predictions: keyv(predictions, PREDICTIONS_NAMESPACE),
    persistedQueries: keyv(persisted, APQ_NAMESPACE),
    deletePrefix: (prefix) => predictions.deletePrefix(prefix),
    clearPersistedQueries: () => persisted.deletePrefix(),
    warnings: () => [],
    close: () => connection.close(),
  };
}
