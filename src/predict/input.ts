/**
 * Checks a PredictionInput against the model's manifest and turns it into what the worker and
 * the cache need: the payload sent to the worker, and a digest of its canonical bytes. Every
 * problem is reported as BAD_USER_INPUT naming the field and what the model accepts. These
 * checks are cheap on purpose (sizes, counts, ranges): the expensive decoding happens in the
 * worker.
 */
import { createHash } from 'node:crypto';
import type { Payload } from '../engine/tasks.ts';
import { badUserInput } from '../graphql/errors.ts';
import type { InputKind, PredictionInput } from '../graphql/generated/resolvers-types.ts';
import type { ServedModel } from '../models/served-model.ts';

export interface EncodedInput {
  payload: Payload;
  /** SHA-256 of the input's canonical bytes, base64url: the input's part of the cache key. */
  digest: string;
}

const FIELD_OF_KIND: Record<InputKind, keyof PredictionInput> = {
  FEATURES: 'features',
  TEXT: 'text',
  IMAGE: 'image',
  AUDIO: 'audio',
  TENSOR: 'tensor',
};

const FLOAT32_MAX = 3.4028234663852886e38;

/** A sentence telling what the model reads, for error messages and `Model.input.description`. */
export function describeInput(model: ServedModel): string {
  const features = model.manifest.input.features;
  return `${features.length} finite numbers in \`features\`, in this order: ${features.join(', ')}`;
}

export function encodeInput(model: ServedModel, input: PredictionInput, where = 'input'): EncodedInput {
  const set = Object.values(FIELD_OF_KIND).filter((field) => input[field] !== undefined && input[field] !== null);
  const expected = FIELD_OF_KIND[model.manifest.input.kind];
  if (set.length === 0) {
    throw badUserInput(`${where} sets no field; model "${model.name}" reads ${describeInput(model)}`);
  }
  if (set.length > 1) {
    throw badUserInput(`${where} sets ${set.join(' and ')}; set exactly one field: model "${model.name}" reads \`${expected}\``);
  }
  if (set[0] !== expected) {
    throw badUserInput(`${where} sets \`${set[0]}\`, but model "${model.name}" reads ${describeInput(model)}`);
  }
  return encodeFeatures(model, input.features ?? [], where);
}

function encodeFeatures(model: ServedModel, features: readonly number[], where: string): EncodedInput {
  const names = model.manifest.input.features;
  if (features.length !== names.length) {
    throw badUserInput(`${where}.features has ${features.length} values; model "${model.name}" needs ${describeInput(model)}`);
  }
  features.forEach((value, i) => {
    // GraphQL's Float already refuses NaN and Infinity; a double beyond float32's range would
    // still become Infinity inside the model.
    if (!Number.isFinite(value) || Math.abs(value) > FLOAT32_MAX) {
      throw badUserInput(`${where}.features[${i}] (${names[i]}) is ${value}; every feature must be a finite number within ±3.4e38`);
    }
  });
  const values = Float32Array.from(features);
  const digest = createHash('sha256').update(new Uint8Array(values.buffer)).digest('base64url');
  return { payload: { kind: 'features', values }, digest };
}
