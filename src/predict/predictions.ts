/**
 * The path of a prediction, shared by `predict` and `predictMany`:
 *   input check -> cache lookup -> model batcher (worker pool) -> cache write.
 *
 * Predictions holds what lives as long as the process (one batcher per model version, the
 * cache); RequestPredictions holds what lives as long as one GraphQL request: a DataLoader per
 * model that gathers the request's cache lookups into one read and computes an input repeated
 * within the request once, and the request's deadline and cancellation signal.
 */
import { setMaxListeners } from 'node:events';
import { performance } from 'node:perf_hooks';
import DataLoader from 'dataloader';
import { cacheKey, type PredictionCache } from '../cache/prediction-cache.ts';
import { badUserInput, codeOf, deadlineExceeded } from '../domain/errors.ts';
import type { CachePolicy, CacheSource, ClassificationNeeds, ClientInput, ItemResult, PredictionOptions } from '../domain/types.ts';
import { ModelBatcher } from '../engine/batcher.ts';
import type { ComputedItem } from '../engine/job.ts';
import type { Dispatcher, Priority } from '../engine/dispatcher.ts';
import type { InferencePool } from '../engine/pool.ts';
import type { Metrics } from '../metrics.ts';
import { modelHandle } from '../models/handle.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ServedModel } from '../models/served-model.ts';
import { RequestTimings } from '../observability/timings.ts';
import { ChainRunner } from './chains.ts';
import { encodeInput, type EncodedInput } from './input.ts';
import type { PredictionResult } from './prediction.ts';
import { type PredictionStream, StreamRegistry, type StreamHooks, type StreamSettings } from './stream.ts';

export interface PredictionSettings {
  /** Deadline of a prediction when the request sets none, queue time included. */
  deadlineMs: number;
  /** predictStream's limits (MAX_STREAMS, STREAM_BUFFER_EVENTS, STREAM_STALL_MS). */
  streams: StreamSettings;
}

const MAX_DEADLINE_MS = 600_000;

interface Outcome {
  item: ItemResult;
  source: CacheSource;
}

/** A single model's worker answers its inputs; only a multi-stage model's hands back stage values. */
function answerOf(computed: ComputedItem): ComputedItem & { result: ItemResult } {
  if (computed.result.kind === 'stageOutput') throw new Error('a single model answered with stage values');
  return computed as ComputedItem & { result: ItemResult };
}

function satisfies(result: ItemResult, needs: ClassificationNeeds): boolean {
  return result.kind !== 'classification' || needs === 'label' || result.probabilities !== undefined;
}

export class Predictions {
  private readonly batchers = new Map<string, ModelBatcher>();
  /** Multi-stage models: their stages after the worker's, their calls to other models. */
  private readonly chains: ChainRunner;
  /** The open predictStream subscriptions. */
  readonly streams: StreamRegistry;

  constructor(
    readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly dispatcher: Dispatcher,
    private readonly cache: PredictionCache,
    private readonly metrics: Metrics,
    readonly settings: PredictionSettings,
  ) {
    this.streams = new StreamRegistry(settings.streams, metrics);
    this.chains = new ChainRunner({
      registry,
      metrics,
      batcher: (model, priority) => this.batcher(model, priority),
      resolve: (model, inputs, signal, policy, deadlineAt, priority) => this.resolve(model, inputs, signal, policy, 'label', new RequestTimings(), deadlineAt, priority),
    });
  }

  /** `signal` aborts when the client goes away; `timings` collects the request's phases. */
  forRequest(timings: RequestTimings, signal?: AbortSignal): RequestPredictions {
    return new RequestPredictions(this, timings, signal);
  }

