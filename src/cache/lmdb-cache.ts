/**
 * The embedded cache store: one LMDB environment (a memory-mapped B-tree file, `data.mdb`, and
 * its reader table, `lock.mdb`) per directory, shared by every server process of the machine,
 * with its size on disk kept under CACHE_MAX_BYTES however many unique inputs come.
 *
 * How the file stays bounded. An LMDB file never shrinks, but the pages that deletions free are
 * reused by later writes. So what must be bounded is the file's high-water mark:
 *
 * - Writes go in transactions of at most WRITES_PER_TXN entries (scaled to the bound). LMDB
 *   copies every page a transaction touches and can reuse the old copies only two transactions
 *   later; one transaction of 1,000 random keys into a small tree copies nearly all of it (the
 *   file grew to 2.7x the live data in that case), so the copies of a few transactions in flight
 *   are set aside from the bound ("usable" below is what is left for live data).
 * - Live data is kept under 95% of the usable pages: past that, the oldest entries are evicted
 *   (the `.by-age` index, lmdb-space.ts) until it is under 90%. The rest of the file is a pool
 *   of free pages that writes reuse. "Live" is measured, not estimated: the page counts LMDB
 *   keeps in each tree's header, so B-tree overhead, index rows and other processes' writes
 *   count.
 * - Before a write transaction, it must fit: the file may still grow by what the transaction
 *   can copy, or enough free pages must be there. Otherwise more is evicted first, and if even
 *   that does not make room, the writes are skipped (a cache miss later, never an error).
 * - Reads end their snapshot as soon as they are done (lmdb-space.ts): a snapshot pins the pages
 *   other processes free meanwhile.
 *
 * Why the oldest answers go first, not the least recently used: recency would turn every cache
 * hit into a write (LMDB readers take no lock; writers share one lock across processes), and
 * the hot answers are served by the in-memory L1 in front of this store, so this store would
 * not even see their use. An answer never goes stale (its key holds the model version), so the
 * time it was written is as good a guess of its worth as any that is free to keep.
 *
 * Processes: each runs this loop on the same file. LMDB serialises their write transactions,
 * and every eviction step re-reads the index inside its transaction, so two processes evicting
 * at once remove different entries, and an entry another process rewrote is not evicted for
 * its old index row.
 *
 * Failures: a write transaction that fails (a full disk: ENOSPC, MDB_MAP_FULL) skips its
 * writes; the store keeps answering reads. Skips and evictions are reported as events.
 */
