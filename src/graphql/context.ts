/** What every resolver of one GraphQL request can reach. */
import type { ModelRegistry } from '../models/registry.ts';
import type { RequestPredictions } from '../predict/predictions.ts';

export interface RequestContext {
  registry: ModelRegistry;
  predictions: RequestPredictions;
}