  /**
   * Looks up each input in the cache (policy USE) and computes the misses in model batches,
   * storing the answers (unless BYPASS).
   */
  async resolve(
    model: ServedModel,
    inputs: readonly EncodedInput[],
    /** Aborts the computed inputs; a function when the request makes it only if something is computed (cache hits need none). */
    requestSignal: AbortSignal | (() => AbortSignal),
    policy: CachePolicy,
    needs: ClassificationNeeds,
    timings: RequestTimings,
    /** When the request's deadline passes (performance.now() time): the batcher refuses inputs that cannot make it. */
    deadlineAt?: number,
    /** `background` for a prediction job's inputs: they run only as interactive traffic leaves workers free. */
    priority: Priority = 'interactive',
  ): Promise<Array<Outcome | Error>> {
    return Promise.all(await this.resolveEach(model, inputs, requestSignal, policy, needs, timings, deadlineAt, priority));
  }

  /**
   * resolve(), with one promise per input that settles as soon as that input is answered: the
   * cache lookup is one read for all of them, the misses go to the batcher each on its own
   * (predictStream sends each answer as it comes).
   */
  async resolveEach(
    model: ServedModel,
    inputs: readonly EncodedInput[],
    requestSignal: AbortSignal | (() => AbortSignal),
    policy: CachePolicy,
    needs: ClassificationNeeds,
    timings: RequestTimings,
    deadlineAt?: number,
    priority: Priority = 'interactive',
  ): Promise<Array<Promise<Outcome | Error>>> {
    const cacheable = model.settings.cache.enabled && policy !== 'BYPASS';
    const keys = inputs.map((input) => cacheKey(model.id, model.stages ? this.chains.cacheDigest(model, input.digest) : input.digest));
    const found = cacheable && policy === 'USE' ? await timings.time('cacheLookup', () => this.cache.getMany(model, keys), model.name) : inputs.map(() => undefined);
    // A cached label-only answer does not serve a query for scores: compute and store the rest.
    const hits = found.map((hit) => (hit && satisfies(hit.result, needs) ? hit : undefined));
    if (hits.some((hit) => hit === undefined)) {
      try {
        await this.registry.ensureLoaded(model);
      } catch (error) {
        return inputs.map(async (_, i) => (hits[i] ? this.count(model, { item: hits[i]!.result, source: hits[i]!.source }) : (error as Error)));
      }
    }
    const entryPolicy = model.settings.cache;
    const signal = hits.every((hit) => hit !== undefined) ? undefined : typeof requestSignal === 'function' ? requestSignal() : requestSignal;
    // The misses of a single model go to its batcher together, admitted (or refused) as one unit.
    const queued = model.stages || !signal ? undefined : this.enqueueMisses(model, inputs, hits, needs, signal, deadlineAt, priority);
    return inputs.map(async (input, i): Promise<Outcome | Error> => {
      const hit = hits[i];
      if (hit) return this.count(model, { item: hit.result, source: hit.source });
      try {
        const computed = model.stages ? await this.chains.compute({ model, input, signal: signal!, policy, deadlineAt, timings, priority }) : answerOf(await queued!.get(i)!);
        timings.batch(computed, model.name);
        if (cacheable) {
          const started = performance.now();
          this.cache.set(keys[i]!, computed.result, entryPolicy);
          timings.add('cacheWrite', performance.now() - started, model.name);
        }
        return this.count(model, { item: computed.result, source: 'NONE' });
      } catch (error) {
        this.metrics.countPrediction(model.name, codeOf(error), false);
        return error as Error;
      }
    });
  }

