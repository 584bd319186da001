/**
 * The metrics of a bounded cache store (evictions, skipped writes, size on disk), registered on
 * the server's registry next to the lookups and errors in src/metrics.ts.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { CacheStore } from './stores.ts';

export function watchCacheStore(store: CacheStore, registry: Registry): void {
  const evictions = new Counter({
    name: 'predictql_cache_evictions_total',
    help: 'Entries the cache store removed by itself, by reason: size (CACHE_MAX_BYTES), count (APQ_MAX_ENTRIES), expired (their lifetime ended)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  const skipped = new Counter({
    name: 'predictql_cache_writes_skipped_total',
    help: 'Cache writes the store dropped instead of failing a request, by reason: full (no room within CACHE_MAX_BYTES even after eviction), queue (the write queue was full), error (the write failed: a full disk, say)',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  new Gauge({
    name: 'predictql_cache_store_bytes',
    help: 'Size of the embedded cache store, by measure: file (its data file on disk), live (pages holding entries and indexes), max (CACHE_MAX_BYTES), queued (writes waiting to be committed, this process)',
    labelNames: ['measure'] as const,
    registers: [registry],
    // Every process of a machine sees the same file: merged across processes, the largest is
    // right (for `queued`, the longest queue).
    aggregator: 'max',
    collect() {
      const usage = store.usage?.();
      if (!usage) return;
      this.set({ measure: 'file' }, usage.fileBytes);
      this.set({ measure: 'live' }, usage.liveBytes);
      this.set({ measure: 'max' }, usage.maxBytes);
      this.set({ measure: 'queued' }, usage.queuedBytes);
    },
  });
  store.events?.on('evicted', (reason, entries) => evictions.inc({ reason }, entries));
  store.events?.on('skipped', (reason, writes) => {
    if (writes > 0) skipped.inc({ reason }, writes);
  });
}
