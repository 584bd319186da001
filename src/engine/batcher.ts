/**
 * The process-wide batcher of one model version: every prediction that missed the cache, from
 * every concurrent request, goes through one DataLoader, which merges them into model batches
 * of at most maxBatchSize rows.
 */
import DataLoader from 'dataloader';
import { GraphQLError } from 'graphql';
import { ErrorCode } from '../graphql/errors.ts';
import type { Metrics } from '../metrics.ts';
import type { ServedModel } from '../models/served-model.ts';
import type { InferencePool } from './pool.ts';
import type { ModelHandle } from './tasks.ts';

export function modelHandle(model: ServedModel): ModelHandle {
  return {
    id: model.id,
    filePath: model.filePath,
    inputTensor: model.manifest.input.tensor,
    featureCount: model.manifest.input.features.length,
    probabilitiesOutput: model.manifest.output.probabilities,
    labelCount: model.manifest.labels.length,
  };
}

export class ModelBatcher {
  private readonly handle: ModelHandle;
  private readonly loader: DataLoader<Float32Array, Float32Array>;

  constructor(
    private readonly model: ServedModel,
    private readonly pool: InferencePool,
    private readonly metrics: Metrics,
  ) {
    this.handle = modelHandle(model);
    this.loader = new DataLoader((rows) => this.runBatch(rows), {
      // Identity caching is the request layer's job (it knows the cache keys); here every
      // load is a row to compute.
      cache: false,
      maxBatchSize: model.maxBatchSize,
      batchScheduleFn: (dispatch) => this.schedule(dispatch),
    });
  }

  /** The label probabilities of one input row. */
  predict(row: Float32Array): Promise<Float32Array> {
    return this.loader.load(row);
  }

  /**
   * When a worker is free, a batch goes as soon as the resolvers of the current tick have queued
   * their rows (setImmediate), so a lone request never waits for a window. When every worker is
   * busy, the batch waits up to maxDelayMs to fill, since it could not start sooner anyway.
   */
  private schedule(dispatch: () => void): void {
    if (this.pool.busyWorkers < this.pool.size) setImmediate(dispatch);
    else setTimeout(dispatch, this.model.maxDelayMs);
  }

  private async runBatch(rows: readonly Float32Array[]): Promise<Array<Float32Array | Error>> {
    const { featureCount, labelCount } = this.handle;
    const features = new Float32Array(rows.length * featureCount);
    rows.forEach((row, i) => features.set(row, i * featureCount));
    this.metrics.batchSize.observe({ model: this.model.name }, rows.length);
    try {
      const result = await this.pool.run(this.handle, rows.length, features);
      this.metrics.inferenceSeconds.observe({ model: this.model.name }, result.inferenceMs / 1000);
      return rows.map((_, i) => result.probabilities.subarray(i * labelCount, (i + 1) * labelCount));
    } catch (error) {
      const failure = new GraphQLError(`model ${this.model.name} failed to run: ${(error as Error).message}`, {
        extensions: { code: ErrorCode.INFERENCE_FAILED },
      });
      return rows.map(() => failure);
    }
  }
}
