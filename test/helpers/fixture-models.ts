/**
 * Model folders built at test time, for behaviour the real models are too quick to show: a
 * deliberately slow classifier keeps a worker busy long enough to watch the main thread.
 */
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { attr, DataType, floatTensor, graph, model, node, serialize, tensorValueInfo } from '../../training/onnx/builder.ts';
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

/** A models directory holding a copy of iris plus a slow classifier named `slow`. */
export function modelsDirWithSlowModel(layers = 40): string {
  const dir = tempDir('predictql-models-');
  cpSync('models/iris', join(dir, 'iris'), { recursive: true });
  mkdirSync(join(dir, 'slow'));
  writeFileSync(join(dir, 'slow', 'model.onnx'), slowClassifierOnnx(layers));
  writeFileSync(
    join(dir, 'slow', 'manifest.json'),
    JSON.stringify({
      name: 'slow',
      task: 'CLASSIFICATION',
      description: 'A deliberately slow test classifier.',
      file: 'model.onnx',
      input: { kind: 'FEATURES', tensor: 'features', features: ['a', 'b', 'c', 'd'] },
      output: { probabilities: 'probabilities' },
      labels: ['x', 'y', 'z'],
      batching: { maxBatchSize: 64, maxDelayMs: 2 },
      sample: [0, 0, 0, 0],
    }),
  );
  return dir;
}