import { EventEmitter } from 'node:events';
import { statfsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { open, type RootDatabase } from 'lmdb';
import { LmdbSpace, treePages, type StoredRecord, type TreeStats } from './lmdb-space.ts';

export interface LmdbCacheOptions {
  /** The bound on the directory's size on disk. */
  maxBytes: number;
  /** How often expired entries are removed and the bounds checked. */
  sweepIntervalMs: number;
  /** The namespaces, each with an optional bound on its number of entries. */
  spaces: ReadonlyArray<{ name: string; maxEntries?: number }>;
}

export interface LmdbUsage {
  /** data.mdb's high-water mark: what the file takes on disk. */
  fileBytes: number;
  /** Pages held by live data (entries, indexes, LMDB's own trees). */
  liveBytes: number;
  maxBytes: number;
  /** Writes waiting in this process's queue, in bytes. */
  queuedBytes: number;
}

export type EvictionReason = 'size' | 'count' | 'expired';
export type SkipReason = 'full' | 'queue' | 'error';

export interface LmdbCacheEvents {
  evicted: [reason: EvictionReason, entries: number];
  skipped: [reason: SkipReason, writes: number, error?: unknown];
}

type Op =
  | { type: 'put'; space: LmdbSpace; key: string; record: StoredRecord; bytes: number; done: (written: boolean) => void }
  | { type: 'delete'; space: LmdbSpace; key: string; done: (removed: boolean) => void }
  | { type: 'deletePrefix'; space: LmdbSpace; prefix: string; done: (removed: number) => void; fail: (error: unknown) => void };

/** Live data past this share of the usable pages starts eviction ... */
const HIGH_WATER = 0.95;
/** ... which goes on until it is under this share. */
const LOW_WATER = 0.9;
/** lock.mdb (8 KB for LMDB's default 126 readers) and rounding. */
const RESERVED_BYTES = 64 * 1024;
/** Eviction steps per turn of the loop, so queued writes are not held up for long. */
const EVICTION_STEPS_PER_TURN = 16;
/** Rows removed per transaction by a prefix delete or the sweep (neighbouring keys: few pages). */
const BULK_ROWS_PER_TXN = 1000;
/** How long puts are skipped after a write transaction failed. */
const PAUSE_AFTER_FAILURE_MS = 1000;
/** Where the previous version kept entries: in the root database, under these prefixes. */
const LEGACY_PREFIXES = ['predictql:', 'predictql-apq:'];

export class LmdbCache extends EventEmitter<LmdbCacheEvents> {
  readonly root: RootDatabase;
  private readonly spaces = new Map<string, LmdbSpace>();
  private readonly pageSize: number;
  /** The bound in pages, less the reserve and one transaction's worth of eviction copies. */
  private readonly maxPages: number;
  /** What live data may take: maxPages less the copies of the transactions in flight. */
  private readonly usablePages: number;
  readonly writesPerTxn: number;
  /** Pages one write transaction may copy: a leaf and its branch path per write, at most. */
  private readonly txnPages: number;
  private readonly maxPendingBytes: number;
  private readonly ops: Op[] = [];
  private pendingBytes = 0;
  private draining: Promise<void> | undefined;
  private maintenanceDue = true;
  private evicting = false;
  private closed = false;
  /** After a failed write: puts are skipped until then. */
  private writesPausedUntil = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly dir: string,
    readonly options: LmdbCacheOptions,
  ) {
    super();
    // noSubdir: false, or lmdb-js takes a directory whose name has a dot (cache.v2) for a file.
    // eventTurnBatching: false: every write here is an explicit transaction (the write loop), and
    // lmdb-js's event-turn batch leaves an internal promise unhandled when a commit fails (a full
    // disk), which would crash the process.
    this.root = open({ path: dir, noSubdir: false, compression: false, eventTurnBatching: false, maxDbs: 4 + 3 * options.spaces.length });
    for (const { name, maxEntries } of options.spaces) this.spaces.set(name, new LmdbSpace(this.root, name, maxEntries));
    this.pageSize = (this.root.getStats() as { pageSize: number }).pageSize;
    const boundPages = Math.floor((options.maxBytes - RESERVED_BYTES) / this.pageSize);
    this.writesPerTxn = Math.min(1024, Math.max(16, Math.floor(boundPages / 64)));
    this.txnPages = copiesOf(this.writesPerTxn);
    this.maxPages = boundPages - this.txnPages;
    this.usablePages = this.maxPages - 3 * this.txnPages;
    if (this.usablePages < 64) throw new Error(`CACHE_MAX_BYTES ${options.maxBytes} is too small for an LMDB cache`);
    this.maxPendingBytes = Math.min(64 * 1024 * 1024, Math.max(1024 * 1024, Math.floor(options.maxBytes / 4)));
    this.timer = setInterval(() => {
      this.maintenanceDue = true;
      this.kick();
    }, options.sweepIntervalMs).unref();
    this.kick();
  }

  space(name: string): LmdbSpace {
    const space = this.spaces.get(name);
    if (!space) throw new Error(`no LMDB cache namespace "${name}"`);
    return space;
  }

  /** Queues a write; resolves true once committed, false if it was skipped (no room, queue full, write failed). */
  put(space: LmdbSpace, key: string, record: StoredRecord): Promise<boolean> {
    const bytes = key.length * 2 + (typeof record.value === 'string' ? record.value.length * 2 : record.value.byteLength) + 64;
    if (this.closed || this.pendingBytes + bytes > this.maxPendingBytes) {
      this.emit('skipped', 'queue', 1);
      return Promise.resolve(false);
    }
    this.pendingBytes += bytes;
    return new Promise((done) => this.enqueue({ type: 'put', space, key, record, bytes, done }));
  }

  delete(space: LmdbSpace, key: string): Promise<boolean> {
    return new Promise((done) => this.enqueue({ type: 'delete', space, key, done }));
  }

  /** Removes the entries whose key starts with `prefix`, after every write queued before; returns how many. */
  deletePrefix(space: LmdbSpace, prefix: string): Promise<number> {
    return new Promise((done, fail) => this.enqueue({ type: 'deletePrefix', space, prefix, done, fail }));
  }

  usage(): LmdbUsage {
    const { filePages, livePages } = this.pages();
    return { fileBytes: filePages * this.pageSize, liveBytes: livePages * this.pageSize, maxBytes: this.options.maxBytes, queuedBytes: this.pendingBytes };
  }

  /** Things an operator should know at startup: a file already over the bound, a disk smaller than it. */
  warnings(): string[] {
    const warnings: string[] = [];
    const fileBytes = fileSize(join(this.dir, 'data.mdb'));
    if (fileBytes > this.options.maxBytes) {
      warnings.push(
        `the cache file is ${fileBytes} bytes, over CACHE_MAX_BYTES (${this.options.maxBytes}); an LMDB file does not shrink, so it keeps its size (its live data is evicted down to the bound and the rest reused); to reclaim the disk, stop every server process and delete ${this.dir}`,
      );
    }
    try {
      const fs = statfsSync(this.dir);
      const free = fs.bavail * fs.bsize;
      if (free + fileBytes < this.options.maxBytes) {
        warnings.push(`the disk holding ${this.dir} has ${free} bytes free, less than CACHE_MAX_BYTES (${this.options.maxBytes}) allows the cache to take; when it fills, cache writes are skipped`);
      }
    } catch {
      // statfs is a courtesy; a file system without it changes nothing.
    }
    return warnings;
  }

  /** Writes everything queued, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    this.maintenanceDue = false;
    await this.draining;
    await this.root.close();
  }

  private enqueue(op: Op): void {
    this.ops.push(op);
    this.kick();
  }

  private kick(): void {
    // setImmediate: the writes of this event-loop turn join one transaction.
    this.draining ??= new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.drain())
      .finally(() => {
        this.draining = undefined;
        if (this.ops.length > 0 || (this.maintenanceDue && !this.closed)) this.kick();
      });
  }

  /** The write loop: this process's only writer, so its transactions stay small and ordered. */
  private async drain(): Promise<void> {
    // Once closing, only the queued ops are finished: eviction resumes with the next start.
    while (this.ops.length > 0 || (!this.closed && (this.maintenanceDue || this.evicting))) {
      if (this.maintenanceDue && !this.closed) {
        this.maintenanceDue = false;
        await this.maintain();
        continue;
      }
      if (this.evicting && !this.closed) await this.evictTowards(Math.floor(LOW_WATER * this.usablePages), 'size');
      const op = this.ops[0];
      if (!op) continue;
      if (op.type === 'put') await this.writePuts(this.takeRun('put') as Extract<Op, { type: 'put' }>[]);
      else if (op.type === 'delete') await this.writeDeletes(this.takeRun('delete') as Extract<Op, { type: 'delete' }>[]);
      else await this.runDeletePrefix(this.ops.shift() as Extract<Op, { type: 'deletePrefix' }>);
    }
  }

  /** The queued ops of `type` at the head of the queue, at most one transaction's worth. */
  private takeRun(type: 'put' | 'delete'): Op[] {
    let n = 0;
    while (n < this.ops.length && n < this.writesPerTxn && this.ops[n]!.type === type) n++;
    return this.ops.splice(0, n);
  }

  private async writePuts(batch: Array<Extract<Op, { type: 'put' }>>): Promise<void> {
    const finish = (written: boolean) => {
      for (const op of batch) {
        this.pendingBytes -= op.bytes;
        op.done(written);
      }
    };
    if (Date.now() < this.writesPausedUntil) {
      finish(false);
      this.emit('skipped', 'error', batch.length);
      return;
    }
    if (!this.roomFor(batch.length)) {
      // Free enough pages that the transaction fits in the file as it is.
      const { filePages } = this.pages();
      await this.evictTowards(Math.min(Math.floor(LOW_WATER * this.usablePages), filePages - 4 * this.txnPages - copiesOf(batch.length)), 'size', 8);
      if (!this.roomFor(batch.length)) {
        finish(false);
        this.emit('skipped', 'full', batch.length);
        return;
      }
    }
    try {
      await this.txn(() => {
        for (const op of batch) op.space.putSync(op.key, op.record);
      });
      finish(true);
    } catch (error) {
      // A disk that refused a write will likely refuse the next: drop writes for a moment
      // rather than fail one transaction after another.
      this.writesPausedUntil = Date.now() + PAUSE_AFTER_FAILURE_MS;
      finish(false);
      this.emit('skipped', 'error', batch.length, error);
    }
    try {
      for (const space of new Set(batch.map((op) => op.space))) await this.enforceCount(space);
    } catch (error) {
      this.emit('skipped', 'error', 0, error);
    }
    if (this.pages().livePages > HIGH_WATER * this.usablePages) this.evicting = true;
  }

  private async writeDeletes(batch: Array<Extract<Op, { type: 'delete' }>>): Promise<void> {
    try {
      const removed = await this.txn(() => batch.map((op) => op.space.removeSync(op.key)));
      batch.forEach((op, i) => op.done(removed[i]!));
    } catch {
      for (const op of batch) op.done(false);
    }
  }

  private async runDeletePrefix(op: Extract<Op, { type: 'deletePrefix' }>): Promise<void> {
    try {
      let total = 0;
      for (;;) {
        const { removed, more } = await this.txn(() => op.space.removePrefixSync(op.prefix, BULK_ROWS_PER_TXN));
        total += removed;
        if (!more) break;
      }
      op.done(total);
    } catch (error) {
      op.fail(error);
    }
  }

  /** Expired entries, namespaces over their count, live data over the high-water mark, old-layout keys. */
  private async maintain(): Promise<void> {
    try {
      const now = Date.now();
      for (const space of this.spaces.values()) {
        for (let more = true; more; ) {
          const swept = await this.txn(() => space.sweepExpiredSync(now, BULK_ROWS_PER_TXN));
          if (swept.removed > 0) this.emit('evicted', 'expired', swept.removed);
          more = swept.more;
        }
        await this.enforceCount(space);
      }
      await this.removeLegacyEntries();
      if (this.pages().livePages > HIGH_WATER * this.usablePages) this.evicting = true;
    } catch (error) {
      this.emit('skipped', 'error', 0, error);
    }
  }

  /** Evicts the oldest entries of a namespace over its count bound (persisted queries). */
  private async enforceCount(space: LmdbSpace): Promise<void> {
    if (space.maxEntries === undefined) return;
    for (let excess = space.count - space.maxEntries; excess > 0; excess = space.count - space.maxEntries) {
      const evicted = await this.txn(() => evictOldestSync([space], Math.min(excess, this.writesPerTxn)));
      if (evicted.entries > 0) this.emit('evicted', 'count', evicted.entries);
      if (evicted.rows === 0) break;
    }
  }

  /**
   * Evicts the oldest entries, one small transaction at a time, until live data is at most
   * `targetPages` or `steps` transactions ran (the loop comes back for more between writes).
   */
  private async evictTowards(targetPages: number, reason: EvictionReason, steps = EVICTION_STEPS_PER_TURN): Promise<void> {
    try {
      for (let step = 0; step < steps; step++) {
        if (this.pages().livePages <= targetPages) {
          this.evicting = false;
          return;
        }
        const evicted = await this.txn(() => evictOldestSync([...this.spaces.values()], this.writesPerTxn));
        if (evicted.entries > 0) this.emit('evicted', reason, evicted.entries);
        if (evicted.rows === 0) {
          this.evicting = false;
          return;
        }
      }
    } catch (error) {
      this.evicting = false;
      this.emit('skipped', 'error', 0, error);
    }
  }

  /**
   * One write transaction. lmdb-js rejects each write of a failed commit with a generic error
   * whose `commitError` is a second promise holding the cause (EIO, ENOSPC, MDB_MAP_FULL); left
   * unhandled, that promise would crash the process. It is handled here and its cause thrown.
   */
  private async txn<T>(work: () => T): Promise<T> {
    try {
      return await this.root.transaction(work);
    } catch (error) {
      const commitError = (error as { commitError?: Promise<unknown> }).commitError;
      if (!commitError) throw error;
      throw await commitError.then(
        () => error,
        (cause: unknown) => cause,
      );
    }
  }

  /** Whether a transaction of `writes` puts can run without taking the file past the bound. */
  private roomFor(writes: number): boolean {
    const { filePages, livePages } = this.pages();
    const copies = copiesOf(writes);
    // Pages freed by the last two transactions are not reusable yet; hence the margin.
    return filePages + copies <= this.maxPages || filePages - livePages >= copies + 2 * this.txnPages;
  }

  private pages(): { filePages: number; livePages: number } {
    const stats = this.root.getStats() as TreeStats & { lastPageNumber: number; root: TreeStats; free: TreeStats };
    let livePages = treePages(stats.root) + treePages(stats.free);
    for (const space of this.spaces.values()) livePages += space.pages;
    this.root.resetReadTxn();
    return { filePages: stats.lastPageNumber + 1, livePages };
  }

  /** The previous version kept entries in the root database; they are cache, so they go. */
  private async removeLegacyEntries(): Promise<void> {
    for (const prefix of LEGACY_PREFIXES) {
      for (let more = true; more; ) {
        more = await this.txn(() => {
          let n = 0;
          for (const key of [...this.root.getKeys({ start: prefix, limit: BULK_ROWS_PER_TXN, snapshot: false })]) {
            if (typeof key !== 'string' || !key.startsWith(prefix)) break;
            this.root.removeSync(key);
            n++;
          }
          return n === BULK_ROWS_PER_TXN;
        });
      }
    }
  }
}

/** Evicts up to `n` of the oldest entries across `spaces` (run inside a write transaction). */
function evictOldestSync(spaces: readonly LmdbSpace[], n: number): { rows: number; entries: number } {
  const rows = spaces.flatMap((space) => space.oldest(n).map((indexKey) => ({ space, indexKey })));
  rows.sort((a, b) => a.indexKey[0] - b.indexKey[0]);
  let entries = 0;
  const taken = rows.slice(0, n);
  for (const { space, indexKey } of taken) if (space.evictSync(indexKey)) entries++;
  return { rows: taken.length, entries };
}

/** Pages a transaction of `writes` puts may copy: a leaf and its branch path per write, at most. */
function copiesOf(writes: number): number {
  return 4 * writes + 8;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
