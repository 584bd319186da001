/**
 * The manifest.json of a model folder: what the model is, what it reads, how its outputs become
 * answers, how it is batched and loaded. Checked once when the folder is read, so a broken
 * manifest is refused with a message naming the file and the field, never found out by a
 * request. README.md ("Add your own model") documents every field.
 */
import { INPUT_KINDS, LOADING_POLICIES, MODEL_TASKS, type LoadingPolicy, type ModelTask, type StageKind, type TensorSpec } from '../domain/types.ts';
import { ANSWERS, STEPS, type AnswerName, type NumberOption, type StepName } from '../pipelines/stage-catalog.ts';

/** A file shipped inside an npm package, resolved through the package, never downloaded. */
export interface PackageFile {
  package: string;
  path: string;
}

/** A file in the model's folder (`file`), or inside an npm dependency. */
export type FileRef = { file: string } | PackageFile;

export type ImagePreprocess = 'mnist' | 'symbols' | 'text-line';
export type AudioPreprocess = 'silero-vad';

export type InputSpec =
  | { kind: 'FEATURES'; tensor: string; features: string[] }
  | { kind: 'TEXT'; tensor: string; maxLength: number }
  | { kind: 'IMAGE'; tensor: string; preprocess: ImagePreprocess; maxBytes: number; maxPixels: number }
  /**
   * The image a multi-stage model's stages read (`preprocess: 'stages'` is implied by `stages`):
   * `name` is what the stages call it; smaller than `minSide` on a side is refused.
   */
  | { kind: 'IMAGE'; preprocess: 'stages'; name: string; maxBytes: number; maxPixels: number; minSide: number }
  | { kind: 'AUDIO'; preprocess: AudioPreprocess; maxBytes: number; maxSeconds: number; tensor: string; stateTensor: string; sampleRateTensor: string }
  | { kind: 'TENSOR'; tensors: TensorSpec[]; maxElements: number };

export type SampleSpec = number[] | string | FileRef | Array<{ name: string; dims: number[]; data: number[] }>;

/** A processing step named in a manifest, with every option (the catalog's default where none is given). */
export interface StepRef {
  step: StepName;
  options: Record<string, number>;
}

interface StageBase {
  /** Unique in the model: names its timings and metrics. */
  name: string;
  /** Names of the values it takes: the input's name, or what earlier stages pass on. */
  takes: string[];
  /** Name of the value it passes on. */
  passes: string;
}

/** One stage of a multi-stage model (README "Declare a multi-stage model"). */
export type StageSpec =
  /** A served ONNX model with its pre- and post-processing steps, run in the worker. */
  | (StageBase & { kind: Extract<StageKind, 'MODEL'>; model: FileRef; tensor: string; output: string; prepare: StepRef; post: StepRef })
  /** A processing step, run in the worker that holds the data. */
  | (StageBase & { kind: Extract<StageKind, 'STEP'>; step: StepRef })
  /**
   * Each item of a list handed to another served model as one of its inputs, in that model's
   * batches, with its cache and queue; `window`: items of one input in that model's queue at once.
   */
  | (StageBase & { kind: Extract<StageKind, 'CALL'>; call: string; window: number });

export interface StagesSpec {
  stages: StageSpec[];
  /** Assembles the model's answer from values of the chain. */
  answer: { build: AnswerName; takes: string[] };
}

export interface Manifest {
  name: string;
  versionName?: string;
  task: ModelTask;
  description: string;
  /** The ONNX file; null for a multi-stage model, whose model stages name theirs. */
  model: FileRef | null;
  /** A multi-stage model's chain; null for a single model. */
  stages: StagesSpec | null;
  input: InputSpec;
  /** ONNX output names by role (probabilities, logits, ...); TENSOR models list theirs in `names`. */
  output: Record<string, string | string[]>;
  /** Class labels in output order: inline, or a file (one label per line, or detypify's JSON). */
  labels?: string[] | (FileRef & { format: 'lines' | 'detypify' });
  /** OCR alphabet, one character per line. */
  vocabulary?: FileRef;
  batching?: { maxBatchSize?: number; maxDelayMs?: number; maxQueue?: number; maxWorkers?: number };
  loading: LoadingPolicy;
  /**
   * Request limits: the most inputs one predictMany may send, and what one input of unit size
   * costs against MAX_REQUEST_COST (about the milliseconds of worker time it takes).
   */
  limits: { maxInputsPerRequest?: number; costPerInput?: number };
  /** Result cache settings: lifetime of an answer, largest answer kept, or no caching. */
  cache: { enabled: boolean; ttlSeconds?: number; maxEntryBytes?: number };
  /** An input to warm the model up with when it loads. */
  sample: SampleSpec;
  /** Where the weights or training data came from, under which licence; shown as is. */
  training?: Record<string, unknown>;
  source?: Record<string, unknown>;
}

