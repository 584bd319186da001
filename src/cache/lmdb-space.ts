/**
 * One Keyv namespace of the LMDB cache (the predictions, or Apollo's persisted queries): three
 * named databases in the shared environment.
 *
 *   <name>             key -> record: when it was written, when it expires, the value
 *   <name>.by-age      [writtenAt, key] -> (empty): the entries oldest first, for eviction
 *   <name>.by-expiry   [expiresAt, key] -> (empty): entries with a lifetime, soonest first
 *
 * The indexes are never updated in place: an entry written again gets a second index row, and
 * the old row is recognised as stale (its time is not the record's) and dropped when eviction or
 * the sweep reaches it. That keeps a write to three blind puts, with no read before it.
 *
 * The `...Sync` methods run inside a write transaction (LmdbCache runs them); they read through
 * that transaction, so what they see is what they change, whichever process wrote it.
 */
import type { Database, Key, RootDatabase } from 'lmdb';

export type StoredValue = Uint8Array | string;

export interface StoredRecord {
  value: StoredValue;
  /** Epoch milliseconds; undefined: no expiry. */
  expires?: number;
  /** Epoch milliseconds of the write. */
  at: number;
}

const RECORD_VERSION = 1;
const BINARY = 0;
const TEXT = 1;
const HEADER_BYTES = 1 + 1 + 8 + 8;
const EMPTY = new Uint8Array(0);

/** [version][value type][at f64][expires f64, 0 for none][value bytes] */
export function encodeRecord(record: StoredRecord): Uint8Array {
  const value = typeof record.value === 'string' ? new TextEncoder().encode(record.value) : record.value;
  const bytes = new Uint8Array(HEADER_BYTES + value.byteLength);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, RECORD_VERSION);
  view.setUint8(1, typeof record.value === 'string' ? TEXT : BINARY);
  view.setFloat64(2, record.at, true);
  view.setFloat64(10, record.expires ?? 0, true);
  bytes.set(value, HEADER_BYTES);
  return bytes;
}

export function decodeRecord(bytes: Uint8Array | undefined): StoredRecord | undefined {
  if (!bytes || bytes.byteLength < HEADER_BYTES || bytes[0] !== RECORD_VERSION) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const payload = bytes.subarray(HEADER_BYTES);
  const expires = view.getFloat64(10, true);
  return {
    value: view.getUint8(1) === TEXT ? new TextDecoder().decode(payload) : new Uint8Array(payload),
    expires: expires > 0 ? expires : undefined,
    at: view.getFloat64(2, true),
  };
}

type IndexKey = [number, string];

export class LmdbSpace {
  private readonly entries: Database<Uint8Array, string>;
  private readonly byAge: Database<Uint8Array, IndexKey>;
  private readonly byExpiry: Database<Uint8Array, IndexKey>;

  constructor(
    private readonly root: RootDatabase,
    readonly name: string,
    /** Entries beyond this are evicted oldest first (persisted queries); undefined: no count limit. */
    readonly maxEntries?: number,
  ) {
    this.entries = root.openDB({ name, encoding: 'binary' }) as unknown as Database<Uint8Array, string>;
    this.byAge = root.openDB({ name: `${name}.by-age`, encoding: 'binary' }) as unknown as Database<Uint8Array, IndexKey>;
    this.byExpiry = root.openDB({ name: `${name}.by-expiry`, encoding: 'binary' }) as unknown as Database<Uint8Array, IndexKey>;
  }

  /** The live record of `key`; an expired one reads as absent (the sweep removes it). */
  get(key: string, now = Date.now()): StoredRecord | undefined {
    const bytes = this.entries.get(key);
    this.releaseSnapshot();
    return live(decodeRecord(bytes), now);
  }

  async getMany(keys: readonly string[], now = Date.now()): Promise<Array<StoredRecord | undefined>> {
    const values = (await this.entries.getMany(keys as string[])) as Array<Uint8Array | undefined>;
    this.releaseSnapshot();
    return values.map((bytes) => live(decodeRecord(bytes), now));
  }

