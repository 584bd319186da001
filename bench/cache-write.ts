/**
 * What bounding the LMDB cache costs on the write path, in one run on the same machine:
 *
 *   unbounded   the previous store: one put per answer into the root database, lmdb-js batching
 *               the writes of an event-loop turn into one transaction
 *   bounded     LmdbCache (src/cache/lmdb-cache.ts) with room to spare: the record, its by-age
 *               index row, small transactions from one write loop, the live size measured
 *   evicting    LmdbCache with a bound under the data's size: steady-state eviction as well
 *               (16 MiB: about two thirds of the data; 4 MiB: the smallest bound allowed, whose
 *               transactions are the smallest, so the worst case per write)
 *
 * Each writes the same answers (iris-sized entries under real-looking keys) in bursts of 1000,
 * as a 1000-input predictMany does, waiting for each burst to commit. Reported: writes per
 * second, main-thread time per write (event-loop utilisation x wall time: what the server's
 * requests would not get), and the directory's size per entry written and per entry kept.
 *
 *   flock -x /tmp/predictql-cpu.lock node --import tsx bench/cache-write.ts [entries]
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { open } from 'lmdb';
import { LmdbCache } from '../src/cache/lmdb-cache.ts';

const ENTRIES = Number(process.argv[2] ?? 60_000);
const BURST = 1000;
const MIB = 1024 * 1024;

const keys = Array.from({ length: ENTRIES }, () => `predictql:iris@0123456789ab:${randomBytes(9).toString('base64url').slice(0, 11)}`);
// An iris answer: format byte, digest, kind, label index, three probabilities.
const values = Array.from({ length: ENTRIES }, () => new Uint8Array(randomBytes(54)));

function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => {
    const stat = statSync(join(dir, name));
    return sum + Math.max(stat.size, stat.blocks * 512);
  }, 0);
}

interface Result {
  name: string;
  writesPerSecond: number;
  mainThreadUsPerWrite: number;
  bytesPerWritten: number;
  kept: number;
  bytesPerKept: number;
}

async function measure(name: string, write: (from: number, to: number) => Promise<void>, finish: () => Promise<number>, dir: string): Promise<Result> {
  const elu = performance.eventLoopUtilization();
  const started = performance.now();
  for (let from = 0; from < ENTRIES; from += BURST) await write(from, Math.min(ENTRIES, from + BURST));
  const wall = performance.now() - started;
  const busy = performance.eventLoopUtilization(elu).utilization * wall;
  const kept = await finish();
  const bytes = dirBytes(dir);
  return {
    name,
    writesPerSecond: Math.round(ENTRIES / (wall / 1000)),
    mainThreadUsPerWrite: Number(((busy * 1000) / ENTRIES).toFixed(1)),
    bytesPerWritten: Math.round(bytes / ENTRIES),
    kept,
    bytesPerKept: Math.round(bytes / kept),
  };
}

async function unbounded(): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-lmdb-'));
  const db = open({ path: dir, noSubdir: false, compression: false });
  try {
    return await measure(
      'unbounded (previous)',
      async (from, to) => {
        const writes: Array<Promise<boolean>> = [];
        for (let i = from; i < to; i++) writes.push(db.put(keys[i]!, { value: values[i], expires: undefined }));
        await Promise.all(writes);
      },
      async () => (db.getStats() as { entryCount: number }).entryCount,
      dir,
    );
  } finally {
    await db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function bounded(name: string, maxBytes: number): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-lmdb-'));
  const cache = new LmdbCache(dir, { maxBytes, sweepIntervalMs: 60_000, spaces: [{ name: 'predictql' }, { name: 'predictql-apq', maxEntries: 10_000 }] });
  const space = cache.space('predictql');
  try {
    return await measure(
      name,
      async (from, to) => {
        const writes: Array<Promise<boolean>> = [];
        for (let i = from; i < to; i++) writes.push(cache.put(space, keys[i]!, { value: values[i]!, at: Date.now() }));
        await Promise.all(writes);
      },
      async () => space.count,
      dir,
    );
  } finally {
    await cache.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results = [
  await unbounded(),
  await bounded('bounded, no eviction', 1024 * MIB),
  await bounded('bounded, evicting (16 MiB)', 16 * MIB),
  await bounded('bounded, evicting (4 MiB)', 4 * MIB),
];
const base = results[0]!;
console.log(`${ENTRIES} writes in bursts of ${BURST}\n`);
console.log('| store | writes/s | vs previous | main thread per write | bytes on disk per write | entries kept | bytes per entry kept |');
console.log('|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.name} | ${r.writesPerSecond} | ${(r.writesPerSecond / base.writesPerSecond).toFixed(2)}x | ${r.mainThreadUsPerWrite} us | ${r.bytesPerWritten} | ${r.kept} | ${r.bytesPerKept} |`);
}