export class ManifestError extends Error {
  override name = 'ManifestError';
}

const IMAGE_PREPROCESS: readonly ImagePreprocess[] = ['mnist', 'symbols', 'text-line'];
const NAME_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

/** The task each input pipeline (or a multi-stage model's answer) gives, so a manifest cannot pair them wrongly. */
export function taskOf(input: InputSpec, stages: StagesSpec | null = null): ModelTask {
  if (stages) return ANSWERS[stages.answer.build].task;
  if (input.kind === 'TENSOR') return 'TENSOR';
  if (input.kind === 'AUDIO') return 'SPEECH_DETECTION';
  if (input.kind === 'IMAGE' && input.preprocess === 'text-line') return 'TEXT_RECOGNITION';
  return 'CLASSIFICATION';
}

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Field checks that name the file and the field's path in their errors. */
class Checker {
  constructor(private readonly where: string) {}

  fail(path: string, expected: string): never {
    throw new ManifestError(`${this.where}: "${path}" must be ${expected}`);
  }

  object(value: unknown, path: string): Json {
    if (!isObject(value)) this.fail(path, 'an object');
    return value as Json;
  }

  string(obj: Json, field: string, path: string): string {
    const value = obj[field];
    if (typeof value !== 'string' || value.trim() === '') this.fail(path, 'a non-empty string');
    return value as string;
  }

  optionalString(obj: Json, field: string, path: string): string | undefined {
    return obj[field] === undefined ? undefined : this.string(obj, field, path);
  }

  oneOf<T extends string>(obj: Json, field: string, path: string, choices: readonly T[], fallback?: T): T {
    const value = obj[field] ?? fallback;
    if (!choices.includes(value as T)) this.fail(path, `one of ${choices.join(', ')}`);
    return value as T;
  }

  stringList(obj: Json, field: string, path: string): string[] {
    const value = obj[field];
    if (!Array.isArray(value) || value.length === 0 || !value.every((v) => typeof v === 'string' && v !== '')) {
      this.fail(path, 'a non-empty list of non-empty strings');
    }
    return value as string[];
  }

  number(obj: Json, field: string, path: string, opts: { integer?: boolean; min: number; fallback?: number }): number {
    const value = obj[field] ?? opts.fallback;
    if (typeof value !== 'number' || !Number.isFinite(value) || value < opts.min || (opts.integer && !Number.isInteger(value))) {
      this.fail(path, `${opts.integer ? 'a whole number' : 'a number'} of at least ${opts.min}`);
    }
    return value as number;
  }

  optionalNumber(obj: Json, field: string, path: string, opts: { integer?: boolean; min: number }): number | undefined {
    return obj[field] === undefined ? undefined : this.number(obj, field, path, opts);
  }

  fileRef(value: unknown, path: string): FileRef {
    const obj = this.object(value, path);
    if (obj.file !== undefined) {
      const file = this.string(obj, 'file', `${path}.file`);
      if (file.startsWith('/') || file.split(/[\\/]/).includes('..')) this.fail(`${path}.file`, "a path inside the model's folder");
      return { file };
    }
    if (obj.package !== undefined) {
      return { package: this.string(obj, 'package', `${path}.package`), path: this.string(obj, 'path', `${path}.path`) };
    }
    return this.fail(path, 'either { "file": <path in the folder> } or { "package": <npm package>, "path": <path inside it> }');
  }
}

