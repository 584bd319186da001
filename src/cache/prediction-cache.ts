/**
 * The result cache of predictions: an in-memory L1 bounded in bytes in front of a Keyv store
 * (LMDB on disk by default, Redis, or memory).
 *
 * - Keys: `name@version:<66-bit prefix of the input's SHA-256>`. The version is the model file's
 *   content hash, so a new version never reads the old one's answers, and nothing needs purging.
 *   The entry holds the full digest and a read compares it: a prefix collision is detected,
 *   counted, and treated as a miss (the answer is recomputed and overwrites the entry).
 * - Values: the model's answer in compact binary (result-codec.ts); every field derives from it.
 * - Entries are checked when read (result-codec.ts, result-check.ts): one that does not decode,
 *   or is not an answer this model could give, is a miss, counted as `invalid`, logged once per
 *   model, and overwritten by the recomputed answer.
 * - The cache only ever speeds things up. A store whose reads fail or are slower than
 *   CACHE_TIMEOUT_MS is treated as a miss, logged once per outage, counted in metrics, and left
 *   alone for a second before it is tried again. Writes never delay a response; a failed write
 *   (a full disk, say) pauses writes, not reads, for a second.
 */
import type { Logger } from 'pino';
import type { CacheSource, ItemResult } from '../domain/types.ts';
import type { Metrics } from '../metrics.ts';
import type { ServedModel } from '../models/served-model.ts';
import { watchCacheStore } from './cache-metrics.ts';
import { ByteLru } from './l1.ts';
import { expectedResultOf, problemWith, type ExpectedResult } from './result-check.ts';
import { decodeEntry, encodeEntry } from './result-codec.ts';
import type { CacheStore } from './stores.ts';
import { withTimeout } from './timeout.ts';

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

export class PredictionCache {
  private readonly l1: ByteLru;
  private readonly pendingWrites = new Set<Promise<unknown>>();
  /** While the store's reads fail: skip it until this time. */
  private downUntil = 0;
  /** While its writes fail: skip writes until this time. */
  private writesDownUntil = 0;
  private failing = false;
  /** Models whose invalid entries were logged already: once per model, not per request. */
  private readonly invalidLogged = new Set<string>();

  constructor(
    private readonly store: CacheStore,
    private readonly options: CacheOptions,
    private readonly metrics: Metrics,
    private readonly logger: Logger,
  ) {
    this.l1 = new ByteLru(options.l1MaxBytes);
    store.predictions?.on('error', () => undefined); // failures surface as rejections, handled below
    store.persistedQueries?.on('error', () => undefined);
    watchCacheStore(store, metrics.registry);
    store.events?.on('skipped', (reason, _writes, error) => {
      if (reason === 'error') this.failed('write', error);
    });
    for (const warning of store.warnings()) logger.warn({ cache: store.description }, warning);
  }

  get enabled(): boolean {
    return this.store.predictions !== null;
  }

  get description(): string {
    return this.store.description;
  }

  /**
   * The answer the in-memory level holds for `key`, found synchronously; undefined when it is
   * not there (the store may still have it: getMany looks). Counts nothing: the caller counts
   * the hit it uses, and a miss here is looked up again, and counted, by getMany.
   */
  getFromMemory(model: ServedModel, key: CacheKey): ItemResult | undefined {
    if (!this.store.predictions) return undefined;
    const bytes = this.l1.get(key.key);
    return bytes && this.accept(model.name, expectedResultOf(model), key, bytes);
  }

  /** The cached answer of each key, or undefined (a miss, a collision, an invalid entry, or a failing store). */
  async getMany(model: ServedModel, keys: readonly CacheKey[]): Promise<Array<CacheHit | undefined>> {
    const keyv = this.store.predictions;
    if (!keyv || keys.length === 0) return keys.map(() => undefined);
    const expected = expectedResultOf(model);
    const hits: Array<CacheHit | undefined> = keys.map((k) => {
      const bytes = this.l1.get(k.key);
      const result = bytes && this.accept(model.name, expected, k, bytes);
      return result ? { result, source: 'L1' } : undefined;
    });
    const missing = keys.flatMap((k, i) => (hits[i] ? [] : [i]));
    if (missing.length > 0 && Date.now() >= this.downUntil) {
      try {
        const values = await withTimeout(keyv.getMany<Uint8Array>(missing.map((i) => keys[i]!.key)), this.options.timeoutMs);
        this.recovered();
        missing.forEach((i, j) => {
          const value = values[j];
          if (value === undefined || value === null) return;
          const result = this.accept(model.name, expected, keys[i]!, value);
          if (!result) return;
          hits[i] = { result, source: 'STORE' };
          this.l1.set(keys[i]!.key, value as Uint8Array);
        });
      } catch (error) {
        this.failed('read', error);
      }
    }
    for (const hit of hits) this.metrics.countCacheLookup(model.name, hit ? (hit.source === 'L1' ? 'hit_l1' : 'hit_store') : 'miss');
    return hits;
  }

