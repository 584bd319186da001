/**
 * The path of a prediction, shared by `predict` and `predictMany`:
 *   input check -> cache lookup -> model batcher (worker pool) -> cache write.
 *
 * Predictions holds what lives as long as the process (one batcher per model version, the
 * cache); RequestPredictions holds what lives as long as one GraphQL request: a DataLoader per
 * model that collects the request's cache lookups into one read and computes an input repeated
 * within the request only once.
 */
import DataLoader from 'dataloader';
import { ModelBatcher } from '../engine/batcher.ts';
import type { InferencePool } from '../engine/pool.ts';
import type { PredictionCache } from '../cache/prediction-cache.ts';
import type { PredictionInput } from '../graphql/generated/resolvers-types.ts';
import type { Metrics } from '../metrics.ts';
import type { ModelRegistry } from '../models/registry.ts';
import type { ServedModel } from '../models/served-model.ts';
import { encodeInput, type EncodedInput } from './input.ts';
import type { ClassificationResult } from './prediction.ts';

interface Outputs {
  probabilities: Float32Array;
  cached: boolean;
}

export class Predictions {
  private readonly batchers = new Map<string, ModelBatcher>();

  constructor(
    readonly registry: ModelRegistry,
    private readonly pool: InferencePool,
    private readonly cache: PredictionCache,
    private readonly metrics: Metrics,
  ) {}

  forRequest(): RequestPredictions {
    return new RequestPredictions(this);
  }

  /** Looks up each input in the cache and computes the misses in model batches. */
  async resolve(model: ServedModel, inputs: readonly EncodedInput[]): Promise<Array<Outputs | Error>> {
    const keys = inputs.map((input) => `${model.id}:${input.digest}`);
    const hits = await this.cache.getMany(keys);
    const batcher = this.batcher(model);
    return Promise.all(
      inputs.map(async (input, i): Promise<Outputs | Error> => {
        const hit = hits[i];
        if (hit && hit.length === model.manifest.labels.length) return this.count(model, { probabilities: hit, cached: true });
        try {
          const probabilities = await batcher.predict(input.row);
          this.cache.set(keys[i]!, probabilities);
          return this.count(model, { probabilities, cached: false });
        } catch (error) {
          const code = String((error as { extensions?: { code?: unknown } }).extensions?.code ?? 'INTERNAL_SERVER_ERROR');
          this.metrics.predictions.inc({ model: model.name, outcome: code, cached: 'false' });
          return error as Error;
        }
      }),
    );
  }

  private count(model: ServedModel, outputs: Outputs): Outputs {
    this.metrics.predictions.inc({ model: model.name, outcome: 'ok', cached: String(outputs.cached) });
    return outputs;
  }

  private batcher(model: ServedModel): ModelBatcher {
    let batcher = this.batchers.get(model.id);
    if (!batcher) {
      batcher = new ModelBatcher(model, this.pool, this.metrics);
      this.batchers.set(model.id, batcher);
    }
    return batcher;
  }
}

export class RequestPredictions {
  private readonly loaders = new Map<string, DataLoader<EncodedInput, Outputs, string>>();

  constructor(private readonly predictions: Predictions) {}

  async predict(modelName: string, input: PredictionInput): Promise<ClassificationResult> {
    const model = this.predictions.registry.get(modelName);
    const encoded = encodeInput(model, input);
    return this.result(model, await this.loader(model).load(encoded));
  }

  async predictMany(modelName: string, inputs: readonly PredictionInput[]): Promise<ClassificationResult[]> {
    const model = this.predictions.registry.get(modelName);
    // Check every input before any work is queued: a bad row fails the request up front.
    const encoded = inputs.map((input, i) => encodeInput(model, input, `inputs[${i}]`));
    const outputs = await this.loader(model).loadMany(encoded);
    return outputs.map((o) => {
      if (o instanceof Error) throw o;
      return this.result(model, o);
    });
  }

  private result(model: ServedModel, outputs: Outputs): ClassificationResult {
    return { kind: 'classification', model, cached: outputs.cached, probabilities: outputs.probabilities };
  }

  private loader(model: ServedModel): DataLoader<EncodedInput, Outputs, string> {
    let loader = this.loaders.get(model.id);
    if (!loader) {
      loader = new DataLoader((inputs) => this.predictions.resolve(model, inputs), {
        cacheKeyFn: (input) => input.digest,
        // No size limit here: this only groups cache lookups; the model batcher splits batches.
        maxBatchSize: Number.POSITIVE_INFINITY,
      });
      this.loaders.set(model.id, loader);
    }
    return loader;
  }
}
