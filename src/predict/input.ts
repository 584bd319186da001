/**
 * Checks a PredictionInput against the model's manifest and turns it into what the worker and
 * the cache need: the payload sent to the worker, and a digest of its canonical bytes (numbers as
 * float32, text as given, images and audio by their decoded bytes). Every problem is reported as
 * BAD_USER_INPUT naming the field and what the model accepts.
 *
 * The checks here are the cheap ones (counts, sizes, ranges, base64 syntax), so a bad input is
 * refused before any work is queued; decoding pixels and samples happens in the worker.
 */
import { createHash } from 'node:crypto';
import { badUserInput } from '../domain/errors.ts';
import type { ClientInput, ClientTensor, InputKind, NamedTensor, Payload, TensorSpec } from '../domain/types.ts';
import type { InputSpec } from '../models/manifest.ts';
import type { ServedModel } from '../models/served-model.ts';
import { decodeBase64, decodeFloat32Base64 } from '../processing/base64.ts';
import { InputError } from '../processing/errors.ts';
import { checkImageHeader, checkWavHeader } from '../processing/headers.ts';

export interface EncodedInput {
  payload: Payload;
  /** SHA-256 of the input's canonical bytes, base64url: the input's part of the cache key. */
  digest: string;
}

const FIELD_OF_KIND: Record<InputKind, keyof ClientInput> = {
  FEATURES: 'features',
  TEXT: 'text',
  IMAGE: 'image',
  AUDIO: 'audio',
  TENSOR: 'tensor',
};

const FLOAT32_MAX = 3.4028234663852886e38;

const IMAGE_STEPS: Record<string, string> = {
  mnist: 'converted to a 28x28 grey digit, MNIST style (either ink colour works)',
  symbols: 'converted to a 224x224 drawing of strokes (either ink colour works)',
  'text-line': 'one line of text, scaled to 48 px high',
};

/** A sentence telling what the model reads, with its limits, for errors and `Model.input.description`. */
export function describeInput(model: ServedModel): string {
  const input = model.manifest.input;
  switch (input.kind) {
    case 'FEATURES':
      return `${input.features.length} finite numbers in \`features\`, in this order: ${input.features.join(', ')}`;
    case 'TEXT':
      return `a text of 1 to ${input.maxLength} characters in \`text\``;
    case 'IMAGE':
      if (input.preprocess === 'stages') {
        return `a base64 PNG or JPEG in \`image\` of at most ${input.maxBytes} bytes and ${input.maxPixels} pixels, at least ${input.minSide} px on each side, read by the model's stages: ${model.stages!.spec.stages.map((s) => s.name).join(' -> ')}`;
      }
      return `a base64 PNG or JPEG in \`image\` of at most ${input.maxBytes} bytes and ${input.maxPixels} pixels, ${IMAGE_STEPS[input.preprocess]}`;
    case 'AUDIO':
      return `a base64 WAV in \`audio\` (16-bit PCM, any sample rate, mono or stereo) of at most ${input.maxBytes} bytes and ${input.maxSeconds} s, resampled to 16 kHz mono`;
    case 'TENSOR':
      return `raw float tensors in \`tensor\`: ${input.tensors.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ')}; at most ${input.maxElements} values in all`;
  }
}

export function encodeInput(model: ServedModel, input: ClientInput, where = 'input'): EncodedInput {
  const set = Object.values(FIELD_OF_KIND).filter((field) => input[field] !== undefined && input[field] !== null);
  const spec = model.manifest.input;
  const expected = FIELD_OF_KIND[spec.kind];
  if (set.length === 0) {
    throw badUserInput(`${where} sets no field; model "${model.name}" reads ${describeInput(model)}`);
  }
  if (set.length > 1) {
    throw badUserInput(`${where} sets ${set.join(' and ')}; set exactly one field: model "${model.name}" reads \`${expected}\``);
  }
  if (set[0] !== expected) {
    throw badUserInput(`${where} sets \`${set[0]}\`, but model "${model.name}" reads ${describeInput(model)}`);
  }
  try {
    switch (spec.kind) {
      case 'FEATURES':
        return encodeFeatures(model, spec, input.features!, `${where}.features`);
      case 'TEXT':
        return encodeText(spec.maxLength, input.text!, `${where}.text`);
      case 'IMAGE': {
        const bytes = decodeBase64(input.image!, `${where}.image`, spec.maxBytes);
        checkImageHeader(bytes, spec.maxPixels, spec.preprocess === 'stages' ? spec.minSide : 1);
        return encodeBytes('image', bytes);
      }
      case 'AUDIO': {
        const bytes = decodeBase64(input.audio!, `${where}.audio`, spec.maxBytes);
        checkWavHeader(bytes);
        return encodeBytes('audio', bytes);
      }
      case 'TENSOR':
        return encodeTensors(spec.tensors, spec.maxElements, input.tensor!, `${where}.tensor`);
    }
  } catch (error) {
    if (error instanceof InputError) throw badUserInput(error.message);
    throw error;
  }
}

