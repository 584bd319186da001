/**
 * The result cache of predictions, on Keyv. A key names the model version and the input's
 * SHA-256, so a new version of a model never reads the old one's answers and no purge is needed.
 * The value is the model's output as raw float32 bytes, from which every field is derived.
 *
 * The cache only ever speeds things up: a failing store is logged and treated as a miss, and
 * writes are not awaited by the request that made them.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { Keyv } from 'keyv';
import type { Logger } from 'pino';
import type { ItemResult } from '../engine/tasks.ts';
import { KeyvLmdbStore } from './lmdb-store.ts';
import { decodeResult, encodeResult } from './result-codec.ts';

export class PredictionCache {
  private readonly pendingWrites = new Set<Promise<unknown>>();
  private failing = false;

  constructor(
    private readonly keyv: Keyv | null,
    private readonly logger: Logger,
    /** For the logs and /readyz: where the cache lives. */
    readonly description: string,
  ) {}

  get enabled(): boolean {
    return this.keyv !== null;
  }

  /** The cached answer for each key, undefined where there is none or the store failed. */
  async getMany(keys: readonly string[]): Promise<Array<ItemResult | undefined>> {
    if (!this.keyv || keys.length === 0) return keys.map(() => undefined);
    try {
      const values = await this.keyv.getMany<Uint8Array>([...keys]);
      this.recovered();
      return values.map((value) => (value instanceof Uint8Array ? decodeResult(value) : undefined));
    } catch (error) {
      this.failed('read', error);
      return keys.map(() => undefined);
    }
  }

  /** Stores an answer without making the caller wait; close() waits for what is still pending. */
  set(key: string, result: ItemResult): void {
    if (!this.keyv) return;
    const write = this.keyv
      .set(key, encodeResult(result))
      .then(() => this.recovered())
      .catch((error: unknown) => this.failed('write', error))
      .finally(() => this.pendingWrites.delete(write));
    this.pendingWrites.add(write);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.pendingWrites]);
    await this.keyv?.disconnect();
  }

  // Logged once per outage, not once per request, so a dead store does not flood the logs.
  private failed(operation: string, error: unknown): void {
    if (!this.failing) this.logger.warn({ err: error, cache: this.description }, `result cache ${operation} failed; serving uncached until it recovers`);
    this.failing = true;
  }

  private recovered(): void {
    if (this.failing) this.logger.info({ cache: this.description }, 'result cache recovered');
    this.failing = false;
  }
}

/** Builds the cache a CACHE_URL names: lmdb://<dir>, memory:// or off. */
export function createPredictionCache(cacheUrl: string, logger: Logger): PredictionCache {
  if (cacheUrl === 'off') return new PredictionCache(null, logger, 'off');
  // Keyv would otherwise turn every value into JSON text; both stores below keep objects as they are.
  const keyvOptions = { namespace: 'predictql', serialize: undefined, deserialize: undefined };
  if (cacheUrl === 'memory://') return new PredictionCache(new Keyv(keyvOptions), logger, 'memory');
  const dir = resolve(cacheUrl.slice('lmdb://'.length));
  mkdirSync(dir, { recursive: true });
  return new PredictionCache(new Keyv({ ...keyvOptions, store: new KeyvLmdbStore(dir) }), logger, `lmdb ${dir}`);
}