  /**
   * Hands the inputs without a hit to the model's batcher in one call, by their index. A refusal
   * (OVERLOADED) is every miss's answer: none of them was queued.
   */
  private enqueueMisses(
    model: ServedModel,
    inputs: readonly EncodedInput[],
    hits: ReadonlyArray<unknown>,
    needs: ClassificationNeeds,
    signal: AbortSignal,
    deadlineAt: number | undefined,
    priority: Priority,
  ): Map<number, Promise<ComputedItem>> {
    const misses: number[] = [];
    for (let i = 0; i < inputs.length; i++) if (!hits[i]) misses.push(i);
    const queued = new Map<number, Promise<ComputedItem>>();
    if (misses.length === 0) return queued;
    let promises: Array<Promise<ComputedItem>>;
    try {
      // The in-flight key is the full digest: a short-key collision must not merge two inputs.
      promises = this.batcher(model, priority).computeMany(
        misses.map((i) => ({ key: `${model.id}:${inputs[i]!.digest}`, payload: inputs[i]!.payload })),
        needs,
        signal,
        deadlineAt,
      );
    } catch (error) {
      promises = misses.map(() => Promise.reject(error));
      for (const promise of promises) promise.catch(() => undefined);
    }
    misses.forEach((i, j) => queued.set(i, promises[j]!));
    return queued;
  }

  /**
   * The answer of `input` if the in-memory cache level holds one that serves `needs`: found in
   * the same turn of the event loop, with no batch window, promise or store read. Undefined
   * otherwise, and resolve() takes over. Not counted in the metrics until answeredFromMemory.
   */
  fromMemory(model: ServedModel, input: EncodedInput, policy: CachePolicy, needs: ClassificationNeeds, timings: RequestTimings): Outcome | undefined {
    if (policy !== 'USE' || !model.settings.cache.enabled) return undefined;
    const started = performance.now();
    const key = cacheKey(model.id, model.stages ? this.chains.cacheDigest(model, input.digest) : input.digest);
    const hit = this.cache.getFromMemory(model, key);
    timings.add('cacheLookup', performance.now() - started, model.name);
    return hit && satisfies(hit, needs) ? { item: hit, source: 'L1' } : undefined;
  }

  /** Counts `answers` answered by fromMemory (only once they are used: a request whose other inputs missed goes through resolve()). */
  answeredFromMemory(model: ServedModel, answers: number): void {
    for (let i = 0; i < answers; i++) {
      this.metrics.countCacheLookup(model.name, 'hit_l1');
      this.metrics.countPrediction(model.name, 'ok', true);
    }
  }

  /** The version's batcher at a priority; created once the version is loaded, when its batch limit is known. */
  private batcher(model: ServedModel, priority: Priority = 'interactive'): ModelBatcher {
    const key = `${model.id}|${priority}`;
    let batcher = this.batchers.get(key);
    if (!batcher) {
      // A copy: the batcher keeps the policy its DataLoader was built with.
      batcher = new ModelBatcher(model.name, modelHandle(model), { ...model.settings.batching }, this.pool, this.dispatcher, this.metrics, priority);
      this.batchers.set(key, batcher);
    }
    return batcher;
  }

  /** Waits until nothing of this version is queued or running, then drops its batchers. */
  async drain(model: ServedModel): Promise<void> {
    for (const priority of ['interactive', 'background'] as const) {
      const key = `${model.id}|${priority}`;
      const batcher = this.batchers.get(key);
      if (!batcher) continue;
      await batcher.idle();
      this.batchers.delete(key);
    }
  }


  private count(model: ServedModel, outcome: Outcome): Outcome {
    this.metrics.countPrediction(model.name, 'ok', outcome.source !== 'NONE');
    return outcome;
  }
}

export class RequestPredictions {
  private readonly loaders = new Map<string, DataLoader<EncodedInput, Outcome, string>>();
  /** Each deadline of the request: when it passes (performance.now() time), and its signal once an input is queued. */
  private readonly deadlines = new Map<number, { at: number; signal?: AbortSignal }>();
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(
    private readonly predictions: Predictions,
    private readonly timings: RequestTimings,
    private readonly requestSignal?: AbortSignal,
  ) {}

