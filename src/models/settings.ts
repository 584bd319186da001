/**
 * A model version's effective settings: for each of batching, queueing, workers, result cache and
 * request limits, what its manifest sets, or else the server's default. Decided here, once, when
 * the repository is read (src/models/repository.ts), and kept on the ServedModel: the batcher, the
 * cache, the input checks, the cost limit and `Model.batching` all read the same numbers.
 */
import type { Config } from '../config.ts';
import type { BatchPolicy, InputKind } from '../domain/types.ts';
import type { Manifest } from './manifest.ts';

/** The server settings a manifest can override. */
export interface ModelDefaults {
  maxBatchSize: number;
  maxDelayMs: number;
  maxQueue: number;
  /** Workers one model may occupy (MODEL_MAX_WORKERS, resolved). */
  maxWorkers: number;
  /** Lifetime of a cached answer; 0: until cleared. */
  cacheTtlSeconds: number;
  maxInputsPerRequest: number;
}

export function modelDefaults(config: Pick<Config, 'maxBatchSize' | 'maxDelayMs' | 'maxQueue' | 'modelMaxWorkers' | 'cacheTtlSeconds' | 'maxInputsPerRequest'>): ModelDefaults {
  return {
    maxBatchSize: config.maxBatchSize,
    maxDelayMs: config.maxDelayMs,
    maxQueue: config.maxQueue,
    maxWorkers: config.modelMaxWorkers,
    cacheTtlSeconds: config.cacheTtlSeconds,
    maxInputsPerRequest: config.maxInputsPerRequest,
  };
}

/** Cost of one input of unit size (src/predict/cost.ts) when the manifest sets none. */
export const DEFAULT_COST_PER_INPUT: Readonly<Record<InputKind, number>> = { FEATURES: 1, TEXT: 1, IMAGE: 10, AUDIO: 10, TENSOR: 1 };

export interface CacheSettings {
  /** Whether this model's answers are cached at all. */
  readonly enabled: boolean;
  /** Lifetime of an entry; undefined keeps it until evicted or cleared. */
  readonly ttlMs: number | undefined;
  /** Answers larger than this are not cached; undefined: no limit of the model's own. */
  readonly maxEntryBytes: number | undefined;
}

export interface ModelSettings {
  /**
   * How inputs are batched and queued. `maxBatchSize` is the one value that can change later:
   * lowered to the graph's batch size when the model loads, if its ONNX file fixes one.
   */
  readonly batching: BatchPolicy;
  readonly cache: CacheSettings;
  readonly limits: {
    /** Most inputs of one predictMany. */
    readonly maxInputsPerRequest: number;
    /** Cost units of one input of unit size, against MAX_REQUEST_COST. */
    readonly costPerInput: number;
    /**
     * Cost units every input adds whatever its size: for a multi-stage model, the most work its
     * call stages may queue in the models they call (src/models/stages.ts); 0 otherwise.
     */
    readonly costPerInputOfCalls: number;
  };
}

export function effectiveSettings(manifest: Manifest, defaults: ModelDefaults, costPerInputOfCalls = 0): ModelSettings {
  const ttlSeconds = manifest.cache.ttlSeconds ?? defaults.cacheTtlSeconds;
  return {
    batching: {
      maxBatchSize: manifest.batching?.maxBatchSize ?? defaults.maxBatchSize,
      maxDelayMs: manifest.batching?.maxDelayMs ?? defaults.maxDelayMs,
      maxQueue: manifest.batching?.maxQueue ?? defaults.maxQueue,
      maxWorkers: manifest.batching?.maxWorkers ?? defaults.maxWorkers,
    },
    cache: {
      enabled: manifest.cache.enabled,
      ttlMs: ttlSeconds > 0 ? ttlSeconds * 1000 : undefined,
      maxEntryBytes: manifest.cache.maxEntryBytes,
    },
    limits: {
      maxInputsPerRequest: manifest.limits.maxInputsPerRequest ?? defaults.maxInputsPerRequest,
      costPerInput: manifest.limits.costPerInput ?? DEFAULT_COST_PER_INPUT[manifest.input.kind],
      costPerInputOfCalls,
    },
  };
}
