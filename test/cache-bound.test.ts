/**
 * The embedded store stays under CACHE_MAX_BYTES on disk while unique inputs keep coming: the
 * issue's 60,000 unique inputs with a small bound, two processes writing into one file, expired
 * entries swept without being read, and a disk that refuses writes (a file size limit: EFBIG,
 * as ENOSPC would) degrading to skipped writes, never to errors.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, it } from 'node:test';
import { startCli, type CliServer } from './helpers/cli.ts';
import { graphql } from './helpers/client.ts';
import { metricTotal } from './helpers/metrics.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

const MANY = 'query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { cacheSource ... on Classification { label } } }';
const MIB = 1024 * 1024;

/** What the directory takes on disk: each file's allocated blocks or its length, whichever is more. */
function dirBytes(dir: string): number {
  return readdirSync(dir).reduce((sum, name) => {
    const stat = statSync(join(dir, name));
    return sum + Math.max(stat.size, stat.blocks * 512);
  }, 0);
}

/** `count` iris rows no other test sends: unique inputs, numbered from `from`. */
function uniqueRows(from: number, count: number): Array<{ features: number[] }> {
  return Array.from({ length: count }, (_, i) => {
    const n = from + i;
    return { features: [4 + (n % 1000) / 250, 2 + Math.floor(n / 1000) / 100, 1 + (n % 7) / 2, 0.1 + (n % 13) / 10] };
  });
}

/** A query that must succeed: its data. */
async function ask(url: string, query: string, variables: Record<string, unknown>): Promise<any> {
  const res = await graphql(url, { query, variables });
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data;
}

/** Waits until the server's write queue is empty (its writes are committed or skipped). */
async function writesSettled(url: string): Promise<void> {
  for (let i = 0; i < 400 && (await metricTotal(url, 'predictql_cache_store_bytes', { measure: 'queued' })) > 0; i++) await new Promise((resolve) => setTimeout(resolve, 25));
}

