/**
 * `predictStream`: the answers of a predictMany, one event per input, as each is ready.
 *
 * A PredictionStream is an async iterator of events, framework-free: graphql-js's `subscribe`
 * pulls from it for whichever transport carries the subscription (graphql-ws, graphql-sse).
 * Its inputs take the same path as predictMany's (RequestPredictions' loader: the cache lookup,
 * then the model's process-wide batcher, so they join other clients' batches), one promise per
 * input, and each answer becomes an event when its promise settles: cache hits first, then in
 * completion order. A failed input is an event with its error; the stream goes on.
 *
 * Flow control. The stream holds at most `bufferEvents` inputs at a time, submitted and not yet
 * taken by the transport; it submits more as its client takes answers (the transports pull the
 * next event only once the previous one is written to the socket). A slow reader therefore slows
 * its own stream and holds at most `bufferEvents` answers in memory. A full buffer alone does not
 * mean the client is slow: a burst of cache hits fills any buffer at once. A client that takes
 * nothing for `stallMs` while answers wait for it has stopped reading: the stream ends with
 * STREAM_TOO_SLOW and the transport cuts the connection.
 *
 * Leaving. `return()` (the client unsubscribed, its socket closed) aborts the stream's signal:
 * queued inputs no other request waits for are dropped before they run (the batcher's path for
 * clients that leave), and inputs not yet submitted never are.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import { cancelled, CodedError, codeOf, shuttingDown, streamTooSlow, tooManyStreams } from '../domain/errors.ts';
import type { Metrics } from '../metrics.ts';
import type { PredictionResult } from './prediction.ts';

export interface PredictionErrorValue {
  code: string;
  message: string;
}

/** One event of a stream, as the schema's PredictionEvent. */
export interface PredictionEventValue {
  index: number;
  prediction: PredictionResult | null;
  error: PredictionErrorValue | null;
  done: number;
  total: number;
}

export interface StreamSettings {
  /** MAX_STREAMS: streams open at once in this process. */
  maxStreams: number;
  /** STREAM_BUFFER_EVENTS: inputs a stream holds at once, submitted and not yet taken by its client. */
  bufferEvents: number;
  /** STREAM_STALL_MS: how long answers may wait for a client that takes none. */
  stallMs: number;
}

/** What a stream computes inputs with, several at a time (one cache lookup): a promise per input, settled when it is answered. */
export type ComputeInputs = (indices: readonly number[]) => Array<Promise<PredictionResult>>;

export interface StreamHooks {
  /** Called once when the stream is cut for a stalled reader: the transport closes the connection. */
  onStalled?: (error: CodedError) => void;
  /** Called for an error with no public code (a bug): the event carries a masked message, the log the details. */
  onUnexpected?: (error: unknown) => void;
  /** Called once when the stream ends, however it ends (deadline timers are freed there). */
  onEnd?: () => void;
}

type Ending = 'completed' | 'left' | 'too_slow' | 'shutting_down';

const MASKED_MESSAGE = 'internal server error; the server log has the details';

/**
 * The process's streams: admits new ones up to MAX_STREAMS, counts them in the metrics, and ends
 * them all when the server shuts down.
 */
export class StreamRegistry {
  private readonly open = new Set<PredictionStream>();
  private closing = false;

  constructor(
    readonly settings: StreamSettings,
    private readonly metrics: Metrics,
  ) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Opens a stream of `total` inputs. Throws TOO_MANY_STREAMS past MAX_STREAMS and SHUTTING_DOWN
   * once close() has begun, before anything is queued.
   */
  openStream(total: number, compute: ComputeInputs, signal: AbortController, hooks: StreamHooks = {}): PredictionStream {
    if (this.closing) {
      this.metrics.streams.inc({ outcome: 'refused' });
      throw shuttingDown();
    }
    if (this.open.size >= this.settings.maxStreams) {
      this.metrics.streams.inc({ outcome: 'refused' });
      throw tooManyStreams(this.settings.maxStreams);
    }
    const stream = new PredictionStream(total, compute, signal, this.settings, this.metrics, hooks, (s) => this.open.delete(s));
    this.open.add(stream);
    this.metrics.streamsOpen.inc();
    stream.start();
    return stream;
  }

