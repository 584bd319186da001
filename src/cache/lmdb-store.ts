/**
 * A Keyv store on one namespace of the embedded LMDB cache (lmdb-cache.ts). No Keyv adapter for
 * LMDB is published, hence this class. Keyv hands over `{ value, expires }` and is set up not to
 * serialise it, so binary answers stay binary; reads and the write queue go to LmdbCache.
 */
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import type { LmdbCache } from './lmdb-cache.ts';
import type { LmdbSpace, StoredRecord } from './lmdb-space.ts';

export class KeyvLmdbStore extends EventEmitter implements KeyvStoreAdapter {
  // Keyv reads opts.dialect and opts.url to decide whether a store can be iterated.
  readonly opts: { dialect: 'lmdb'; url: string };
  /** Set by Keyv: the prefix of this adapter's keys (`namespace:`). */
  namespace?: string;
  private readonly space: LmdbSpace;

  constructor(
    private readonly cache: LmdbCache,
    spaceName: string,
  ) {
    super();
    this.space = cache.space(spaceName);
    this.opts = { dialect: 'lmdb', url: `lmdb://${cache.dir}` };
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return asStoredData<Value>(this.space.get(key));
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return (await this.space.getMany(keys)).map((record) => asStoredData<Value>(record)) as Array<StoredData<Value | undefined>>;
  }

  /**
   * Queues the write and returns: it commits in the background, in order with everything queued
   * before it (a later delete or clear included), or is skipped and reported through the
   * LmdbCache's `skipped` event (no room, the queue full, a full disk). A queue of small
   * transactions may take longer than a read timeout; no caller needs to wait for it.
   */
  async set(key: string, data: { value?: unknown; expires?: number }): Promise<boolean> {
    const { value } = data ?? {};
    if (!(value instanceof Uint8Array) && typeof value !== 'string') throw new TypeError('the LMDB cache stores bytes or text');
    void this.cache.put(this.space, key, { value, expires: data.expires, at: Date.now() });
    return true;
  }

  async delete(key: string): Promise<boolean> {
    return this.cache.delete(this.space, key);
  }

  async has(key: string): Promise<boolean> {
    return this.space.get(key) !== undefined;
  }

  /** Removes the keys of this namespace that start with `prefix`; returns how many. */
  async deletePrefix(prefix = ''): Promise<number> {
    return this.cache.deletePrefix(this.space, `${this.namespace ? `${this.namespace}:` : ''}${prefix}`);
  }

  async clear(): Promise<void> {
    await this.deletePrefix();
  }

  /** The LmdbCache is closed by its owner, once for every namespace. */
  async disconnect(): Promise<void> {}
}

function asStoredData<Value>(record: StoredRecord | undefined): StoredData<Value> | undefined {
  return record && ({ value: record.value as Value, expires: record.expires } as StoredData<Value>);
}
