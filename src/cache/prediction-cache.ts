/**
 * The result cache of predictions: an in-memory L1 bounded in bytes in front of a Keyv store
 * (LMDB on disk by default, Redis, or memory).
 *
 * - Keys: `name@version:<66-bit prefix of the input's SHA-256>`. The version is the model file's
 *   content hash, so a new version never reads the old one's answers, and nothing needs purging.
 *   The entry holds the full digest and a read compares it: a prefix collision is detected,
 *   counted, and treated as a miss (the answer is recomputed and overwrites the entry).
 * - Values: the model's answer in compact binary (result-codec.ts); every field derives from it.
 * - The cache only ever speeds things up. A store that fails or is slower than CACHE_TIMEOUT_MS
 *   is treated as a miss, logged once per outage, counted in metrics, and left alone for a
 *   second before it is tried again; writes never delay a response and are dropped while the
 *   store is down.
 */
import type { Logger } from 'pino';
import type { CacheSource, ItemResult } from '../domain/types.ts';
import type { Metrics } from '../metrics.ts';
import { ByteLru } from './l1.ts';
import { decodeEntry, encodeEntry } from './result-codec.ts';
import type { CacheStore } from './stores.ts';

export interface CacheHit {
  result: ItemResult;
  source: Exclude<CacheSource, 'NONE'>;
}

/** Where one input's answer lives: its key, and the full digest its entry must carry. */
export interface CacheKey {
  key: string;
  digest: Uint8Array;
}

export interface CacheOptions {
  l1MaxBytes: number;
  /** Longest wait for the store before a read counts as a miss. */
  timeoutMs: number;
}

export interface EntryPolicy {
  /** Entry lifetime; undefined keeps it until evicted or cleared. */
  ttlMs?: number;
  /** Answers larger than this are not cached. */
  maxEntryBytes?: number;
}

/** Characters of the base64url digest in the key: 11 x 6 = 66 bits. */
const KEY_DIGEST_CHARS = 11;
const RETRY_AFTER_FAILURE_MS = 1000;

/** The cache key of an input of `modelId` whose SHA-256 is `digest` (base64url). */
export function cacheKey(modelId: string, digest: string): CacheKey {
  return { key: `${modelId}:${digest.slice(0, KEY_DIGEST_CHARS)}`, digest: new Uint8Array(Buffer.from(digest, 'base64url')) };
}

class StoreTimeout extends Error {
  override name = 'StoreTimeout';
}

export class PredictionCache {
  private readonly l1: ByteLru;
  private readonly pendingWrites = new Set<Promise<unknown>>();
  /** While the store is failing: skip it until this time. */
  private downUntil = 0;
  private failing = false;

  constructor(
    private readonly store: CacheStore,
    private readonly options: CacheOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.l1 = new ByteLru(options.l1MaxBytes);
    store.predictions?.on('error', () => undefined); // failures surface as rejections, handled below
    store.persistedQueries?.on('error', () => undefined);
  }

  get enabled(): boolean {
    return this.store.predictions !== null;
  }

  get description(): string {
    return this.store.description;
  }

  /** The cached answer of each key, or undefined (a miss, a collision, or a failing store). */
  async getMany(model: string, keys: readonly CacheKey[]): Promise<Array<CacheHit | undefined>> {
    const keyv = this.store.predictions;
    if (!keyv || keys.length === 0) return keys.map(() => undefined);
    const hits: Array<CacheHit | undefined> = keys.map((k) => {
      const bytes = this.l1.get(k.key);
      const result = bytes && decodeEntry(bytes, k.digest);
      return result && result !== 'collision' ? { result, source: 'L1' } : undefined;
    });
    const missing = keys.flatMap((k, i) => (hits[i] ? [] : [i]));
    if (missing.length > 0 && Date.now() >= this.downUntil) {
      try {
        const values = await this.withTimeout(keyv.getMany<Uint8Array>(missing.map((i) => keys[i]!.key)));
        this.recovered();
        missing.forEach((i, j) => {
          const value = values[j];
          if (!(value instanceof Uint8Array)) return;
          const result = decodeEntry(value, keys[i]!.digest);
          if (result === 'collision') {
            this.metrics.cacheLookups.inc({ model, result: 'collision' });
            this.logger.warn({ model, key: keys[i]!.key }, 'cache key collision: the stored answer belongs to another input; recomputing');
            return;
          }
          if (!result) return;
          hits[i] = { result, source: 'STORE' };
          this.l1.set(keys[i]!.key, value);
        });
      } catch (error) {
        this.failed('read', error);
      }
    }
    for (const hit of hits) this.metrics.cacheLookups.inc({ model, result: hit ? (hit.source === 'L1' ? 'hit_l1' : 'hit_store') : 'miss' });
    return hits;
  }

  /** Stores an answer in L1 and, without making the caller wait, in the store. */
  set(key: CacheKey, result: ItemResult, policy: EntryPolicy = {}): void {
    const keyv = this.store.predictions;
    if (!keyv) return;
    const entry = encodeEntry(key.digest, result);
    if (policy.maxEntryBytes !== undefined && entry.byteLength > policy.maxEntryBytes) return;
    this.l1.set(key.key, entry, policy.ttlMs);
    if (Date.now() < this.downUntil) return;
    const write = this.withTimeout(keyv.set(key.key, entry, policy.ttlMs))
      .then(() => this.recovered())
      .catch((error: unknown) => this.failed('write', error))
      .finally(() => this.pendingWrites.delete(write));
    this.pendingWrites.add(write);
  }

  /** Forgets the answers of one model (every version), or of all; returns the store entries removed. */
  async clear(model?: string): Promise<number> {
    const prefix = model ? `${model}@` : '';
    this.l1.deletePrefix(prefix);
    await Promise.allSettled([...this.pendingWrites]);
    return this.store.deletePrefix(prefix);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pendingWrites]);
    await this.store.close();
  }

  private withTimeout<T>(promise: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreTimeout(`no answer within ${this.options.timeoutMs} ms`)), this.options.timeoutMs);
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  // Logged once per outage, not once per request, so a dead store does not flood the logs.
  private failed(operation: 'read' | 'write', error: unknown): void {
    this.metrics.cacheErrors.inc({ operation });
    this.downUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
    if (!this.failing) this.logger.warn({ err: error, cache: this.store.description }, `result cache ${operation} failed; serving uncached until it recovers`);
    this.failing = true;
  }

  private recovered(): void {
    if (this.failing) this.logger.info({ cache: this.store.description }, 'result cache recovered');
    this.failing = false;
  }
}
