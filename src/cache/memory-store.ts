/**
 * The `memory://` store: a Keyv store on a ByteLru, so that this process-only cache is bounded
 * like the others (CACHE_MAX_BYTES, and a count for the persisted queries) instead of growing
 * with every unique input, as Keyv's default Map would. Text values (persisted queries) are kept
 * as UTF-8 bytes.
 */
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { ByteLru } from './l1.ts';

export class KeyvMemoryStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts = { dialect: 'memory', url: 'memory://' };
  namespace?: string;
  private readonly lru: ByteLru;

  constructor(
    maxBytes: number,
    maxEntries: number | undefined,
    /** Values are strings (persisted queries) rather than bytes. */
    private readonly text: boolean,
  ) {
    super();
    this.lru = new ByteLru(maxBytes, maxEntries);
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const bytes = this.lru.get(key);
    if (!bytes) return undefined;
    return { value: (this.text ? Buffer.from(bytes).toString('utf8') : bytes) as Value, expires: undefined } as StoredData<Value>;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return Promise.all(keys.map((key) => this.get<Value>(key))) as Promise<Array<StoredData<Value | undefined>>>;
  }

  async set(key: string, data: { value?: unknown }, ttl?: number): Promise<boolean> {
    const { value } = data ?? {};
    if (!(value instanceof Uint8Array) && typeof value !== 'string') throw new TypeError('the memory cache stores bytes or text');
    this.lru.set(key, typeof value === 'string' ? new Uint8Array(Buffer.from(value, 'utf8')) : value, ttl);
    return true;
  }

  async delete(key: string): Promise<boolean> {
    const had = this.lru.get(key) !== undefined;
    this.lru.delete(key);
    return had;
  }

  async has(key: string): Promise<boolean> {
    return this.lru.get(key) !== undefined;
  }

  async deletePrefix(prefix = ''): Promise<number> {
    return this.lru.deletePrefix(`${this.namespace ? `${this.namespace}:` : ''}${prefix}`);
  }

  async clear(): Promise<void> {
    await this.deletePrefix();
  }

  async disconnect(): Promise<void> {}
}