  /**
   * The prediction of one input: at once when the in-memory cache has it, else through the
   * request's loader (cache store, then the model's batches).
   */
  predict(modelName: string, version: string | null | undefined, input: ClientInput, options: PredictionOptions | null | undefined, needs: ClassificationNeeds): PredictionResult | Promise<PredictionResult> {
    const model = this.predictions.registry.get(modelName, version);
    const deadlineMs = this.deadline(options);
    const encoded = encodeInput(model, input);
    const policy = options?.cache ?? 'USE';
    const hit = this.predictions.fromMemory(model, encoded, policy, needs, this.timings);
    if (hit) {
      this.predictions.answeredFromMemory(model, 1);
      return this.result(model, hit);
    }
    return this.loader(model, deadlineMs, policy, needs)
      .load(encoded)
      .then((outcome) => this.result(model, outcome));
  }

  /** The predictions of several inputs: at once when the in-memory cache has every one. */
  predictMany(
    modelName: string,
    version: string | null | undefined,
    inputs: readonly ClientInput[],
    options: PredictionOptions | null | undefined,
    needs: ClassificationNeeds,
  ): PredictionResult[] | Promise<PredictionResult[]> {
    const model = this.predictions.registry.get(modelName, version);
    const deadlineMs = this.deadline(options);
    const limit = model.settings.limits.maxInputsPerRequest;
    if (inputs.length > limit) throw badUserInput(`predictMany got ${inputs.length} inputs; model "${model.name}" takes at most ${limit} per request`);
    // Check every input before any work is queued: a bad one fails the request up front.
    const encoded = inputs.map((input, i) => encodeInput(model, input, `inputs[${i}]`));
    const policy = options?.cache ?? 'USE';
    const hits: PredictionResult[] = [];
    for (const input of encoded) {
      const hit = this.predictions.fromMemory(model, input, policy, needs, this.timings);
      if (!hit) break;
      hits.push(this.result(model, hit));
    }
    if (hits.length === encoded.length) {
      this.predictions.answeredFromMemory(model, hits.length);
      return hits;
    }
    return this.loader(model, deadlineMs, policy, needs)
      .loadMany(encoded)
      .then((outcomes) =>
        outcomes.map((outcome) => {
          if (outcome instanceof Error) throw outcome;
          return this.result(model, outcome);
        }),
      );
  }

  /**
   * The answers of predictMany as a stream of events (src/predict/stream.ts): the same limits,
   * checked before anything is queued (the model, inputs per request, the deadline, MAX_STREAMS),
   * the same cache and batchers. Unlike predictMany, a bad input does not fail the stream: its
   * event carries the error. Every input is checked up front all the same, so a bad one costs
   * nothing.
   */
  predictStream(
    modelName: string,
    version: string | null | undefined,
    inputs: readonly ClientInput[],
    options: PredictionOptions | null | undefined,
    needs: ClassificationNeeds,
    hooks: StreamHooks = {},
  ): PredictionStream {
    const model = this.predictions.registry.get(modelName, version);
    const deadlineMs = this.deadline(options);
    const limit = model.settings.limits.maxInputsPerRequest;
    if (inputs.length > limit) throw badUserInput(`predictStream got ${inputs.length} inputs; model "${model.name}" takes at most ${limit} per request`);
    const encoded = inputs.map((input, i): EncodedInput | Error => {
      try {
        return encodeInput(model, input, `inputs[${i}]`);
      } catch (error) {
        return error as Error;
      }
    });
    // The stream's own requests: its inputs leave when the client does or the stream ends.
    const leave = new AbortController();
    const scoped = new RequestPredictions(this.predictions, this.timings, this.requestSignal ? AbortSignal.any([this.requestSignal, leave.signal]) : leave.signal);
    const deadlineAt = scoped.deadlineAt(deadlineMs);
    const signal = () => scoped.signal(deadlineMs);
    const policy = options?.cache ?? 'USE';
    // Not through the request's DataLoader, which settles a whole batch of keys at once: each
    // input's promise settles when that input is answered.
    const compute = (indices: readonly number[]): Array<Promise<PredictionResult>> => {
      const valid = indices.filter((i) => !(encoded[i] instanceof Error));
      const each = valid.length > 0 ? this.predictions.resolveEach(model, valid.map((i) => encoded[i] as EncodedInput), signal, policy, needs, this.timings, deadlineAt) : Promise.resolve([]);
      const position = new Map(valid.map((index, k) => [index, k]));
      return indices.map(async (index) => {
        const input = encoded[index]!;
        if (input instanceof Error) throw input;
        const outcome = await (await each)[position.get(index)!]!;
        if (outcome instanceof Error) throw outcome;
        return scoped.result(model, outcome);
      });
    };
    return this.predictions.streams.openStream(inputs.length, compute, leave, {
      ...hooks,
      onEnd: () => {
        scoped.dispose();
        hooks.onEnd?.();
      },
    });
  }

