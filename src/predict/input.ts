/**
 * Checks a PredictionInput against the model's manifest and turns it into what the model and
 * the cache need: the input row as float32, and a digest of exactly those bytes. Every problem
 * is reported as BAD_USER_INPUT naming the field and what the model accepts.
 */
import { createHash } from 'node:crypto';
import { badUserInput } from '../graphql/errors.ts';
import type { InputKind, PredictionInput } from '../graphql/generated/resolvers-types.ts';
import type { ServedModel } from '../models/served-model.ts';

export interface EncodedInput {
  row: Float32Array;
  /** SHA-256 of the float32 bytes, base64url: the input's part of the cache key. */
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

/** A sentence telling what the model reads, for error messages and the schema's docs. */
export function describeInput(model: ServedModel): string {
  const features = model.manifest.input.features;
  return `${features.length} finite numbers in \`features\`, in this order: ${features.join(', ')}`;
}

export function encodeInput(model: ServedModel, input: PredictionInput, where = 'input'): EncodedInput {
  const set = (Object.keys(FIELD_OF_KIND) as InputKind[])
    .map((kind) => FIELD_OF_KIND[kind])
    .filter((field) => input[field] !== undefined && input[field] !== null);
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
  const row = Float32Array.from(features);
  const digest = createHash('sha256').update(new Uint8Array(row.buffer)).digest('base64url');
  return { row, digest };
}
