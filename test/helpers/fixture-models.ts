/**
 * Model folders built at test time, for behaviour the real models are too quick to show: a
 * deliberately slow classifier keeps a worker busy long enough to watch the main thread.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attr, DataType, floatTensor, int64Tensor, graph, model, node, serialize, tensorValueInfo } from '../../training/onnx/builder.ts';
import { tempDir } from './server.ts';

/**
 * A 3-class classifier over 4 features that runs `layers` dense 1024x1024 tanh layers: about
 * 130 MFLOP per layer for a batch of 64, so tens of layers keep one core busy for a few
 * hundred milliseconds.
 */
export function slowClassifierOnnx(layers: number, width = 1024): Uint8Array {
  const values = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * scale);
  const nodes = [node('MatMul', ['features', 'w_in'], ['h0'])];
  for (let i = 0; i < layers; i++) {
    nodes.push(node('MatMul', [`h${i}`, 'w_hidden'], [`m${i}`]));
    nodes.push(node('Tanh', [`m${i}`], [`h${i + 1}`]));
  }
  nodes.push(node('MatMul', [`h${layers}`, 'w_out'], ['logits']));
  nodes.push(node('Softmax', ['logits'], ['probabilities'], { attributes: { axis: attr.int(1) } }));
  const g = graph({
    name: 'slow',
    nodes,
    inputs: [tensorValueInfo('features', DataType.FLOAT, ['N', 4])],
    outputs: [tensorValueInfo('probabilities', DataType.FLOAT, ['N', 3])],
    initializers: [
      floatTensor('w_in', [4, width], values(4 * width, 0.5)),
      floatTensor('w_hidden', [width, width], values(width * width, 1 / Math.sqrt(width))),
      floatTensor('w_out', [width, 3], values(width * 3, 0.1)),
    ],
  });
  return serialize(model({ graph: g, opsets: { '': 15 } }));
}

/** A tiny 3-class classifier whose graph fixes the batch at 1: input [1, 4]. */
export function fixedBatchClassifierOnnx(): Uint8Array {
  const g = graph({
    name: 'fixed',
    nodes: [node('MatMul', ['features', 'w'], ['logits']), node('Softmax', ['logits'], ['probabilities'], { attributes: { axis: attr.int(1) } })],
    inputs: [tensorValueInfo('features', DataType.FLOAT, [1, 4])],
    outputs: [tensorValueInfo('probabilities', DataType.FLOAT, [1, 3])],
    initializers: [floatTensor('w', [4, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0])],
  });
  return serialize(model({ graph: g, opsets: { '': 15 } }));
}

/**
 * A classifier whose run fails inside ONNX Runtime for some inputs: it reshapes its [N, 3]
 * scores to the shape given by the first row's first two features. The warm-up sample
 * [-1, 3, 0, 0] asks for [-1, 3], which fits; [5, 5, 0, 0] asks for [5, 5], which no batch fits,
 * and ONNX Runtime throws from its native code.
 */
export function fragileClassifierOnnx(): Uint8Array {
  const g = graph({
    name: 'fragile',
    nodes: [
      node('MatMul', ['features', 'w'], ['scores']),
      node('Slice', ['features', 'starts', 'ends'], ['first_two']),
      node('Reshape', ['first_two', 'flat'], ['shape_float']),
      node('Cast', ['shape_float'], ['shape'], { attributes: { to: attr.int(DataType.INT64) } }),
      node('Reshape', ['scores', 'shape'], ['reshaped']),
      node('Softmax', ['reshaped'], ['probabilities'], { attributes: { axis: attr.int(-1) } }),
    ],
    inputs: [tensorValueInfo('features', DataType.FLOAT, ['N', 4])],
    outputs: [tensorValueInfo('probabilities', DataType.FLOAT, null)],
    initializers: [
      floatTensor('w', [4, 3], [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0]),
      int64Tensor('starts', [2], [0, 0]),
      int64Tensor('ends', [2], [1, 2]),
      int64Tensor('flat', [1], [2]),
    ],
  });
  return serialize(model({ graph: g, opsets: { '': 15 } }));
}

/** A 4-feature, 3-class softmax(features x weights) classifier; different weights, different version. */
export function toyClassifierOnnx(weights: number[]): Uint8Array {
  const g = graph({
    name: 'toy',
    nodes: [node('MatMul', ['features', 'w'], ['logits']), node('Softmax', ['logits'], ['probabilities'], { attributes: { axis: attr.int(1) } })],
    inputs: [tensorValueInfo('features', DataType.FLOAT, ['N', 4])],
    outputs: [tensorValueInfo('probabilities', DataType.FLOAT, ['N', 3])],
    initializers: [floatTensor('w', [4, 3], weights)],
  });
  return serialize(model({ graph: g, opsets: { '': 15 } }));
}

/** Weights under which every all-ones row is class `x`, `y` or `z`. */
export const TOY_WEIGHTS = {
  x: [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0],
  y: [0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0],
  z: [0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1],
};

export interface FixtureManifest {
  sample?: number[];
  description?: string;
  batching?: Record<string, number>;
  loading?: 'STARTUP' | 'FIRST_USE';
  versionName?: string;
}

/** Writes a FEATURES classifier folder (4 features, labels x y z) under `dir`. */
export function writeFeaturesModel(dir: string, name: string, onnx: Uint8Array, extra: FixtureManifest = {}): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), onnx);
  writeFileSync(
    join(dir, 'manifest.json'),
    JSON.stringify({
      name,
      task: 'CLASSIFICATION',
      description: `The ${name} test classifier.`,
      file: 'model.onnx',
      input: { kind: 'FEATURES', tensor: 'features', features: ['a', 'b', 'c', 'd'] },
      output: { probabilities: 'probabilities' },
      labels: ['x', 'y', 'z'],
      sample: [0, 0, 0, 0],
      ...extra,
    }),
  );
}

/**
 * A models directory holding copies of `bundled` models (iris by default), a slow classifier named `slow` (`layers` dense
 * layers), a fixed-batch classifier named `fixed` and a `fragile` one that fails on some inputs.
 */
export function modelsDirWithSlowModel(layers = 40, slow: FixtureManifest = {}, bundled: readonly string[] = ['iris']): string {
  const dir = tempDir('predictql-models-');
  for (const name of bundled) cpSync(join('models', name), join(dir, name), { recursive: true });
  writeFeaturesModel(join(dir, 'slow'), 'slow', slowClassifierOnnx(layers), { batching: { maxBatchSize: 64, maxDelayMs: 2 }, ...slow });
  writeFeaturesModel(join(dir, 'fixed'), 'fixed', fixedBatchClassifierOnnx(), { batching: { maxBatchSize: 64 } });
  writeFeaturesModel(join(dir, 'fragile'), 'fragile', fragileClassifierOnnx(), { sample: [-1, 3, 0, 0] });
  return dir;
}
