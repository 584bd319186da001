/**
 * Prediction jobs: many inputs predicted in the background, behind interactive traffic, stored as
 * they are answered, so that a job survives a restart (and, with Redis, the loss of an instance).
 *
 *   submit: check every input -> store the job and its inputs -> queue its chunks
 *   a chunk: the indices without an outcome -> the normal prediction path at background priority
 *            (cache first: inputs answered before are not computed again) -> their outcomes stored
 *
 * The store (job-store.ts) makes "each index answered once" hold however often a chunk runs; the
 * chunk queue (chunk-queue.ts) decides who runs chunks: this process, or any instance via BullMQ.
 */
import { EventEmitter, setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { badUserInput, codeOf, jobNotFound, modelNotFound, tooManyJobs } from '../domain/errors.ts';
import { isFinalJobState, type ClientInput, type ItemResult, type PredictionOptions } from '../domain/types.ts';
import type { Metrics } from '../metrics.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ServedModel } from '../models/served-model.ts';
import { RequestTimings } from '../observability/timings.ts';
import { encodeInput, type EncodedInput } from '../predict/input.ts';
import type { PredictionResult } from '../predict/prediction.ts';
import type { Predictions } from '../predict/predictions.ts';
import type { Chunk, ChunkQueue } from './chunk-queue.ts';
import { JOB_ID, newJobId, type JobOutcome, type JobRecord } from './job-record.ts';
import type { JobStore } from './job-store.ts';
import { LmdbJobStore } from './lmdb-job-store.ts';

export interface JobSettings {
  /** Most inputs in one job (JOBS_MAX_INPUTS). */
  maxInputs: number;
  /** Most jobs queued or running in the store (JOBS_MAX_ACTIVE). */
  maxActive: number;
  /** How long a finished job is kept (JOBS_TTL_SECONDS). */
  ttlSeconds: number;
}

/** One input's outcome as GraphQL shows it. */
export interface JobResultView {
  index: number;
  prediction: PredictionResult | null;
  error: { code: string; message: string } | null;
}

/**
 * Codes that say "not now" rather than "this input cannot be answered": such an outcome is not
 * stored, the input is tried again (a worker that crashed under another input's batch, a queue
 * that was full, a shutdown that dropped it).
 */
const RETRYABLE = new Set(['WORKER_CRASHED', 'OVERLOADED', 'CANCELLED', 'DEADLINE_EXCEEDED']);
const CHUNK_ATTEMPTS = 3;
const MIN_CHUNK = 16;
const MAX_CHUNK = 256;
const MAX_RESULTS_PER_READ = 1000;

export class PredictionJobs {
  /** Emits a job's id when this process changed it; progress streams also poll the store for other processes' changes. */
  private readonly changes = new EventEmitter();
  /** Aborts the queued inputs of a job cancelled here. */
  private readonly cancels = new Map<string, AbortController>();
  private sweeper: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    /** Public for tests that look at what a job left behind. */
    readonly store: JobStore,
    private readonly queue: ChunkQueue,
    private readonly predictions: Predictions,
    private readonly registry: ModelRegistry,
    private readonly metrics: Metrics,
    readonly settings: JobSettings,
    private readonly onError: (error: unknown, context: string) => void,
  ) {
    this.changes.setMaxListeners(0);
    metrics.watchJobs(() => store.countByState());
  }

  /** Starts running chunks, and queues again the unfinished jobs this process now owns (after a restart). */
  async start(): Promise<void> {
    this.queue.start((chunk) => this.runChunk(chunk));
    await this.adoptOrphans();
    const sweepMs = Math.min(60_000, Math.max(100, (this.settings.ttlSeconds * 1000) / 2));
    this.sweeper = setInterval(() => void this.sweep(), sweepMs);
    this.sweeper.unref();
  }

  async submit(modelName: string, version: string | null | undefined, inputs: readonly ClientInput[], options: PredictionOptions | null | undefined): Promise<JobRecord> {
    const model = this.registry.get(modelName, version);
    if (inputs.length === 0) throw badUserInput('submitPredictionJob needs at least one input');
    if (inputs.length > this.settings.maxInputs) throw badUserInput(`submitPredictionJob got ${inputs.length} inputs; a job takes at most ${this.settings.maxInputs} (JOBS_MAX_INPUTS)`);
    // Every input is checked before the job exists: one bad input refuses the job, naming it.
    inputs.forEach((input, i) => encodeInput(model, input, `inputs[${i}]`));
    const record: JobRecord = {
      id: newJobId(),
      modelName: model.name,
      version: model.version,
      state: 'QUEUED',
      total: inputs.length,
      done: 0,
      failed: 0,
      chunkSize: Math.min(MAX_CHUNK, Math.max(MIN_CHUNK, model.settings.batching.maxBatchSize)),
      cache: options?.cache ?? 'USE',
      createdAt: Date.now(),
      finishedAt: null,
      expiresAt: null,
    };
    if (!(await this.store.create(record, inputs, this.settings.maxActive))) throw tooManyJobs(this.settings.maxActive, this.settings.maxActive);
    this.queued.add(record.id);
    await this.queue.add(record);
    return record;
  }

  /** The job, or JOB_NOT_FOUND. */
  async get(id: string): Promise<JobRecord> {
    const record = JOB_ID.test(id) ? await this.store.get(id) : undefined;
    if (!record) throw jobNotFound(id);
    return record;
  }

  async cancel(id: string): Promise<JobRecord> {
    await this.get(id);
    const record = await this.store.transition(id, ['QUEUED', 'RUNNING'], 'CANCELLED');
    if (!record) throw jobNotFound(id);
    this.cancels.get(id)?.abort();
    this.forget(id);
    await this.queue.drop(id);
    this.changed(id);
    return record;
  }

  /** The outcomes of the inputs at indices [offset, offset + limit) that have one, in index order. */
  async results(record: JobRecord, offset: number, limit: number): Promise<JobResultView[]> {
    if (!Number.isInteger(offset) || offset < 0) throw badUserInput(`results(offset: ${offset}): offset must be 0 or more`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RESULTS_PER_READ) throw badUserInput(`results(limit: ${limit}): limit must be from 1 to ${MAX_RESULTS_PER_READ}`);
    const count = Math.min(limit, record.total - offset);
    if (count <= 0) return [];
    const outcomes = await this.store.outcomes(record.id, offset, count);
    return outcomes.map((outcome) => {
      if ('error' in outcome) return { index: outcome.index, prediction: null, error: outcome.error };
      return { index: outcome.index, prediction: { model: this.modelOf(record), cached: outcome.source !== 'NONE', cacheSource: outcome.source, item: outcome.result }, error: null };
    });
  }

  /** The model version a job runs; MODEL_NOT_FOUND once that version is no longer served. */
  modelOf(record: JobRecord): ServedModel {
    const model = this.registry.find(record.modelName, record.version);
    if (!model) throw modelNotFound(`model "${record.modelName}" no longer has the version ${record.version} this job ran`, 'its answers can still be read');
    return model;
  }

  /**
   * The job each time its state or counts change, the first at once, the last when it ends.
   * Changes made here are seen at once; those of other processes and instances by polling.
   */
  async *progress(id: string, pollMs = this.store.kind === 'redis' ? 250 : 1000): AsyncGenerator<JobRecord> {
    let dirty = false;
    let wake = () => {};
    const listener = () => {
      dirty = true;
      wake();
    };
    this.changes.on(id, listener);
    let last = '';
    try {
      for (;;) {
        dirty = false;
        const record = await this.store.get(id);
        if (!record) return;
        const seen = `${record.state}/${record.done}/${record.failed}`;
        if (seen !== last) {
          last = seen;
          yield record;
        }
        if (isFinalJobState(record.state)) return;
        if (dirty) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollMs);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      this.changes.off(id, listener);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    await this.queue.close();
    await this.store.close();
  }

  /** One chunk: the indices in it without an outcome, computed (or found in the cache) and stored. */
  private async runChunk(chunk: Chunk): Promise<void> {
    const { jobId } = chunk;
    for (let attempt = 1; ; attempt++) {
      const record = await this.store.get(jobId);
      if (!record || isFinalJobState(record.state) || this.closed) return;
      const model = this.registry.find(record.modelName, record.version);
      if (!model) {
        // The version was removed from the model repository: nothing can answer the rest.
        await this.store.transition(jobId, ['QUEUED', 'RUNNING'], 'FAILED');
        this.forget(jobId);
        this.changed(jobId);
        return;
      }
      if (record.state === 'QUEUED') {
        await this.store.transition(jobId, ['QUEUED'], 'RUNNING');
        this.changed(jobId);
      }
      const missing = await this.store.missing(jobId, chunk.start, chunk.end);
      if (missing.length === 0) return;
      const outcomes = await this.compute(record, model, missing);
      const keep = outcomes.filter((o) => !('error' in o && RETRYABLE.has(o.error.code)));
      const after = await this.store.putOutcomes(jobId, keep);
      // Counted when stored: summed over every process that ran the job, this is its total.
      if (after && after.stored > 0) {
        if (after.stored === keep.length) for (const outcome of keep) this.metrics.jobInputs.inc({ model: model.name, outcome: 'error' in outcome ? outcome.error.code : 'ok' });
        else this.metrics.jobInputs.inc({ model: model.name, outcome: 'ok' }, after.stored);
      }
      this.changed(jobId);
      if (after && isFinalJobState(after.record.state)) this.forget(jobId);
      if (keep.length === outcomes.length) return;
      if (attempt >= CHUNK_ATTEMPTS) throw new Error(`job ${jobId}, inputs ${chunk.start}-${chunk.end - 1}: ${outcomes.length - keep.length} inputs could not run (${attempt} attempts); the chunk is retried later`);
      await sleep(250 * attempt);
    }
  }

  private async compute(record: JobRecord, model: ServedModel, indices: readonly number[]): Promise<JobOutcome[]> {
    const inputs = await this.store.inputs(record.id, indices);
    const encoded: Array<EncodedInput | Error> = inputs.map((input, i) => {
      try {
        return encodeInput(model, input, `inputs[${indices[i]}]`);
      } catch (error) {
        return error as Error;
      }
    });
    const valid = encoded.filter((e): e is EncodedInput => !(e instanceof Error));
    let controller = this.cancels.get(record.id);
    if (!controller) {
      this.cancels.set(record.id, (controller = new AbortController()));
      // One listener per queued input of the job's chunks: not a leak.
      setMaxListeners(0, controller.signal);
    }
    // Every stage at background priority, scores included: a job's answers may be read with any field.
    const answers = await this.predictions.resolve(model, valid, controller.signal, record.cache, 'probabilities', new RequestTimings(), undefined, 'background');
    let next = 0;
    return encoded.map((e, i): JobOutcome => {
      const index = indices[i]!;
      const answer = e instanceof Error ? e : answers[next++]!;
      if (answer instanceof Error) return { index, error: { code: codeOf(answer), message: codeOf(answer) === 'INTERNAL_SERVER_ERROR' ? 'the input could not be predicted (internal error)' : answer.message } };
      return { index, result: answer.item as ItemResult, source: answer.source };
    });
  }

  /** A job that ended needs no cancel signal, and cannot be queued again. */
  private forget(id: string): void {
    this.cancels.delete(id);
    this.queued.delete(id);
  }

  private changed(id: string): void {
    this.changes.emit(id, id);
  }

  private async sweep(): Promise<void> {
    try {
      await this.store.sweep(Date.now());
      await this.adoptOrphans();
    } catch (error) {
      this.onError(error, 'sweeping expired jobs');
    }
  }

  /** LMDB: the unfinished jobs of processes that are gone (a restart, a killed sibling) are run here. */
  private async adoptOrphans(): Promise<void> {
    if (!(this.store instanceof LmdbJobStore)) return;
    for (const record of await this.store.adoptOrphans()) {
      if (this.queued.has(record.id)) continue;
      this.queued.add(record.id);
      await this.queue.add(record);
    }
  }

  /** Jobs this process has queued (submitted or adopted), so a periodic check does not queue them twice. */
  private readonly queued = new Set<string>();
}