/** Checks a parsed manifest.json; `where` names the file in error messages. */
export function parseManifest(raw: unknown, where: string): Manifest {
  const c = new Checker(where);
  const root = c.object(raw, '(top level)');

  const name = c.string(root, 'name', 'name');
  if (!NAME_PATTERN.test(name)) c.fail('name', 'lowercase letters, digits and dashes (at most 63), starting with a letter or digit');

  // A multi-stage model names its files in its model stages; `file` is the short form of `model: { file }`.
  const staged = root.stages !== undefined;
  if (staged && (root.model !== undefined || root.file !== undefined)) c.fail('model', 'left out when "stages" is given (each model stage names its own file)');
  const model = staged ? null : root.model !== undefined ? c.fileRef(root.model, 'model') : c.fileRef({ file: root.file }, 'file');
  const input = staged ? parseStagedInput(c, c.object(root.input, 'input')) : parseInput(c, c.object(root.input, 'input'));
  const stages = staged ? parseStages(c, root.stages, root.answer) : null;
  const task = c.oneOf(root, 'task', 'task', MODEL_TASKS);
  const expected = taskOf(input, stages);
  if (task !== expected) c.fail('task', stages ? `${expected} for the answer "${stages.answer.build}"` : `${expected} for a ${input.kind}${'preprocess' in input ? ` (${input.preprocess})` : ''} input`);

  const output = c.object(root.output ?? {}, 'output');
  for (const [role, value] of Object.entries(output)) {
    const ok = typeof value === 'string' ? value !== '' : Array.isArray(value) && value.every((v) => typeof v === 'string' && v !== '');
    if (!ok) c.fail(`output.${role}`, 'an output name or a list of output names');
  }

  let labels: Manifest['labels'];
  if (Array.isArray(root.labels)) {
    labels = c.stringList(root, 'labels', 'labels');
    if (new Set(labels).size !== labels.length) c.fail('labels', 'a list without repeats');
  } else if (root.labels !== undefined) {
    const ref = c.fileRef(root.labels, 'labels');
    labels = { ...ref, format: c.oneOf(root.labels as Json, 'format', 'labels.format', ['lines', 'detypify'] as const, 'lines') };
  }
  if (task === 'CLASSIFICATION' && labels === undefined) c.fail('labels', 'given for a CLASSIFICATION model');

  let batching: Manifest['batching'];
  if (root.batching !== undefined) {
    const b = c.object(root.batching, 'batching');
    batching = {
      maxBatchSize: c.optionalNumber(b, 'maxBatchSize', 'batching.maxBatchSize', { integer: true, min: 1 }),
      maxDelayMs: c.optionalNumber(b, 'maxDelayMs', 'batching.maxDelayMs', { min: 0 }),
      maxQueue: c.optionalNumber(b, 'maxQueue', 'batching.maxQueue', { integer: true, min: 1 }),
      maxWorkers: c.optionalNumber(b, 'maxWorkers', 'batching.maxWorkers', { integer: true, min: 1 }),
    };
  }

  return {
    name,
    versionName: c.optionalString(root, 'versionName', 'versionName'),
    task,
    description: c.string(root, 'description', 'description'),
    model,
    stages,
    input,
    output: output as Manifest['output'],
    labels,
    vocabulary: root.vocabulary === undefined ? undefined : c.fileRef(root.vocabulary, 'vocabulary'),
    batching,
    loading: c.oneOf(root, 'loading', 'loading', LOADING_POLICIES, 'STARTUP'),
    cache: parseCache(c, root.cache),
    limits: {
      maxInputsPerRequest: root.limits === undefined ? undefined : c.optionalNumber(c.object(root.limits, 'limits'), 'maxInputsPerRequest', 'limits.maxInputsPerRequest', { integer: true, min: 1 }),
      costPerInput: root.limits === undefined ? undefined : c.optionalNumber(c.object(root.limits, 'limits'), 'costPerInput', 'limits.costPerInput', { min: 0 }),
    },
    sample: parseSample(c, root.sample, input),
    training: isObject(root.training) ? root.training : undefined,
    source: isObject(root.source) ? root.source : undefined,
  };
}

function parseCache(c: Checker, value: unknown): Manifest['cache'] {
  if (value === undefined) return { enabled: true };
  const cache = c.object(value, 'cache');
  if (cache.enabled !== undefined && typeof cache.enabled !== 'boolean') c.fail('cache.enabled', 'true or false');
  return {
    enabled: cache.enabled !== false,
    ttlSeconds: c.optionalNumber(cache, 'ttlSeconds', 'cache.ttlSeconds', { integer: true, min: 1 }),
    maxEntryBytes: c.optionalNumber(cache, 'maxEntryBytes', 'cache.maxEntryBytes', { integer: true, min: 1 }),
  };
}

