/**
 * The job store and chunk queue for a CACHE_URL:
 *
 *   lmdb://<dir>      an LMDB environment in <dir>-jobs, chunks run by this machine's processes
 *   redis://...       jobs in Redis, chunks through BullMQ: shared by every instance
 *   anything else     (memory://, off, redis+cluster://) an LMDB environment in a temporary
 *                     directory, removed on shutdown: jobs work, but do not survive a restart
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BullChunkQueue } from './bull-chunk-queue.ts';
import { LocalChunkQueue, type ChunkQueue } from './chunk-queue.ts';
import type { JobStore } from './job-store.ts';
import { LmdbJobStore } from './lmdb-job-store.ts';
import { RedisJobStore } from './redis-job-store.ts';

export interface JobBackend {
  store: JobStore;
  queue: ChunkQueue;
  /** For logs. */
  description: string;
  warnings: string[];
  /** Removes what only this process used (a temporary directory). */
  cleanup(): void;
}

export function jobsDirFor(cacheUrl: string): string | undefined {
  return cacheUrl.startsWith('lmdb://') ? `${resolve(cacheUrl.slice('lmdb://'.length))}-jobs` : undefined;
}

export function createJobBackend(cacheUrl: string, options: { ttlSeconds: number; concurrency: number; onError: (error: unknown) => void }): JobBackend {
  const ttlMs = options.ttlSeconds * 1000;
  if (/^rediss?:\/\//.test(cacheUrl)) {
    return {
      store: new RedisJobStore(cacheUrl, ttlMs),
      queue: new BullChunkQueue(cacheUrl, options.concurrency, options.onError),
      description: 'redis + bullmq',
      warnings: [],
      cleanup: () => undefined,
    };
  }
  const dir = jobsDirFor(cacheUrl);
  const temporary = dir ? undefined : mkdtempSync(join(tmpdir(), 'predictql-jobs-'));
  return {
    store: new LmdbJobStore(dir ?? temporary!, ttlMs),
    queue: new LocalChunkQueue(options.concurrency, options.onError),
    description: `lmdb ${dir ?? temporary}`,
    warnings: temporary ? [`CACHE_URL ${cacheUrl.split('://')[0]}: prediction jobs are kept in a temporary directory and do not survive a restart (use lmdb:// or redis:// to keep them)`] : [],
    cleanup: () => {
      if (temporary) rmSync(temporary, { recursive: true, force: true });
    },
  };
}
