/**
 * A Keyv store on LMDB: an embedded, memory-mapped B-tree on disk. It is the default result
 * cache because it needs no server, survives restarts and crashes (copy-on-write pages, no
 * journal to replay), lets several processes on one machine share one file, and reads in
 * microseconds. No Keyv adapter for it is published, hence this class.
 *
 * Values are stored as Keyv hands them over ({ value, expires }) in LMDB's msgpack encoding,
 * which keeps binary values binary; Keyv itself is set up not to serialize them to JSON text.
 */
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { open, type RootDatabase } from 'lmdb';

export class KeyvLmdbStore extends EventEmitter implements KeyvStoreAdapter {
  readonly opts: { path: string; dialect: 'lmdb' };
  namespace?: string;
  private readonly db: RootDatabase;

  constructor(path: string) {
    super();
    this.opts = { path, dialect: 'lmdb' };
    this.db = open({ path, compression: false });
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    return this.db.get(key) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    return (await this.db.getMany(keys)) as Array<StoredData<Value | undefined>>;
  }

  async set(key: string, value: unknown): Promise<boolean> {
    return this.db.put(key, value);
  }

  async delete(key: string): Promise<boolean> {
    return this.db.remove(key);
  }

  async has(key: string): Promise<boolean> {
    return this.db.doesExist(key);
  }

  /** Removes this namespace's keys only: other Keyv instances may share the file. */
  async clear(): Promise<void> {
    if (!this.namespace) {
      await this.db.clearAsync();
      return;
    }
    const prefix = `${this.namespace}:`;
    await this.db.transaction(() => {
      for (const key of this.db.getKeys({ start: prefix })) {
        if (typeof key !== 'string' || !key.startsWith(prefix)) break;
        this.db.removeSync(key);
      }
    });
  }

  async disconnect(): Promise<void> {
    await this.db.close();
  }
}