function parseInput(c: Checker, input: Json): InputSpec {
  const kind = c.oneOf(input, 'kind', 'input.kind', INPUT_KINDS);
  switch (kind) {
    case 'FEATURES':
      return { kind, tensor: c.string(input, 'tensor', 'input.tensor'), features: c.stringList(input, 'features', 'input.features') };
    case 'TEXT':
      return { kind, tensor: c.string(input, 'tensor', 'input.tensor'), maxLength: c.number(input, 'maxLength', 'input.maxLength', { integer: true, min: 1, fallback: 10_000 }) };
    case 'IMAGE':
      return {
        kind,
        tensor: c.string(input, 'tensor', 'input.tensor'),
        preprocess: c.oneOf(input, 'preprocess', 'input.preprocess', IMAGE_PREPROCESS),
        maxBytes: c.number(input, 'maxBytes', 'input.maxBytes', { integer: true, min: 1, fallback: 5_000_000 }),
        maxPixels: c.number(input, 'maxPixels', 'input.maxPixels', { integer: true, min: 1, fallback: 25_000_000 }),
      };
    case 'AUDIO':
      return {
        kind,
        preprocess: c.oneOf(input, 'preprocess', 'input.preprocess', ['silero-vad'] as const),
        maxBytes: c.number(input, 'maxBytes', 'input.maxBytes', { integer: true, min: 1, fallback: 10_000_000 }),
        maxSeconds: c.number(input, 'maxSeconds', 'input.maxSeconds', { min: 0.1, fallback: 60 }),
        // Silero's input names; another export of the model may name them differently.
        tensor: input.tensor === undefined ? 'input' : c.string(input, 'tensor', 'input.tensor'),
        stateTensor: input.stateTensor === undefined ? 'state' : c.string(input, 'stateTensor', 'input.stateTensor'),
        sampleRateTensor: input.sampleRateTensor === undefined ? 'sr' : c.string(input, 'sampleRateTensor', 'input.sampleRateTensor'),
      };
    case 'TENSOR': {
      const tensors = input.tensors;
      if (!Array.isArray(tensors) || tensors.length === 0) return c.fail('input.tensors', 'a non-empty list of { name, shape }');
      return {
        kind,
        tensors: tensors.map((t, i) => {
          const spec = c.object(t, `input.tensors[${i}]`);
          const shape = spec.shape;
          if (!Array.isArray(shape) || !shape.every((d) => (typeof d === 'number' && Number.isInteger(d) && d > 0) || (typeof d === 'string' && d !== ''))) {
            c.fail(`input.tensors[${i}].shape`, 'a list of positive whole numbers and names of free dimensions');
          }
          return { name: c.string(spec, 'name', `input.tensors[${i}].name`), shape: shape as Array<number | string> };
        }),
        maxElements: c.number(input, 'maxElements', 'input.maxElements', { integer: true, min: 1, fallback: 1_000_000 }),
      };
    }
  }
}

function parseStagedInput(c: Checker, input: Json): InputSpec {
  if (input.kind !== 'IMAGE') c.fail('input.kind', 'IMAGE for a multi-stage model (the only input its stages read so far)');
  if (input.tensor !== undefined || input.preprocess !== undefined) c.fail('input', 'without "tensor" and "preprocess" for a multi-stage model: its stages say how the image is read');
  const name = input.name === undefined ? 'input' : c.string(input, 'name', 'input.name');
  if (!VALUE_NAME.test(name)) c.fail('input.name', VALUE_NAME_RULE);
  return {
    kind: 'IMAGE',
    preprocess: 'stages',
    name,
    maxBytes: c.number(input, 'maxBytes', 'input.maxBytes', { integer: true, min: 1, fallback: 10_000_000 }),
    maxPixels: c.number(input, 'maxPixels', 'input.maxPixels', { integer: true, min: 1, fallback: 40_000_000 }),
    minSide: c.number(input, 'minSide', 'input.minSide', { integer: true, min: 1, fallback: 16 }),
  };
}

const VALUE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const VALUE_NAME_RULE = 'lowercase letters, digits and dashes, starting with a letter';

/** A name, or a list of names, of values a stage takes. */
function valueNames(c: Checker, value: unknown, path: string): string[] {
  const names = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => typeof n === 'string' && VALUE_NAME.test(n))) {
    c.fail(path, `a value name or a non-empty list of them (${VALUE_NAME_RULE})`);
  }
  return names as string[];
}

/** `{ "step": <name>, "options": { ... } }`: a step of the catalog in the role the field needs, every option checked. */
function stepRef(c: Checker, value: unknown, path: string, role: 'prepare' | 'post' | 'step'): StepRef {
  const obj = c.object(value, path);
  const names = Object.keys(STEPS) as StepName[];
  const fitting = names.filter((n) => STEPS[n].role === role);
  const step = c.oneOf(obj, 'step', `${path}.step`, fitting);
  const given = obj.options === undefined ? {} : c.object(obj.options, `${path}.options`);
  const specs: Readonly<Record<string, NumberOption>> = STEPS[step].options;
  for (const key of Object.keys(given)) if (!(key in specs)) c.fail(`${path}.options.${key}`, `one of the options of "${step}": ${Object.keys(specs).join(', ') || 'none'}`);
  const options: Record<string, number> = {};
  for (const [key, spec] of Object.entries(specs)) {
    const where = `${path}.options.${key}`;
    const v = given[key] ?? spec.default;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < spec.min || v > spec.max || (spec.integer && !Number.isInteger(v)) || (spec.multipleOf && v % spec.multipleOf !== 0)) {
      c.fail(where, `${spec.integer ? 'a whole number' : 'a number'} from ${spec.min} to ${spec.max}${spec.multipleOf ? `, a multiple of ${spec.multipleOf}` : ''} (default ${spec.default})`);
    }
    options[key] = v as number;
  }
  return { step, options };
}

