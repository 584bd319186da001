/**
 * Writes the example of README "Add your own model": a tiny ONNX model served through the
 * generic `tensor` input. It converts temperatures: for each row [celsius] it returns
 * `fahrenheit` = celsius x 1.8 + 32 and `kelvin` = celsius + 273.15. Any ONNX file works the
 * same way; this one is written here so the example needs no download.
 *
 *   node --import tsx examples/tensor-model/make-model.ts     # writes examples/tensor-model/temperature/
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DataType, floatTensor, graph, model, node, serialize, tensorValueInfo } from '../../training/onnx/builder.ts';

const dir = fileURLToPath(new URL('./temperature/', import.meta.url));
const onnx = serialize(
  model({
    graph: graph({
      name: 'temperature',
      nodes: [
        node('Mul', ['celsius', 'nine_fifths'], ['scaled']),
        node('Add', ['scaled', 'thirty_two'], ['fahrenheit']),
        node('Add', ['celsius', 'zero_celsius'], ['kelvin']),
      ],
      inputs: [tensorValueInfo('celsius', DataType.FLOAT, ['N', 1])],
      outputs: [tensorValueInfo('fahrenheit', DataType.FLOAT, ['N', 1]), tensorValueInfo('kelvin', DataType.FLOAT, ['N', 1])],
      initializers: [floatTensor('nine_fifths', [1], [1.8]), floatTensor('thirty_two', [1], [32]), floatTensor('zero_celsius', [1], [273.15])],
    }),
    opsets: { '': 15 },
  }),
);
const manifest = {
  name: 'temperature',
  versionName: '1.0.0',
  task: 'TENSOR',
  description: 'Converts temperatures: celsius [N, 1] in, fahrenheit and kelvin [N, 1] out.',
  file: 'model.onnx',
  input: { kind: 'TENSOR', tensors: [{ name: 'celsius', shape: ['N', 1] }], maxElements: 10000 },
  output: { names: ['fahrenheit', 'kelvin'] },
  batching: { maxBatchSize: 256, maxDelayMs: 1 },
  sample: [{ name: 'celsius', dims: [1, 1], data: [20] }],
};
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}model.onnx`, onnx);
writeFileSync(`${dir}manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
console.log(`wrote ${dir}model.onnx and manifest.json`);
