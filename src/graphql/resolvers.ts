/**
 * Resolvers, typed by the code generated from schema/. They stay thin: lookups go to the
 * registry, predictions to the request's RequestPredictions, and derived fields are computed
 * from the model's answer only when a query selects them. Errors raised below (domain errors)
 * become GraphQL errors here, through toGraphQLError, in the resolvers that call down.
 */
import { badUserInput, invalidModelRepository, unauthenticated } from '../domain/errors.ts';
import { ManifestError } from '../models/manifest.ts';
import { rethrowForGraphQL, toGraphQLError } from './errors.ts';
import type { Resolvers } from './generated/resolvers-types.ts';
import type { JobRecord } from '../jobs/job-record.ts';
import { describeInput } from '../predict/input.ts';
import { probabilitiesOf, rankClasses, TYPE_OF_KIND } from '../predict/prediction.ts';
import { encodeFloats, FloatData } from './float-data.ts';
import { classificationNeeds } from './selection.ts';
import type { PredictionEventValue } from '../predict/stream.ts';

/** Runs a resolver's work, turning a domain error (thrown, or its promise's rejection) into a GraphQL error. */
function answer<T>(work: () => T | Promise<T>): T | Promise<T> {
  let value: T | Promise<T>;
  try {
    value = work();
  } catch (error) {
    rethrowForGraphQL(error);
  }
  return value instanceof Promise ? value.catch(rethrowForGraphQL) : value;
}

