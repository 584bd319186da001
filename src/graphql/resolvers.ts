/**
 * Resolvers, typed by the code generated from schema/. They stay thin: lookups go to the
 * registry, predictions to the request's RequestPredictions, and derived fields are computed
 * from the model's answer only when a query selects them.
 */
import { badUserInput } from './errors.ts';
import type { Resolvers } from './generated/resolvers-types.ts';
import { describeInput } from '../predict/input.ts';
import { rankClasses, topIndex } from '../predict/prediction.ts';

export const resolvers: Resolvers = {
  Query: {
    models: (_parent, _args, { registry }) => registry.list(),
    model: (_parent, { name }, { registry }) => registry.find(name) ?? null,
    predict: (_parent, { model, input, options }, { predictions }) => predictions.predict(model, input, options),
    predictMany: (_parent, { model, inputs, options }, { predictions }) => predictions.predictMany(model, inputs, options),
  },
  Model: {
    versionName: (model) => model.manifest.versionName ?? null,
    task: (model) => model.manifest.task,
    description: (model) => model.manifest.description,
    input: (model) => ({
      kind: model.manifest.input.kind,
      features: model.manifest.input.features,
      description: describeInput(model),
    }),
    labels: (model) => model.manifest.labels,
    loaded: (model) => model.status.loaded,
    loadTimeMs: (model) => model.status.loadTimeMs,
    memoryBytes: (model) => model.status.memoryBytes,
    batching: (model, _args, { predictions }) => predictions.batchPolicy(model),
  },
  Prediction: {
    __resolveType: () => 'Classification',
  },
  Classification: {
    label: ({ model, item }) => model.manifest.labels[topIndex(item.probabilities)]!,
    score: ({ item }) => item.probabilities[topIndex(item.probabilities)]!,
    classes: ({ model, item }, { top }) => {
      if (top !== undefined && top !== null && top < 1) {
        throw badUserInput(`classes(top: ${top}): top must be at least 1 (the model has ${item.probabilities.length} labels)`);
      }
      return rankClasses(model.manifest.labels, item.probabilities, top ?? undefined);
    },
  },
};
