/**
 * The queue of a job's chunks: consecutive ranges of its inputs, each run as one unit (looked up,
 * computed at background priority, stored). Two implementations:
 *
 * - LocalChunkQueue, for a job store on this machine (LMDB): chunks in memory, run by this
 *   process. Nothing is lost with it: after a restart, the unfinished jobs' chunks are queued
 *   again from the store, and a chunk skips the indices already answered.
 * - BullChunkQueue (bull-chunk-queue.ts), with Redis: every chunk is a BullMQ job that any
 *   instance may take, and BullMQ hands the chunk of an instance that died to another.
 */
import type { JobRecord } from './job-record.ts';

export interface Chunk {
  jobId: string;
  /** Input indices [start, end). */
  start: number;
  end: number;
}

export type ChunkRunner = (chunk: Chunk) => Promise<void>;

export interface ChunkQueue {
  /** Queues every chunk of the job. */
  add(record: JobRecord): Promise<void>;
  /** Starts taking chunks, at most `concurrency` at a time. */
  start(run: ChunkRunner): void;
  /** Drops the job's chunks that have not started (cancel). */
  drop(jobId: string): Promise<void>;
  /** Stops taking chunks and waits for the running ones. */
  close(): Promise<void>;
}

export function chunksOf(record: JobRecord): Chunk[] {
  const chunks: Chunk[] = [];
  for (let start = 0; start < record.total; start += record.chunkSize) chunks.push({ jobId: record.id, start, end: Math.min(record.total, start + record.chunkSize) });
  return chunks;
}

const RETRY_MS = 5000;

export class LocalChunkQueue implements ChunkQueue {
  private readonly pending: Chunk[] = [];
  private readonly running = new Set<Promise<void>>();
  private run: ChunkRunner | undefined;
  private closed = false;
  private readonly retries = new Set<NodeJS.Timeout>();

  constructor(
    private readonly concurrency: number,
    private readonly onError: (error: unknown, chunk: Chunk) => void,
  ) {}

  async add(record: JobRecord): Promise<void> {
    this.pending.push(...chunksOf(record));
    this.pump();
  }

  start(run: ChunkRunner): void {
    this.run = run;
    this.pump();
  }

  async drop(jobId: string): Promise<void> {
    for (let i = this.pending.length - 1; i >= 0; i--) if (this.pending[i]!.jobId === jobId) this.pending.splice(i, 1);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.pending.length = 0;
    for (const timer of this.retries) clearTimeout(timer);
    await Promise.all(this.running);
  }

  /** A chunk whose inputs could not run goes back in the queue after a pause (a restart would also requeue it). */
  private retryLater(chunk: Chunk): void {
    const timer = setTimeout(() => {
      this.retries.delete(timer);
      if (this.closed) return;
      this.pending.push(chunk);
      this.pump();
    }, RETRY_MS);
    timer.unref();
    this.retries.add(timer);
  }

  private pump(): void {
    while (this.run && !this.closed && this.running.size < this.concurrency && this.pending.length > 0) {
      const chunk = this.pending.shift()!;
      const running: Promise<void> = this.run(chunk)
        .catch((error: unknown) => {
          this.onError(error, chunk);
          this.retryLater(chunk);
        })
        .finally(() => {
          this.running.delete(running);
          this.pump();
        });
      this.running.add(running);
    }
  }
}