export const resolvers: Resolvers = {
  Query: {
    models: (_parent, _args, { registry }) => registry.list(),
    model: (_parent, { name, version }, { registry }) => registry.find(name, version) ?? null,
    // A prediction the in-memory cache holds comes back as a value, not a promise: graphql-js
    // then completes the field in the same tick.
    predict: (_parent, { model, version, input, options }, { predictions }, info) =>
      answer(() => predictions.predict(model, version, input, options, classificationNeeds(info))),
    predictMany: (_parent, { model, version, inputs, options }, { predictions }, info) =>
      answer(() => predictions.predictMany(model, version, inputs, options, classificationNeeds(info))),
    predictionJob: (_parent, { id }, { jobs }) => jobs.get(id).catch(rethrowForGraphQL),
  },
  Subscription: {
    predictStream: {
      // Everything is checked here, before the first input is queued: the model, the inputs'
      // count and each input (a bad one becomes its event's error), the deadline, MAX_STREAMS.
      subscribe: (_parent, { model, version, inputs, options }, { predictions, stream }, info) => {
        try {
          return withGraphQLErrors(
            predictions.predictStream(model, version, inputs, options, classificationNeeds(info, 'prediction'), {
              onStalled: (error) => stream?.cutOff(toGraphQLError(error) as Error),
              onUnexpected: (error) => stream?.logUnexpected(error),
            }),
          );
        } catch (error) {
          throw toGraphQLError(error);
        }
      },
      resolve: (event: PredictionEventValue) => event,
    },
    predictionJobProgress: {
      // Checked before the stream starts, so an unknown id is an error of the subscription itself.
      subscribe: async (_parent, { id }, { jobs }) => {
        await jobs.get(id).catch(rethrowForGraphQL);
        return jobs.progress(id);
      },
      resolve: (record: JobRecord) => record,
    },
  },
  Mutation: {
    submitPredictionJob: (_parent, { model, version, inputs, options }, { jobs }) => jobs.submit(model, version, inputs, options).catch(rethrowForGraphQL),
    cancelPredictionJob: (_parent, { id }, { jobs }) => jobs.cancel(id).catch(rethrowForGraphQL),
    reloadModels: async (_parent, _args, { isAdmin, lifecycle, registry }) => {
      if (!isAdmin) throw toGraphQLError(unauthenticated('reloadModels'));
      try {
        return await lifecycle.reload(registry);
      } catch (e) {
        // A broken manifest is the operator's to fix: say which file and why (admins only see this).
        throw toGraphQLError(e instanceof ManifestError ? invalidModelRepository(e.message) : e);
      }
    },
    clearCache: async (_parent, { model }, { isAdmin, cache, registry }) => {
      if (!isAdmin) throw toGraphQLError(unauthenticated('clearCache'));
      try {
        if (model) registry.get(model);
        return { removed: await cache.clear(model ?? undefined) };
      } catch (e) {
        throw toGraphQLError(e);
      }
    },
  },
  PredictionJob: {
    model: (record, _args, { jobs }) => {
      try {
        return jobs.modelOf(record);
      } catch (e) {
        throw toGraphQLError(e);
      }
    },
    createdAt: (record) => new Date(record.createdAt).toISOString(),
    finishedAt: (record) => (record.finishedAt === null ? null : new Date(record.finishedAt).toISOString()),
    results: (record, { offset, limit }, { jobs }) => jobs.results(record, offset ?? 0, limit ?? 100).catch(rethrowForGraphQL),
  },
  Model: {
    versionName: (model) => model.manifest.versionName ?? null,
    task: (model) => model.manifest.task,
    description: (model) => model.manifest.description,
    input: (model) => ({
      kind: model.manifest.input.kind,
      features: model.manifest.input.kind === 'FEATURES' ? model.manifest.input.features : null,
      description: describeInput(model),
    }),
    labels: (model) => model.labels,
    loaded: (model) => model.status.state === 'READY',
    state: (model) => model.status.state,
    loading: (model) => model.manifest.loading,
    loadError: (model) => model.status.error,
    loadTimeMs: (model) => model.status.loadTimeMs,
    memoryBytes: (model) => model.status.memoryBytes,
    batching: (model) => model.settings.batching,
    versions: (model, _args, { registry }) => registry.versions(model.name),
    stages: (model) => model.stages?.spec.stages ?? [],
  },
  ModelStage: {
    step: (stage) => (stage.kind === 'STEP' ? stage.step.step : stage.kind === 'MODEL' ? `${stage.prepare.step} -> ${stage.post.step}` : null),
    model: (stage) => (stage.kind === 'CALL' ? stage.call : null),
  },
  Prediction: {
    __resolveType: (result) => TYPE_OF_KIND[result.item.kind],
  },
  Classification: {
    label: ({ model, item }) => model.labels[item.labelIndex]!,
    score: ({ item }) => probabilitiesOf(item)[item.labelIndex]!,
    classes: ({ model, item }, { top }) => {
      if (top !== undefined && top !== null && top < 1) {
        throw toGraphQLError(badUserInput(`classes(top: ${top}): top must be at least 1 (the model has ${model.labels.length} labels)`));
      }
      return rankClasses(model.labels, probabilitiesOf(item), top ?? undefined);
    },
    probabilities: ({ item }, { encoding }) => encodeFloats(probabilitiesOf(item), encoding),
  },
  TextRecognition: {
    text: ({ item }) => item.text,
    confidence: ({ item }) => item.confidence,
  },
  DocumentText: {
    // Derived on demand: a query for `text` alone never builds the list of lines and boxes.
    text: ({ item }) => item.lines.map((line) => line.text).join('\n'),
    lines: ({ item }) => item.lines,
    detectedLines: ({ item }) => item.detectedLines,
    truncated: ({ item }) => item.truncated,
  },
  SpeechDetection: {
    segments: ({ item }) => Array.from({ length: item.segments.length / 2 }, (_, i) => ({ start: item.segments[2 * i]!, end: item.segments[2 * i + 1]! })),
    speechRatio: ({ item }) => item.speechRatio,
    durationSeconds: ({ item }) => item.durationSeconds,
  },
  TensorPrediction: {
    outputs: ({ item }, { names }) => {
      if (!names) return item.outputs;
      const unknown = names.filter((n) => !item.outputs.some((t) => t.name === n));
      if (unknown.length > 0) throw toGraphQLError(badUserInput(`outputs(names:): no output named ${unknown.join(', ')}; the outputs are ${item.outputs.map((t) => t.name).join(', ')}`));
      return item.outputs.filter((t) => names.includes(t.name));
    },
  },
  OutputTensor: {
    data: (tensor, { encoding }) => encodeFloats(tensor.data, encoding),
  },
  FloatData,
};

/**
 * The stream with its ending errors (STREAM_TOO_SLOW, SHUTTING_DOWN) as GraphQL errors, code
 * included. A plain object rather than an async generator: a generator's return() would wait for
 * a pending next(), and leaving a stream must drop its inputs at once.
 */
function withGraphQLErrors<T>(stream: AsyncIterableIterator<T>): AsyncIterableIterator<T> {
  return {
    next: () => stream.next().catch(rethrowForGraphQL),
    return: () => stream.return!(),
    throw: (error?: unknown) => stream.throw!(error),
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}
