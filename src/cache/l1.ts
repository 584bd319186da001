/**
 * The in-memory first level of the result cache: a least-recently-used map bounded in bytes
 * (not entries, since one answer may be 12 bytes and another 100 KB), and optionally in entries.
 * A hit costs a Map lookup, no I/O and no promise. Also the whole store of `memory://`.
 */
export class ByteLru {
  private readonly entries = new Map<string, { bytes: Uint8Array; expiresAt: number }>();
  private size = 0;

  constructor(
    readonly maxBytes: number,
    readonly maxEntries = Number.POSITIVE_INFINITY,
  ) {}

  get count(): number {
    return this.entries.size;
  }

  get bytes(): number {
    return this.size;
  }

  get(key: string): Uint8Array | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    // Re-insert to mark it most recently used: a Map iterates in insertion order.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.bytes;
  }

  set(key: string, bytes: Uint8Array, ttlMs?: number): void {
    const cost = bytes.byteLength + key.length * 2;
    if (cost > this.maxBytes) return;
    this.delete(key);
    this.entries.set(key, { bytes, expiresAt: ttlMs ? Date.now() + ttlMs : Number.POSITIVE_INFINITY });
    this.size += cost;
    for (const [oldest, entry] of this.entries) {
      if (this.size <= this.maxBytes && this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
      this.size -= entry.bytes.byteLength + oldest.length * 2;
    }
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.size -= entry.bytes.byteLength + key.length * 2;
  }

  /** Removes the keys that start with `prefix` (all of them when it is empty); returns how many. */
  deletePrefix(prefix: string): number {
    let removed = 0;
    for (const key of [...this.entries.keys()]) {
      if (key.startsWith(prefix)) {
        this.delete(key);
        removed++;
      }
    }
    return removed;
  }
}
