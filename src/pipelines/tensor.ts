/**
 * Any ONNX model fed raw tensors (`tensor` input): the named tensors go to the graph as they
 * are and every output (or the manifest's `output.names`) comes back as it is. Inputs whose
 * tensors all start with the same free dimension (a batch axis in the manifest's shape) are
 * stacked along it into one run and the outputs split back by each input's rows; other models
 * run input by input.
 */
import * as ort from 'onnxruntime-node';
import type { ItemResult, NamedTensor, Payload, TensorSpec } from '../domain/types.ts';
import { timed, type Pipeline } from './pipeline.ts';

function tensorsOf(payload: Payload): NamedTensor[] {
  if (payload.kind !== 'tensors') throw new Error(`expected tensors, got ${payload.kind}`);
  return payload.tensors;
}

function toResult(outputs: ort.InferenceSession.ReturnType, names: readonly string[], rowRange?: { start: number; rows: number; total: number }): ItemResult {
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

export const tensor: Pipeline = {
  async run(session, model, payloads, context) {
    const { timings } = context;
    for (const name of (model.options.outputNames as string[] | null) ?? session.outputNames) context.fetched.add(name);
    const specs = model.options.tensors as TensorSpec[];
    const names = (model.options.outputNames as string[] | null) ?? [...session.outputNames];
    // Stackable when every tensor's first dimension is free and named the same, e.g. "N".
    const batchAxis = typeof specs[0]?.shape[0] === 'string' ? specs[0].shape[0] : null;
    const stackable = batchAxis !== null && payloads.length > 1 && specs.every((s) => s.shape[0] === batchAxis);
    if (!stackable) {
      const results: ItemResult[] = [];
      for (const payload of payloads) {
        const feeds = Object.fromEntries(tensorsOf(payload).map((t) => [t.name, new ort.Tensor('float32', t.data, t.dims)]));
        const outputs = await timed(timings, 'inferenceMs', () => session.run(feeds, names));
        results.push(await timed(timings, 'postprocessMs', () => toResult(outputs, names)));
      }
      return results;
    }
    const rows = payloads.map((p) => tensorsOf(p)[0]!.dims[0]!);
    const total = rows.reduce((a, b) => a + b, 0);
    const feeds = await timed(timings, 'preprocessMs', () =>
      Object.fromEntries(
        specs.map((spec) => {
          const parts = payloads.map((p) => tensorsOf(p).find((t) => t.name === spec.name)!);
          const data = new Float32Array(parts.reduce((n, t) => n + t.data.length, 0));
          let offset = 0;
          for (const part of parts) {
            data.set(part.data, offset);
            offset += part.data.length;
          }
          return [spec.name, new ort.Tensor('float32', data, [total, ...parts[0]!.dims.slice(1)])];
        }),
      ),
    );
    const outputs = await timed(timings, 'inferenceMs', () => session.run(feeds, names));
    return timed(timings, 'postprocessMs', () => {
      for (const name of names) {
        if (Number(outputs[name]!.dims[0]) !== total) throw new Error(`model ${model.id}: output "${name}" does not keep the batch axis (${outputs[name]!.dims.join('x')} for ${total} rows); declare a fixed first dimension to run inputs one by one`);
      }
      let start = 0;
      return rows.map((n) => {
        const result = toResult(outputs, names, { start, rows: n, total });
        start += n;
        return result;
      });
    });
  },
};