/**
 * The stages as declared, field by field. That the chain fits together (each value taken exists
 * and is of the kind taken, a called model exists and reads what it is given) is checked by
 * src/models/stages.ts once every model of the repository is known.
 */
function parseStages(c: Checker, value: unknown, answerValue: unknown): StagesSpec {
  if (!Array.isArray(value) || value.length === 0) c.fail('stages', 'a non-empty list of stages');
  const stages = (value as unknown[]).map((raw, i): StageSpec => {
    const path = `stages[${i}]`;
    const obj = c.object(raw, path);
    const name = c.string(obj, 'name', `${path}.name`);
    if (!VALUE_NAME.test(name)) c.fail(`${path}.name`, VALUE_NAME_RULE);
    const base = { name, takes: valueNames(c, obj.takes, `${path}.takes`), passes: valueNames(c, obj.passes, `${path}.passes`)[0]! };
    if (Array.isArray(obj.passes)) c.fail(`${path}.passes`, 'one value name');
    const kinds = ['model', 'step', 'call'].filter((k) => obj[k] !== undefined);
    if (kinds.length !== 1) c.fail(path, 'exactly one of "model" (a served ONNX file), "step" (a processing step) or "call" (another served model)');
    if (obj.model !== undefined) {
      return {
        ...base,
        kind: 'MODEL',
        model: c.fileRef(obj.model, `${path}.model`),
        tensor: c.string(obj, 'tensor', `${path}.tensor`),
        output: c.string(obj, 'output', `${path}.output`),
        prepare: stepRef(c, obj.prepare, `${path}.prepare`, 'prepare'),
        post: stepRef(c, obj.post, `${path}.post`, 'post'),
      };
    }
    if (obj.step !== undefined) return { ...base, kind: 'STEP', step: stepRef(c, { step: obj.step, options: obj.options }, path, 'step') };
    if (obj.each !== true) c.fail(`${path}.each`, 'true: a call stage hands each item of the list it takes to the model called');
    return { ...base, kind: 'CALL', call: c.string(obj, 'call', `${path}.call`), window: c.number(obj, 'window', `${path}.window`, { integer: true, min: 1, fallback: 16 }) };
  });
  const answer = c.object(answerValue, 'answer');
  return {
    stages,
    answer: { build: c.oneOf(answer, 'build', 'answer.build', Object.keys(ANSWERS) as AnswerName[]), takes: valueNames(c, answer.takes, 'answer.takes') },
  };
}

function parseSample(c: Checker, sample: unknown, input: InputSpec): SampleSpec {
  switch (input.kind) {
    case 'FEATURES':
      if (!Array.isArray(sample) || sample.length !== input.features.length || !sample.every((v) => typeof v === 'number' && Number.isFinite(v))) {
        c.fail('sample', `a list of ${input.features.length} finite numbers, one per feature`);
      }
      return sample as number[];
    case 'TEXT':
      if (typeof sample !== 'string' || sample === '') c.fail('sample', 'a non-empty text');
      return sample as string;
    case 'IMAGE':
    case 'AUDIO':
      return c.fileRef(sample, 'sample');
    case 'TENSOR':
      if (!Array.isArray(sample) || sample.length === 0) c.fail('sample', 'a list of { name, dims, data } tensors');
      return (sample as unknown[]).map((t, i) => {
        const tensor = c.object(t, `sample[${i}]`);
        const dims = tensor.dims;
        const data = tensor.data;
        if (!Array.isArray(dims) || !dims.every((d) => Number.isInteger(d) && d >= 0)) c.fail(`sample[${i}].dims`, 'a list of whole numbers');
        if (!Array.isArray(data) || !data.every((v) => typeof v === 'number')) c.fail(`sample[${i}].data`, 'a list of numbers');
        return { name: c.string(tensor, 'name', `sample[${i}].name`), dims: dims as number[], data: data as number[] };
      });
  }
}
