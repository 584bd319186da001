/**
 * Any ONNX model fed raw tensors (`tensor` input): the named tensors go to the graph as they
 * are and every output (or the manifest's `output.names`) comes back as it is. Inputs whose
 * tensors all start with the same free dimension (a batch axis in the manifest's shape) are
 * stacked along it into one run and the outputs split back by each input's rows; other models
 * run input by input.
 */
import * as ort from 'onnxruntime-node';
import type { ItemResult, NamedTensor } from '../domain/types.ts';
import type { HandleOf } from './handle.ts';
import { runFeeds, type Pipeline } from './pipeline.ts';

/** Stackable when every tensor's first dimension is free and named the same, e.g. "N". */
function stacks(model: HandleOf<'tensor'>): boolean {
  const specs = model.options.tensors;
  const batchAxis = typeof specs[0]?.shape[0] === 'string' ? specs[0].shape[0] : null;
  return batchAxis !== null && specs.every((s) => s.shape[0] === batchAxis);
}

function toResult(outputs: ort.InferenceSession.ReturnType, names: readonly string[], rowRange?: { start: number; rows: number }): ItemResult {
  return {
    kind: 'tensor',
    outputs: names.map((name) => {
      const tensor = outputs[name]!;
      const data = tensor.type === 'float32' ? (tensor.data as Float32Array) : Float32Array.from(tensor.data as ArrayLike<number>, Number);
      const dims = tensor.dims.map(Number);
      if (!rowRange) return { name, dims, data };
      const per = dims.slice(1).reduce((a, b) => a * b, 1);
      return { name, dims: [rowRange.rows, ...dims.slice(1)], data: data.slice(rowRange.start * per, (rowRange.start + rowRange.rows) * per) };
    }),
  };
}

export const tensor: Pipeline<'tensor', NamedTensor[], ort.InferenceSession.FeedsType, ort.InferenceSession.ReturnType> = {
  decode(payload) {
    if (payload.kind !== 'tensors') throw new Error(`expected tensors, got ${payload.kind}`);
    return payload.tensors;
  },
  outputs: (model, _needs, session) => model.options.outputNames ?? [...session.outputNames],
  runs: (inputs, model) => (inputs.length > 1 && stacks(model) ? undefined : inputs.map((_, i) => [i])),
  feed(inputs, { model }) {
    if (inputs.length === 1) return Object.fromEntries(inputs[0]!.map((t) => [t.name, new ort.Tensor('float32', t.data, t.dims)]));
    const total = inputs.reduce((n, tensors) => n + tensors[0]!.dims[0]!, 0);
    return Object.fromEntries(
      model.options.tensors.map((spec) => {
        const parts = inputs.map((tensors) => tensors.find((t) => t.name === spec.name)!);
        const data = new Float32Array(parts.reduce((n, t) => n + t.data.length, 0));
        let offset = 0;
        for (const part of parts) {
          data.set(part.data, offset);
          offset += part.data.length;
        }
        return [spec.name, new ort.Tensor('float32', data, [total, ...parts[0]!.dims.slice(1)])];
      }),
    );
  },
  run: runFeeds,
  postprocess(outputs, inputs, _fed, { model, outputs: names }) {
    if (inputs.length === 1) return [toResult(outputs, names)];
    const rows = inputs.map((tensors) => tensors[0]!.dims[0]!);
    const total = rows.reduce((a, b) => a + b, 0);
    for (const name of names) {
      if (Number(outputs[name]!.dims[0]) !== total) throw new Error(`model ${model.id}: output "${name}" does not keep the batch axis (${outputs[name]!.dims.join('x')} for ${total} rows); declare a fixed first dimension to run inputs one by one`);
    }
    let start = 0;
    return rows.map((n) => {
      const result = toResult(outputs, names, { start, rows: n });
      start += n;
      return result;
    });
  },
};