describe('CACHE_MAX_BYTES', () => {
  it('keeps the LMDB directory under the bound through 60,000 unique inputs, evicting the oldest', async () => {
    const dir = tempDir();
    const bound = 8 * MIB;
    // No L1: a hit below can only come from the store.
    const server = await startTestServer({ CACHE_URL: `lmdb://${dir}`, CACHE_MAX_BYTES: String(bound), L1_MAX_BYTES: '0', WATCH_MODELS: 'false' });
    try {
      let largest = 0;
      for (let request = 0; request < 60; request++) {
        const data = await ask(server.url, MANY, { inputs: uniqueRows(request * 1000, 1000) });
        assert.ok(data.predictMany.every((p: { cacheSource: string }) => p.cacheSource === 'NONE'), 'every input is new');
        // Let the writes land: the bound is the subject here, not how fast the queue drains
        // (a queue that is full drops writes, counted as skipped).
        await writesSettled(server.url);
        largest = Math.max(largest, dirBytes(dir));
      }
      const evicted = await metricTotal(server.url, 'predictql_cache_evictions_total', { reason: 'size' });
      const skipped = await metricTotal(server.url, 'predictql_cache_writes_skipped_total');
      const live = await metricTotal(server.url, 'predictql_cache_store_bytes', { measure: 'live' });
      const entries = 60_000 - skipped - evicted;
      console.log(`60,000 unique inputs, CACHE_MAX_BYTES ${bound}: largest directory ${largest} bytes; ${evicted} evicted, ${skipped} skipped, ${entries} kept; ${Math.round(live / entries)} live bytes per entry`);
      assert.ok(largest <= bound, `the directory reached ${largest} bytes, over ${bound}`);
      assert.ok(evicted >= 30_000, `${evicted} answers were evicted to stay under the bound`);
      // The newest answers are the ones kept: the last request's inputs come from the store.
      const again = await ask(server.url, MANY, { inputs: uniqueRows(59_000, 1000) });
      const fromStore = again.predictMany.filter((p: { cacheSource: string }) => p.cacheSource === 'STORE').length;
      assert.ok(fromStore >= 990, `${fromStore} of the newest 1000 answers were kept`);
      // The oldest went first.
      const oldest = await ask(server.url, MANY, { inputs: uniqueRows(0, 1000) });
      assert.equal(oldest.predictMany.filter((p: { cacheSource: string }) => p.cacheSource === 'STORE').length, 0, 'the oldest answers were evicted');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('holds with two processes writing into one file, and each reads what the other wrote', async () => {
    const dir = tempDir();
    const bound = 8 * MIB;
    const args = ['--cache-url', `lmdb://${dir}`, '--cache-max-bytes', String(bound), '--l1-max-bytes', '0', '--workers', '1', '--watch-models', 'false'];
    const servers = await Promise.all([startCli(args), startCli(args)]);
    try {
      let largest = 0;
      for (let round = 0; round < 15; round++) {
        await Promise.all(servers.map((s, i) => ask(s.url, MANY, { inputs: uniqueRows(100_000 * (i + 1) + round * 1000, 1000) })));
        await Promise.all(servers.map((s) => writesSettled(s.url)));
        largest = Math.max(largest, dirBytes(dir));
      }
      const evicted = (await Promise.all(servers.map((s) => metricTotal(s.url, 'predictql_cache_evictions_total', { reason: 'size' })))).reduce((a, b) => a + b, 0);
      assert.ok(largest <= bound, `the directory reached ${largest} bytes, over ${bound}`);
      assert.ok(evicted > 0, 'the processes evicted');
      // Each reads the newest answers the other one wrote.
      const [a, b] = servers as [CliServer, CliServer];
      const fromB = await ask(a.url, MANY, { inputs: uniqueRows(200_000 + 14_000, 1000) });
      const fromA = await ask(b.url, MANY, { inputs: uniqueRows(100_000 + 14_000, 1000) });
      for (const read of [fromA, fromB]) {
        assert.ok(read.predictMany.filter((p: { cacheSource: string }) => p.cacheSource === 'STORE').length >= 900, 'the newest answers of the other process are shared');
      }
    } finally {
      for (const s of servers) s.child.kill('SIGTERM');
      await Promise.all(servers.map((s) => once(s.child, 'exit')));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('sweeps expired answers in the background, without reading them', async () => {
    const dir = tempDir();
    const server = await startTestServer({ CACHE_URL: `lmdb://${dir}`, CACHE_TTL_SECONDS: '1', CACHE_SWEEP_INTERVAL_MS: '100', WATCH_MODELS: 'false' });
    try {
      await ask(server.url, MANY, { inputs: uniqueRows(300_000, 500) });
      await writesSettled(server.url);
      const liveBefore = await metricTotal(server.url, 'predictql_cache_store_bytes', { measure: 'live' });
      let expired = 0;
      for (let i = 0; i < 100 && expired < 500; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        expired = await metricTotal(server.url, 'predictql_cache_evictions_total', { reason: 'expired' });
      }
      assert.equal(expired, 500, 'every expired answer was removed by the sweep');
      assert.ok((await metricTotal(server.url, 'predictql_cache_store_bytes', { measure: 'live' })) < liveBefore, 'their space is free again');
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('turns a disk that refuses writes into skipped cache writes, never into errors', async () => {
    const dir = tempDir();
    // A file size limit of 1 MiB: LMDB's writes past it fail with EFBIG, as they would with
    // ENOSPC on a full disk (Node ignores SIGXFSZ, so the write fails instead of killing it).
    const child = spawn('bash', ['-c', `ulimit -f 1024; exec "${process.execPath}" --import tsx src/main.ts --port 0 --cache-url lmdb://${dir} --l1-max-bytes 0 --workers 1 --watch-models false`], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const server: CliServer = { child, url: '', logs: [] };
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const entry = JSON.parse(line) as Record<string, unknown>;
        server.logs.push(entry);
        if (entry.msg === 'listening') server.url = String(entry.url);
        if (entry.msg === 'ready') resolve();
      });
    });
    try {
      const first = uniqueRows(400_000, 200);
      await ask(server.url, MANY, { inputs: first });
      await writesSettled(server.url);
      for (let request = 1; request <= 30; request++) {
        const data = await ask(server.url, MANY, { inputs: uniqueRows(400_000 + request * 1000, 1000) });
        assert.equal(data.predictMany.length, 1000);
        await writesSettled(server.url);
      }
      assert.ok(dirBytes(dir) <= 1024 * 1024 + 64 * 1024, 'the file stayed within the limit');
      assert.ok((await metricTotal(server.url, 'predictql_cache_writes_skipped_total', { reason: 'error' })) > 0, 'writes were skipped and counted');
      // Reads go on: the answers stored before the disk filled are still served.
      const again = await ask(server.url, MANY, { inputs: first });
      assert.ok(again.predictMany.every((p: { cacheSource: string }) => p.cacheSource === 'STORE'), 'stored answers are still read');
      assert.ok(server.logs.some((line) => line.msg === 'result cache write failed; answers are served but not stored until it recovers'));
    } finally {
      child.kill('SIGTERM');
      await once(child, 'exit');
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
