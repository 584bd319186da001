/**
 * Manifest parsing alone (no files read): every input kind with its defaults, the checks that
 * name the field, and the effective settings a model gets from its manifest and the server's
 * defaults. test/repository.test.ts covers reading folders, files and packages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManifestError, parseManifest, taskOf } from '../../src/models/manifest.ts';
import { effectiveSettings, modelDefaults, type ModelDefaults } from '../../src/models/settings.ts';

const WHERE = 'models/x/manifest.json';
const DEFAULTS: ModelDefaults = { maxBatchSize: 64, maxDelayMs: 2, maxQueue: 1024, maxWorkers: 1, cacheTtlSeconds: 0, maxInputsPerRequest: 10_000 };

const FEATURES = {
  name: 'iris',
  task: 'CLASSIFICATION',
  description: 'Iris species',
  file: 'model.onnx',
  input: { kind: 'FEATURES', tensor: 'x', features: ['a', 'b'] },
  output: { probabilities: 'p', label: 'l' },
  labels: ['setosa', 'versicolor'],
  sample: [1, 2],
};

function refuses(change: Record<string, unknown>, message: RegExp): void {
  assert.throws(
    () => parseManifest({ ...FEATURES, ...change }, WHERE),
    (error: unknown) => error instanceof ManifestError && error.message.startsWith(`${WHERE}: `) && message.test(error.message),
  );
}

describe('parseManifest', () => {
  it('reads a features classifier, with the defaults of what it leaves out', () => {
    const manifest = parseManifest(FEATURES, WHERE);
    assert.deepEqual(manifest.model, { file: 'model.onnx' });
    assert.deepEqual(manifest.input, { kind: 'FEATURES', tensor: 'x', features: ['a', 'b'] });
    assert.equal(manifest.loading, 'STARTUP');
    assert.deepEqual(manifest.cache, { enabled: true });
    assert.deepEqual(manifest.limits, { maxInputsPerRequest: undefined, costPerInput: undefined });
    assert.equal(manifest.batching, undefined);
    assert.equal(manifest.versionName, undefined);
  });

  it('fills in the limits of text, image, audio and tensor inputs', () => {
    const text = parseManifest({ ...FEATURES, input: { kind: 'TEXT', tensor: 'tokens' }, sample: 'hello' }, WHERE);
    assert.deepEqual(text.input, { kind: 'TEXT', tensor: 'tokens', maxLength: 10_000 });
    const image = parseManifest({ ...FEATURES, input: { kind: 'IMAGE', tensor: 'x', preprocess: 'mnist' }, sample: { file: 'sample.png' } }, WHERE);
    assert.deepEqual(image.input, { kind: 'IMAGE', tensor: 'x', preprocess: 'mnist', maxBytes: 5_000_000, maxPixels: 25_000_000 });
    const audio = parseManifest(
      { ...FEATURES, task: 'SPEECH_DETECTION', labels: undefined, input: { kind: 'AUDIO', preprocess: 'silero-vad' }, sample: { package: 'p', path: 's.wav' } },
      WHERE,
    );
    assert.deepEqual(audio.input, { kind: 'AUDIO', preprocess: 'silero-vad', maxBytes: 10_000_000, maxSeconds: 60, tensor: 'input', stateTensor: 'state', sampleRateTensor: 'sr' });
    assert.deepEqual(audio.sample, { package: 'p', path: 's.wav' });
    const tensor = parseManifest(
      { ...FEATURES, task: 'TENSOR', labels: undefined, input: { kind: 'TENSOR', tensors: [{ name: 'c', shape: ['N', 1] }] }, output: { names: ['f'] }, sample: [{ name: 'c', dims: [1, 1], data: [20] }] },
      WHERE,
    );
    assert.deepEqual(tensor.input, { kind: 'TENSOR', tensors: [{ name: 'c', shape: ['N', 1] }], maxElements: 1_000_000 });
  });

  it('reads labels from a file, in lines by default', () => {
    const manifest = parseManifest({ ...FEATURES, labels: { package: 'detypify-service', path: 'train/infer.json', format: 'detypify' } }, WHERE);
    assert.deepEqual(manifest.labels, { package: 'detypify-service', path: 'train/infer.json', format: 'detypify' });
    assert.deepEqual(parseManifest({ ...FEATURES, labels: { file: 'labels.txt' } }, WHERE).labels, { file: 'labels.txt', format: 'lines' });
  });

  it('pairs each input with the one task it can answer', () => {
    assert.equal(taskOf({ kind: 'IMAGE', tensor: 'x', preprocess: 'text-line', maxBytes: 1, maxPixels: 1 }), 'TEXT_RECOGNITION');
    assert.equal(taskOf({ kind: 'IMAGE', tensor: 'x', preprocess: 'symbols', maxBytes: 1, maxPixels: 1 }), 'CLASSIFICATION');
    refuses({ task: 'TENSOR' }, /"task" must be CLASSIFICATION for a FEATURES input/);
    refuses({ input: { kind: 'IMAGE', tensor: 'x', preprocess: 'text-line' }, sample: { file: 's.png' } }, /"task" must be TEXT_RECOGNITION for a IMAGE \(text-line\) input/);
  });

  it('refuses what it cannot use, naming the file and the field', () => {
    refuses({ name: '-iris' }, /"name" must be lowercase letters, digits and dashes/);
    refuses({ description: '  ' }, /"description" must be a non-empty string/);
    refuses({ file: '/etc/passwd' }, /"file.file" must be a path inside the model's folder/);
    refuses({ file: 'a/../../b.onnx' }, /"file.file" must be a path inside the model's folder/);
    refuses({ file: undefined }, /"file" must be either \{ "file": <path in the folder> \} or \{ "package"/);
    refuses({ input: { kind: 'FEATURES', tensor: 'x', features: [] } }, /"input.features" must be a non-empty list of non-empty strings/);
    refuses({ input: { kind: 'TEXT', tensor: 't', maxLength: 0 }, sample: 'x' }, /"input.maxLength" must be a whole number of at least 1/);
    refuses({ input: { kind: 'IMAGE', tensor: 'x', preprocess: 'resnet' } }, /"input.preprocess" must be one of mnist, symbols, text-line/);
    refuses({ input: { kind: 'TENSOR', tensors: [{ name: 'c', shape: [0] }] }, task: 'TENSOR' }, /"input.tensors\[0\].shape" must be a list of positive whole numbers and names of free dimensions/);
    refuses({ output: { probabilities: '' } }, /"output.probabilities" must be an output name or a list of output names/);
    refuses({ labels: undefined }, /"labels" must be given for a CLASSIFICATION model/);
    refuses({ labels: ['a', 'a'] }, /"labels" must be a list without repeats/);
    refuses({ batching: { maxDelayMs: -1 } }, /"batching.maxDelayMs" must be a number of at least 0/);
    refuses({ batching: { maxWorkers: 1.5 } }, /"batching.maxWorkers" must be a whole number of at least 1/);
    refuses({ cache: { enabled: 'no' } }, /"cache.enabled" must be true or false/);
    refuses({ cache: { ttlSeconds: 0 } }, /"cache.ttlSeconds" must be a whole number of at least 1/);
    refuses({ limits: { costPerInput: -1 } }, /"limits.costPerInput" must be a number of at least 0/);
    refuses({ loading: 'LAZY' }, /"loading" must be one of STARTUP, FIRST_USE/);
    refuses({ sample: [1, Number.NaN] }, /"sample" must be a list of 2 finite numbers, one per feature/);
    refuses({ input: { kind: 'TEXT', tensor: 't' }, sample: '' }, /"sample" must be a non-empty text/);
  });
});

describe('effective settings', () => {
  it("take the server's defaults where the manifest sets nothing", () => {
    const settings = effectiveSettings(parseManifest(FEATURES, WHERE), DEFAULTS);
    assert.deepEqual(settings, {
      batching: { maxBatchSize: 64, maxDelayMs: 2, maxQueue: 1024, maxWorkers: 1 },
      cache: { enabled: true, ttlMs: undefined, maxEntryBytes: undefined },
      limits: { maxInputsPerRequest: 10_000, costPerInput: 1, costPerInputOfCalls: 0 },
    });
  });

  it("take the manifest's values over the defaults", () => {
    const manifest = parseManifest(
      {
        ...FEATURES,
        batching: { maxBatchSize: 256, maxDelayMs: 0, maxQueue: 10, maxWorkers: 2 },
        cache: { enabled: false, ttlSeconds: 60, maxEntryBytes: 4096 },
        limits: { maxInputsPerRequest: 5, costPerInput: 0.5 },
      },
      WHERE,
    );
    assert.deepEqual(effectiveSettings(manifest, { ...DEFAULTS, cacheTtlSeconds: 3600 }), {
      batching: { maxBatchSize: 256, maxDelayMs: 0, maxQueue: 10, maxWorkers: 2 },
      cache: { enabled: false, ttlMs: 60_000, maxEntryBytes: 4096 },
      limits: { maxInputsPerRequest: 5, costPerInput: 0.5, costPerInputOfCalls: 0 },
    });
  });

  it('price an input by its kind when the manifest sets no cost, and keep answers for CACHE_TTL_SECONDS', () => {
    const image = parseManifest({ ...FEATURES, input: { kind: 'IMAGE', tensor: 'x', preprocess: 'mnist' }, sample: { file: 's.png' } }, WHERE);
    const settings = effectiveSettings(image, { ...DEFAULTS, cacheTtlSeconds: 30 });
    assert.equal(settings.limits.costPerInput, 10);
    assert.equal(settings.cache.ttlMs, 30_000);
  });

  it('come from the server settings of the same names', () => {
    assert.deepEqual(modelDefaults({ maxBatchSize: 32, maxDelayMs: 1, maxQueue: 50, modelMaxWorkers: 3, cacheTtlSeconds: 9, maxInputsPerRequest: 7 }), {
      maxBatchSize: 32,
      maxDelayMs: 1,
      maxQueue: 50,
      maxWorkers: 3,
      cacheTtlSeconds: 9,
      maxInputsPerRequest: 7,
    });
  });
});
