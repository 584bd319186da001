/**
 * A Keyv store on LMDB: an embedded, memory-mapped B-tree on disk. It is the default result
 * cache because it needs no server, survives restarts and crashes (copy-on-write pages, no
 * journal to replay, so a killed process leaves the last committed state), lets several
 * processes on one machine share one file, and reads in microseconds. No Keyv adapter for it is
 * published, hence this class.
 *
 * Values are stored as Keyv hands them over ({ value, expires }) in LMDB's msgpack encoding,
 * which keeps binary values binary; Keyv itself is set up not to serialize them to JSON text.
 */
import { EventEmitter } from 'node:events';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { open, type RootDatabase } from 'lmdb';

export class KeyvLmdbStore extends EventEmitter implements KeyvStoreAdapter {
  // Keyv reads opts.dialect and opts.url to decide whether a store can be iterated.
  readonly opts: { path: string; dialect: 'lmdb'; url: string };
  /** Set by Keyv: the prefix of this adapter's keys (`namespace:`). */
  namespace?: string;
  private readonly db: RootDatabase;

  constructor(path: string, db?: RootDatabase) {
    super();
    this.opts = { path, dialect: 'lmdb', url: `lmdb://${path}` };
    this.db = db ?? open({ path, compression: false });
  }

  /** Another adapter on the same database file, for a second Keyv namespace. */
  sibling(): KeyvLmdbStore {
    return new KeyvLmdbStore(this.opts.path, this.db);
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

  /** Removes the keys of this namespace that start with `prefix`, in one transaction; returns how many. */
  async deletePrefix(prefix = ''): Promise<number> {
    const start = `${this.namespace ? `${this.namespace}:` : ''}${prefix}`;
    let removed = 0;
    await this.db.transaction(() => {
      for (const key of this.db.getKeys({ start })) {
        if (typeof key !== 'string' || !key.startsWith(start)) break;
        this.db.removeSync(key);
        removed++;
      }
    });
    return removed;
  }

  /** Removes this namespace's keys only: other namespaces share the file. */
  async clear(): Promise<void> {
    await this.deletePrefix();
  }

  async disconnect(): Promise<void> {
    await this.db.close();
  }
}
