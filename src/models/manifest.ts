/**
 * The manifest.json of a model folder: what the model is, what it reads, what its outputs mean.
 * Parsed and checked once at load time so that a broken manifest stops the server with a message
 * naming the file and the field, not with an odd answer at prediction time.
 */
import type { InputKind, ModelTask } from '../graphql/generated/resolvers-types.ts';

export interface Manifest {
  name: string;
  versionName?: string;
  task: ModelTask;
  description: string;
  /** ONNX file, relative to the model's folder. */
  file: string;
  input: {
    kind: InputKind;
    /** Name of the ONNX graph input the features go to. */
    tensor: string;
    features: string[];
  };
  output: {
    /** Name of the ONNX output holding one probability per label, shape [N, labels]. */
    probabilities: string;
  };
  labels: string[];
  batching?: { maxBatchSize?: number; maxDelayMs?: number; maxQueue?: number };
  /** An input the model is warmed up with when it loads. */
  sample: number[];
  training?: Record<string, unknown>;
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const TASKS: readonly ModelTask[] = ['CLASSIFICATION'];
// Only tabular features have a pre-processor so far; other kinds are declared in the schema.
const SUPPORTED_INPUT_KINDS: readonly InputKind[] = ['FEATURES'];
const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks a parsed manifest.json; `where` names the file in error messages. */
export function parseManifest(raw: unknown, where: string): Manifest {
  const fail = (field: string, expected: string): never => {
    throw new ManifestError(`${where}: "${field}" must be ${expected}`);
  };
  const string = (obj: Json, field: string, path = field): string => {
    const value = obj[field];
    if (typeof value !== 'string' || value.trim() === '') fail(path, 'a non-empty string');
    return value as string;
  };
  const stringList = (obj: Json, field: string, path = field): string[] => {
    const value = obj[field];
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) {
      fail(path, 'a non-empty list of strings');
    }
    return value as string[];
  };
  const positive = (obj: Json, field: string, path: string, integer: boolean): number | undefined => {
    const value = obj[field];
    if (value === undefined) return undefined;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (integer && (!Number.isInteger(value) || value < 1))) {
      fail(path, integer ? 'a whole number of at least 1' : 'a number of at least 0');
    }
    return value as number;
  };

  if (!isObject(raw)) throw new ManifestError(`${where}: must hold a JSON object`);
  const name = string(raw, 'name');
  if (!NAME_PATTERN.test(name)) fail('name', 'lowercase letters, digits and dashes (at most 63), starting with a letter or digit');
  const versionName = raw.versionName === undefined ? undefined : string(raw, 'versionName');
  const task = raw.task as ModelTask;
  if (!TASKS.includes(task)) fail('task', `one of ${TASKS.join(', ')}`);

  const input = raw.input;
  if (!isObject(input)) return fail('input', 'an object');
  const kind = input.kind as InputKind;
  if (!SUPPORTED_INPUT_KINDS.includes(kind)) fail('input.kind', `one of ${SUPPORTED_INPUT_KINDS.join(', ')}`);
  const features = stringList(input, 'features', 'input.features');

  const output = raw.output;
  if (!isObject(output)) return fail('output', 'an object');
  const labels = stringList(raw, 'labels');
  if (new Set(labels).size !== labels.length) fail('labels', 'a list without repeats');

  const sample = raw.sample;
  if (!Array.isArray(sample) || sample.length !== features.length || !sample.every((v) => typeof v === 'number' && Number.isFinite(v))) {
    fail('sample', `a list of ${features.length} finite numbers, one per feature`);
  }

  let batching: Manifest['batching'];
  if (raw.batching !== undefined) {
    if (!isObject(raw.batching)) return fail('batching', 'an object');
    batching = {
      maxBatchSize: positive(raw.batching, 'maxBatchSize', 'batching.maxBatchSize', true),
      maxDelayMs: positive(raw.batching, 'maxDelayMs', 'batching.maxDelayMs', false),
      maxQueue: positive(raw.batching, 'maxQueue', 'batching.maxQueue', true),
    };
  }

  return {
    name,
    versionName,
    task,
    description: string(raw, 'description'),
    file: string(raw, 'file'),
    input: { kind, tensor: string(input, 'tensor', 'input.tensor'), features },
    output: { probabilities: string(output, 'probabilities', 'output.probabilities') },
    labels,
    batching,
    sample: sample as number[],
    training: isObject(raw.training) ? raw.training : undefined,
  };
}
