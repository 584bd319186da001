/**
 * Apollo's automatic persisted queries (APQ), kept in the cache store next to the answers, with
 * bounds: a client may register any valid query text, and without them one client wrote 840 MB
 * in 20 s, kept for ever.
 *
 * - Size: a query longer than APQ_MAX_QUERY_BYTES is run but not kept; the client's next request
 *   by hash gets PERSISTED_QUERY_NOT_FOUND and sends the text again, as the APQ protocol expects.
 * - Lifetime: every entry expires after APQ_TTL_SECONDS, whatever Apollo asks for.
 * - Count: APQ_MAX_ENTRIES, kept by the store (LMDB evicts the oldest; memory:// the least
 *   recently used); on Redis, by the lifetime and Redis's own maxmemory policy.
 * - Failures: a store that fails or is slow makes a lookup a miss and a write a no-op, never an
 *   error for the request: APQ only saves bytes on the wire.
 *
 * This is the KeyValueCache interface Apollo Server takes as `persistedQueries.cache`.
 */
import type { Keyv } from 'keyv';
import { withTimeout } from './timeout.ts';

export interface PersistedQueryLimits {
  maxQueryBytes: number;
  ttlSeconds: number;
  /** Longest wait for the store. */
  timeoutMs: number;
}

export class PersistedQueryCache {
  constructor(
    private readonly keyv: Keyv,
    private readonly limits: PersistedQueryLimits,
    /** Called on a store failure or timeout, for the metrics. */
    private readonly onFailure: (operation: 'read' | 'write', error: unknown) => void,
  ) {}

  async get(key: string): Promise<string | undefined> {
    try {
      const value = await withTimeout(this.keyv.get<string>(key), this.limits.timeoutMs);
      return typeof value === 'string' ? value : undefined;
    } catch (error) {
      this.onFailure('read', error);
      return undefined;
    }
  }

  async set(key: string, value: string): Promise<void> {
    if (Buffer.byteLength(value, 'utf8') > this.limits.maxQueryBytes) return;
    try {
      await withTimeout(this.keyv.set(key, value, this.limits.ttlSeconds * 1000), this.limits.timeoutMs);
    } catch (error) {
      this.onFailure('write', error);
    }
  }

  async delete(key: string): Promise<boolean> {
    try {
      return await withTimeout(this.keyv.delete(key), this.limits.timeoutMs);
    } catch (error) {
      this.onFailure('write', error);
      return false;
    }
  }
}
