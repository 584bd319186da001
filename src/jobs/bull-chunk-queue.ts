/**
 * A job's chunks as BullMQ jobs in Redis, so that every instance sharing the Redis takes chunks
 * of every job. Each instance runs a BullMQ Worker; a worker holds a lock on the chunk it runs
 * and renews it while it runs. If the instance dies (SIGKILL, a lost machine), the lock lapses,
 * BullMQ's stalled-job check moves the chunk back to the wait list, and another instance runs it:
 * the outcomes the dead instance stored stay, the chunk computes only the indices without one.
 */
import { createClient } from '@redis/client';
import { Queue, Worker } from 'bullmq';
import { chunksOf, type Chunk, type ChunkQueue, type ChunkRunner } from './chunk-queue.ts';
import type { JobRecord } from './job-record.ts';

export const QUEUE_NAME = 'predictql-job-chunks';
const PREFIX = 'predictql:bull';
/**
 * How long a chunk's lock lasts without renewal (the worker renews it at half this), and how
 * often each worker looks for stalled chunks: a dead instance's chunk is taken over within about
 * the sum. Short, because a chunk is short; long enough that a busy event loop still renews.
 */
const LOCK_MS = 8_000;
const STALLED_CHECK_MS = 4_000;
/** A chunk stalled this many times fails (its inputs stay unanswered; the job does not end). */
const MAX_STALLED = 10;
const CHUNK_ATTEMPTS = 10;

type Client = ReturnType<typeof createClient>;

/** How long close() waits for BullMQ to stop before it cuts the connection. */
const CLOSE_WAIT_MS = 2000;

export class BullChunkQueue implements ChunkQueue {
  private readonly client: Client;
  private readonly ready: Promise<unknown>;
  private queue: Queue | undefined;
  private worker: Worker | undefined;

  constructor(
    url: string,
    private readonly concurrency: number,
    private readonly onError: (error: unknown) => void,
  ) {
    this.client = createClient({ url });
    this.client.on('error', () => undefined);
    this.ready = this.client.connect().then(() => {
      // node-redis is one of the clients BullMQ 6 drives (it adapts it; no ioredis needed).
      this.queue = new Queue(QUEUE_NAME, { connection: this.client as never, prefix: PREFIX });
      this.queue.on('error', onError);
    });
  }

  async add(record: JobRecord): Promise<void> {
    await this.ready;
    await this.queue!.addBulk(
      chunksOf(record).map((chunk) => ({
        name: 'chunk',
        data: chunk,
        // Ids from the job's id and the chunk's start: adding a chunk twice adds it once.
        // A chunk fails only when its inputs could not run (the store unreachable, workers
        // crashing again and again): it is tried again, later, up to CHUNK_ATTEMPTS times.
        opts: { jobId: `${chunk.jobId}-${chunk.start}`, removeOnComplete: true, removeOnFail: true, attempts: CHUNK_ATTEMPTS, backoff: { type: 'exponential', delay: 1000 } },
      })),
    );
  }

  start(run: ChunkRunner): void {
    void this.ready.then(() => {
      this.worker = new Worker<Chunk>(QUEUE_NAME, (job) => run(job.data), {
        connection: this.client as never,
        prefix: PREFIX,
        concurrency: this.concurrency,
        lockDuration: LOCK_MS,
        stalledInterval: STALLED_CHECK_MS,
        maxStalledCount: MAX_STALLED,
      });
      this.worker.on('error', this.onError);
      this.worker.on('failed', (_job, error) => this.onError(error));
    });
  }

  /** Chunks that have not started are skipped by the runner (the job is CANCELLED); waiting ones are removed here. */
  async drop(jobId: string): Promise<void> {
    await this.ready;
    const waiting = await this.queue!.getJobs(['waiting', 'prioritized', 'delayed'], 0, 10_000);
    await Promise.all(waiting.filter((job) => (job.data as Chunk).jobId === jobId).map((job) => job.remove().catch(() => undefined)));
  }

  async close(): Promise<void> {
    // Bounded: with Redis down, BullMQ's close waits for a connection that never comes.
    const stop = (async () => {
      await this.worker?.close(true).catch(() => undefined);
      await this.queue?.close().catch(() => undefined);
      if (this.client.isReady) await this.client.quit().catch(() => undefined);
    })();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([stop, new Promise((resolve) => (timer = setTimeout(resolve, CLOSE_WAIT_MS)))]);
    clearTimeout(timer);
    // Stop reconnecting, whatever state the client is in.
    try {
      if (this.client.isOpen) this.client.destroy();
    } catch {
      // already closed
    }
  }

}