  /** Stops the request's deadline timers; called when the response is sent. */
  dispose(): void {
    for (const timer of this.timers) clearTimeout(timer);
  }

  private deadline(options?: PredictionOptions | null): number {
    const deadlineMs = options?.deadlineMs ?? this.predictions.settings.deadlineMs;
    if (!Number.isInteger(deadlineMs) || deadlineMs < 1 || deadlineMs > MAX_DEADLINE_MS) {
      throw badUserInput(`options.deadlineMs is ${deadlineMs}; it must be a whole number of milliseconds from 1 to ${MAX_DEADLINE_MS}`);
    }
    return deadlineMs;
  }

  /**
   * When `deadlineMs` passes, counted from the first use: a number, so a request answered from
   * the cache makes no timer and no signal.
   */
  private deadlineAt(deadlineMs: number): number {
    let deadline = this.deadlines.get(deadlineMs);
    if (!deadline) {
      deadline = { at: performance.now() + deadlineMs };
      this.deadlines.set(deadlineMs, deadline);
    }
    return deadline.at;
  }

  /** Aborts when the client leaves or the deadline passes; made when the first input is queued. */
  private signal(deadlineMs: number): AbortSignal {
    const deadline = this.deadlines.get(deadlineMs)!;
    if (!deadline.signal) {
      const controller = new AbortController();
      const leftMs = Math.max(0, deadline.at - performance.now());
      this.timers.push(setTimeout(() => controller.abort(deadlineExceeded(deadlineMs)), leftMs));
      const signal = this.requestSignal ? AbortSignal.any([this.requestSignal, controller.signal]) : controller.signal;
      // One listener per queued input of the request; a big predictMany is not a leak.
      setMaxListeners(0, signal);
      deadline.signal = signal;
    }
    return deadline.signal;
  }

  private result(model: ServedModel, outcome: Outcome): PredictionResult {
    return { model, cached: outcome.source !== 'NONE', cacheSource: outcome.source, item: outcome.item };
  }

  private loader(model: ServedModel, deadlineMs: number, policy: CachePolicy, needs: ClassificationNeeds): DataLoader<EncodedInput, Outcome, string> {
    const id = `${model.id}:${deadlineMs}:${policy}:${needs}`;
    let loader = this.loaders.get(id);
    if (!loader) {
      const deadlineAt = this.deadlineAt(deadlineMs);
      loader = new DataLoader((inputs) => this.predictions.resolve(model, inputs, () => this.signal(deadlineMs), policy, needs, this.timings, deadlineAt), {
        cacheKeyFn: (input) => input.digest,
        // No size limit here: this only groups cache lookups; the model batcher splits batches.
        maxBatchSize: Number.POSITIVE_INFINITY,
        // Look up at the end of the event-loop turn rather than DataLoader's next tick: the
        // requests of every socket read in this turn are parsed first and their answers written
        // together. Measured on cache hits at c=64: 2,800 req/s answering within the turn, 4,400
        // after it (bench/README.md).
        batchScheduleFn: (dispatch) => setImmediate(dispatch),
      });
      this.loaders.set(id, loader);
    }
    return loader;
  }
}