function digestOf(kind: string, ...parts: Array<Uint8Array | string>): string {
  const hash = createHash('sha256').update(kind);
  for (const part of parts) hash.update(part);
  return hash.digest('base64url');
}

function checkFloats(values: readonly number[], where: string, name: (i: number) => string): Float32Array {
  values.forEach((value, i) => {
    // GraphQL's Float already refuses NaN and Infinity; a double beyond float32's range would
    // still become Infinity inside the model.
    if (!Number.isFinite(value) || Math.abs(value) > FLOAT32_MAX) {
      throw badUserInput(`${where}[${i}]${name(i)} is ${value}; every value must be a finite number within ±3.4e38`);
    }
  });
  return Float32Array.from(values);
}

function encodeFeatures(model: ServedModel, spec: Extract<InputSpec, { kind: 'FEATURES' }>, features: readonly number[], where: string): EncodedInput {
  if (features.length !== spec.features.length) {
    throw badUserInput(`${where} has ${features.length} values; model "${model.name}" needs ${describeInput(model)}`);
  }
  const values = checkFloats(features, where, (i) => ` (${spec.features[i]})`);
  return { payload: { kind: 'features', values }, digest: digestOf('features', new Uint8Array(values.buffer)) };
}

function encodeText(maxLength: number, text: string, where: string): EncodedInput {
  if (text.trim() === '') throw badUserInput(`${where} is empty; send 1 to ${maxLength} characters of text`);
  if (text.length > maxLength) throw badUserInput(`${where} has ${text.length} characters; at most ${maxLength} are allowed`);
  return { payload: { kind: 'text', text }, digest: digestOf('text', text) };
}

function encodeBytes(kind: string, bytes: Uint8Array): EncodedInput {
  return { payload: { kind: 'bytes', bytes }, digest: digestOf(kind, bytes) };
}

function encodeTensors(
  specs: readonly TensorSpec[],
  maxElements: number,
  tensors: readonly ClientTensor[],
  where: string,
): EncodedInput {
  const expected = specs.map((s) => `${s.name} [${s.shape.join(', ')}]`).join(', ');
  const byName = new Map(tensors.map((t) => [t.name, t]));
  if (tensors.length !== specs.length || byName.size !== tensors.length || specs.some((s) => !byName.has(s.name))) {
    throw badUserInput(`${where} has tensors ${tensors.map((t) => t.name).join(', ') || '(none)'}; the model needs exactly: ${expected}`);
  }
  let total = 0;
  const free = new Map<string, number>();
  const named: NamedTensor[] = specs.map((spec) => {
    const tensor = byName.get(spec.name)!;
    const at = `${where}["${spec.name}"]`;
    if (tensor.dims.length !== spec.shape.length) {
      throw badUserInput(`${at}.dims has ${tensor.dims.length} dimensions; ${spec.name} is [${spec.shape.join(', ')}]`);
    }
    tensor.dims.forEach((dim, i) => {
      const want = spec.shape[i]!;
      if (!Number.isInteger(dim) || dim < 1) throw badUserInput(`${at}.dims[${i}] is ${dim}; dimensions must be whole numbers of at least 1`);
      if (typeof want === 'number' && dim !== want) throw badUserInput(`${at}.dims[${i}] is ${dim}; ${spec.name} is [${spec.shape.join(', ')}]`);
      // A named dimension must have one size across all tensors (the batch, say).
      if (typeof want === 'string') {
        const seen = free.get(want);
        if (seen !== undefined && seen !== dim) throw badUserInput(`${at}.dims[${i}] is ${dim} but "${want}" is ${seen} in another tensor`);
        free.set(want, dim);
      }
    });
    const size = tensor.dims.reduce((a, b) => a * b, 1);
    total += size;
    if (total > maxElements) throw badUserInput(`${where} holds more than ${maxElements} values, the model's limit`);
    const hasData = tensor.data !== undefined && tensor.data !== null;
    const hasBase64 = tensor.dataBase64 !== undefined && tensor.dataBase64 !== null;
    if (hasData === hasBase64) throw badUserInput(`${at} must set exactly one of data (JSON numbers) and dataBase64 (base64 float32)`);
    if (hasBase64 && tensor.dataBase64!.length > 4 * Math.ceil((size * 4) / 3)) {
      throw badUserInput(`${at}.dataBase64 is longer than ${size} float32 values need`);
    }
    const values = hasData ? tensor.data! : Array.from(decodeFloat32Base64(tensor.dataBase64!, `${at}.dataBase64`));
    if (values.length !== size) throw badUserInput(`${at}.${hasData ? 'data' : 'dataBase64'} has ${values.length} values; dims [${tensor.dims.join(', ')}] need ${size}`);
    return { name: spec.name, dims: [...tensor.dims], data: checkFloats(values, `${at}.${hasData ? 'data' : 'dataBase64'}`, () => '') };
  });
  const parts = named.flatMap((t) => [t.name, new Uint8Array(Int32Array.from(t.dims).buffer), new Uint8Array(t.data.buffer)]);
  return { payload: { kind: 'tensors', tensors: named }, digest: digestOf('tensors', ...parts) };
}