  /**
   * Shutdown: refuses new streams; every open one drops the inputs not answered yet, sends the
   * answers that are ready, then ends with SHUTTING_DOWN.
   */
  close(): void {
    this.closing = true;
    for (const stream of this.open) stream.shutDown();
  }

  /** Resolves when no stream is open, or after `timeoutMs` (a client that does not read is not waited for). */
  async ended(timeoutMs: number): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (this.open.size > 0 && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export class PredictionStream implements AsyncIterableIterator<PredictionEventValue> {
  /** Answers ready and not yet taken, oldest first (`head` is the next to take). */
  private ready: PredictionEventValue[] = [];
  private head = 0;
  /** The transport's pending next(), when it waits for an answer. */
  private pull: { resolve: (r: IteratorResult<PredictionEventValue>) => void; reject: (e: unknown) => void } | null = null;
  /** Inputs submitted so far (the next to submit is this index). */
  private submitted = 0;
  /** Submitted inputs whose events the client has not taken yet: the buffer that is bounded. */
  private holding = 0;
  private answered = 0;
  private taken = 0;
  /** Set when the stream must end once the ready answers are taken: the error the client gets. */
  private failure: CodedError | null = null;
  private ended = false;
  private stallTimer: NodeJS.Timeout | undefined;
  private readonly openedAt = performance.now();

  constructor(
    readonly total: number,
    private readonly compute: ComputeInputs,
    /** Aborted when the stream ends early: its queued inputs are dropped. */
    private readonly leave: AbortController,
    private readonly settings: StreamSettings,
    private readonly metrics: Metrics,
    private readonly hooks: StreamHooks,
    private readonly release: (stream: PredictionStream) => void,
  ) {
    // One listener per queued input; a big stream is not a leak.
    setMaxListeners(0, leave.signal);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Submits the first window of inputs. */
  start(): void {
    if (this.total === 0) return;
    this.fill();
  }

  next(): Promise<IteratorResult<PredictionEventValue>> {
    if (this.head < this.ready.length) return Promise.resolve({ value: this.take(), done: false });
    // Ended with an error: once the answers ready are taken (and, at shutdown, nothing is
    // left to settle), the client gets the error.
    if (this.failure && (this.ended || this.holding === 0)) {
      const failure = this.failure;
      this.end(failure.code === 'SHUTTING_DOWN' ? 'shutting_down' : 'too_slow');
      return Promise.reject(failure);
    }
    if (this.ended || this.taken === this.total) {
      this.end('completed');
      return Promise.resolve({ value: undefined, done: true });
    }
    clearTimeout(this.stallTimer);
    return new Promise((resolve, reject) => (this.pull = { resolve, reject }));
  }

  /** The client left (unsubscribed, closed its socket): drop what has not run. */
  return(): Promise<IteratorResult<PredictionEventValue>> {
    if (!this.ended) this.end(this.taken === this.total ? 'completed' : 'left');
    return Promise.resolve({ value: undefined, done: true });
  }

  throw(error?: unknown): Promise<IteratorResult<PredictionEventValue>> {
    void this.return();
    return Promise.reject(error);
  }

  /** Shutdown: inputs not answered yet are dropped; the answers ready are still sent, then SHUTTING_DOWN. */
  shutDown(): void {
    if (this.ended || this.failure) return;
    this.failure = shuttingDown();
    // Like a client that left: queued inputs are dropped before they run, and batches already
    // in a worker finish there (the server awaits them) without holding the stream open.
    this.leave.abort(this.failure);
    this.submitted = this.total;
    this.wake();
  }

  /** Submits inputs until the buffer holds `bufferEvents` of them. */
  private fill(): void {
    const indices: number[] = [];
    while (!this.failure && !this.ended && this.submitted < this.total && this.holding < this.settings.bufferEvents) {
      indices.push(this.submitted++);
      this.holding++;
    }
    if (indices.length === 0) return;
    let computing: Array<Promise<PredictionResult>>;
    try {
      computing = this.compute(indices);
    } catch (error) {
      computing = indices.map(() => Promise.reject(error));
    }
    indices.forEach((index, k) => {
      computing[k]!.then(
        (prediction) => this.answer(index, prediction, null),
        (error: unknown) => this.answer(index, null, error),
      );
    });
  }

  private answer(index: number, prediction: PredictionResult | null, error: unknown): void {
    if (this.ended) return;
    // Dropped by the stream's own abort (shutdown): not an answer to send.
    if (error !== null && this.leave.signal.aborted && error === this.leave.signal.reason) {
      this.holding--;
      return this.wake();
    }
    this.answered++;
    const event: PredictionEventValue = { index, prediction, error: error === null ? null : this.describe(error), done: 0, total: this.total };
    this.ready.push(event);
    this.wake();
  }

  /** Hands the next ready answer to a waiting pull, or the stream's end; else (re)arms the stall timer. */
  private wake(): void {
    if (this.pull) {
      const pull = this.pull;
      if (this.head < this.ready.length) {
        this.pull = null;
        return pull.resolve({ value: this.take(), done: false });
      }
      if (this.failure && this.holding === 0) {
        this.pull = null;
        const failure = this.failure;
        this.end(failure.code === 'SHUTTING_DOWN' ? 'shutting_down' : 'too_slow');
        return pull.reject(failure);
      }
      return;
    }
    if (this.head < this.ready.length && this.stallTimer === undefined) {
      this.stallTimer = setTimeout(() => this.stalled(), this.settings.stallMs).unref();
    }
  }

  private take(): PredictionEventValue {
    const event = this.ready[this.head]!;
    this.ready[this.head++] = undefined as unknown as PredictionEventValue;
    // Compact now and then, so a long stream does not keep an array of holes.
    if (this.head > 1024 && this.head * 2 > this.ready.length) {
      this.ready = this.ready.slice(this.head);
      this.head = 0;
    }
    event.done = ++this.taken;
    this.holding--;
    this.metrics.streamEvents.inc();
    if (this.taken === 1) this.metrics.streamFirstEventSeconds.observe((performance.now() - this.openedAt) / 1000);
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    // Refill at half empty: the loader groups the new inputs into one cache lookup.
    if (this.holding <= this.settings.bufferEvents / 2) this.fill();
    if (this.head < this.ready.length && !this.pull) this.stallTimer = setTimeout(() => this.stalled(), this.settings.stallMs).unref();
    return event;
  }

  /** The client took nothing for stallMs while answers waited: end the stream and cut the client. */
  private stalled(): void {
    this.stallTimer = undefined;
    if (this.ended || this.pull) return;
    const error = streamTooSlow(this.settings.bufferEvents, this.settings.stallMs);
    this.failure = error;
    this.end('too_slow');
    this.hooks.onStalled?.(error);
  }

  /** Once: drops what has not run, frees the slot, counts the stream. */
  private end(how: Ending): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.stallTimer);
    this.stallTimer = undefined;
    const unanswered = this.total - this.answered;
    if (!this.leave.signal.aborted) this.leave.abort(this.failure ?? cancelled());
    if (unanswered > 0 && how !== 'completed') this.metrics.streamInputsDropped.inc({ reason: how }, unanswered);
    this.ready = [];
    this.head = 0;
    this.metrics.streams.inc({ outcome: how });
    this.metrics.streamsOpen.dec();
    this.metrics.streamSeconds.observe((performance.now() - this.openedAt) / 1000);
    this.release(this);
    this.hooks.onEnd?.();
    if (this.pull) {
      const pull = this.pull;
      this.pull = null;
      pull.resolve({ value: undefined, done: true });
    }
  }

  private describe(error: unknown): PredictionErrorValue {
    if (error instanceof CodedError) return { code: error.code, message: error.message };
    this.hooks.onUnexpected?.(error);
    return { code: codeOf(error), message: MASKED_MESSAGE };
  }
}