  /**
   * Ends this process's read snapshot now rather than at lmdb-js's next timer turn. Pages that
   * other processes free while a snapshot is open cannot be reused, so a snapshot held through a
   * long event-loop turn (serialising a big response) would let their writes grow the file.
   */
  releaseSnapshot(): void {
    this.root.resetReadTxn();
  }

  /** Entries, index rows included in nothing: LMDB keeps the count in the tree's header. */
  get count(): number {
    return (this.entries.getStats() as { entryCount: number }).entryCount;
  }

  /** Pages held by the three trees. */
  get pages(): number {
    return [this.entries, this.byAge, this.byExpiry].reduce((sum, db) => sum + treePages(db.getStats() as TreeStats), 0);
  }

  /** The age of the oldest `limit` index rows (some may be stale). */
  oldest(limit: number): IndexKey[] {
    return [...this.byAge.getKeys({ limit, snapshot: false })] as IndexKey[];
  }

  putSync(key: string, record: StoredRecord): void {
    this.entries.putSync(key, encodeRecord(record));
    this.byAge.putSync([record.at, key], EMPTY);
    if (record.expires !== undefined) this.byExpiry.putSync([record.expires, key], EMPTY);
  }

  /** Removes the entry and its index rows; false if there was none. */
  removeSync(key: string): boolean {
    const record = decodeRecord(this.entries.get(key));
    if (!record) return this.entries.removeSync(key);
    this.byAge.removeSync([record.at, key]);
    if (record.expires !== undefined) this.byExpiry.removeSync([record.expires, key]);
    return this.entries.removeSync(key);
  }

  /** Drops the index row [at, key], and the entry too if the row is its current one; true if an entry went. */
  evictSync([at, key]: IndexKey): boolean {
    this.byAge.removeSync([at, key]);
    const record = decodeRecord(this.entries.get(key));
    if (!record || record.at !== at) return false;
    if (record.expires !== undefined) this.byExpiry.removeSync([record.expires, key]);
    return this.entries.removeSync(key);
  }

  /** Removes up to `limit` entries whose lifetime ended by `now`; returns how many entries went. */
  sweepExpiredSync(now: number, limit: number): { removed: number; more: boolean } {
    const due = [...(this.byExpiry.getKeys({ end: [now, '\uffff'], limit, snapshot: false }) as Iterable<IndexKey>)];
    let removed = 0;
    for (const [expires, key] of due) {
      this.byExpiry.removeSync([expires, key]);
      const record = decodeRecord(this.entries.get(key));
      if (!record || record.expires !== expires) continue;
      this.byAge.removeSync([record.at, key]);
      this.entries.removeSync(key);
      removed++;
    }
    return { removed, more: due.length === limit };
  }

  /** Removes up to `limit` entries whose key starts with `prefix`; returns how many and whether more may be left. */
  removePrefixSync(prefix: string, limit: number): { removed: number; more: boolean } {
    const keys: string[] = [];
    for (const key of this.entries.getKeys({ start: prefix, limit, snapshot: false }) as Iterable<Key>) {
      if (typeof key !== 'string' || !key.startsWith(prefix)) break;
      keys.push(key);
    }
    let removed = 0;
    for (const key of keys) if (this.removeSync(key)) removed++;
    return { removed, more: keys.length === limit };
  }
}

export interface TreeStats {
  treeBranchPageCount: number;
  treeLeafPageCount: number;
  overflowPages: number;
}

export function treePages(stats: TreeStats): number {
  return stats.treeBranchPageCount + stats.treeLeafPageCount + stats.overflowPages;
}

function live(record: StoredRecord | undefined, now: number): StoredRecord | undefined {
  return record && (record.expires === undefined || record.expires > now) ? record : undefined;
}