  /**
   * The answer a stored value holds, if it is this input's and one the model could give;
   * otherwise undefined, counted and (once per model) logged. The caller recomputes the answer,
   * and its write replaces the entry.
   */
  private accept(model: string, expected: ExpectedResult, key: CacheKey, value: unknown): ItemResult | undefined {
    const decoded = value instanceof Uint8Array ? decodeEntry(value, key.digest) : ({ ok: false, problem: 'invalid', reason: `a ${typeof value} instead of bytes` } as const);
    if (decoded.ok) {
      const problem = problemWith(decoded.result, expected);
      if (problem === undefined) return decoded.result;
      return this.rejected(model, key, problem);
    }
    if (decoded.problem === 'collision') {
      this.metrics.countCacheLookup(model, 'collision');
      this.logger.warn({ model, key: key.key }, 'cache key collision: the stored answer belongs to another input; recomputing');
      return undefined;
    }
    return this.rejected(model, key, decoded.reason);
  }

  private rejected(model: string, key: CacheKey, reason: string): undefined {
    this.metrics.countCacheLookup(model, 'invalid');
    this.l1.delete(key.key);
    if (!this.invalidLogged.has(model)) {
      this.invalidLogged.add(model);
      this.logger.warn(
        { model, key: key.key, reason, cache: this.store.description },
        'invalid cache entry: treated as a miss and overwritten with the recomputed answer (logged once per model; predictql_cache_lookups_total{result="invalid"} counts them all)',
      );
    }
    return undefined;
  }

  /** Stores an answer in L1 and, without making the caller wait, in the store. */
  set(key: CacheKey, result: ItemResult, policy: EntryPolicy = {}): void {
    const keyv = this.store.predictions;
    if (!keyv) return;
    const entry = encodeEntry(key.digest, result);
    if (policy.maxEntryBytes !== undefined && entry.byteLength > policy.maxEntryBytes) return;
    this.l1.set(key.key, entry, policy.ttlMs);
    if (Date.now() < Math.max(this.downUntil, this.writesDownUntil)) return;
    const write = withTimeout(keyv.set(key.key, entry, policy.ttlMs), this.options.timeoutMs)
      // false: a bounded store skipped the write (reported through its events), not a recovery.
      .then((written) => {
        if (written !== false) this.recovered();
      })
      .catch((error: unknown) => this.failed('write', error))
      .finally(() => this.pendingWrites.delete(write));
    this.pendingWrites.add(write);
  }

  /**
   * Forgets the answers of one model (every version), or of all, and then the persisted queries
   * too; returns the stored answers removed.
   */
  async clear(model?: string): Promise<number> {
    const prefix = model ? `${model}@` : '';
    this.l1.deletePrefix(prefix);
    await Promise.allSettled([...this.pendingWrites]);
    const removed = await this.store.deletePrefix(prefix);
    if (!model) await this.store.clearPersistedQueries();
    return removed;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pendingWrites]);
    await this.store.close();
  }

  // Logged once per outage, not once per request, so a dead store does not flood the logs.
  private failed(operation: 'read' | 'write', error: unknown): void {
    this.metrics.cacheErrors.inc({ operation });
    // A store that cannot be read is down; one that cannot take writes (a full disk) still
    // answers reads.
    if (operation === 'read') this.downUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
    else this.writesDownUntil = Date.now() + RETRY_AFTER_FAILURE_MS;
    if (!this.failing) {
      const consequence = operation === 'read' ? 'serving uncached until it recovers' : 'answers are served but not stored until it recovers';
      this.logger.warn({ err: error, cache: this.store.description }, `result cache ${operation} failed; ${consequence}`);
    }
    this.failing = true;
  }

  private recovered(): void {
    if (this.failing) this.logger.info({ cache: this.store.description }, 'result cache recovered');
    this.failing = false;
  }
}
