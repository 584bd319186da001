/** Reading a session's outputs: the graph output of a role, checked float outputs, classifier answers. */
import type * as ort from 'onnxruntime-node';
import type { ItemResult } from '../domain/types.ts';
import { argmax, rowsOf } from '../processing/probabilities.ts';
import type { ModelHandle } from './handle.ts';

/** The graph output the manifest names for `role` (probabilities, label, logits, ...). */
export function outputName(model: ModelHandle, role: string): string {
  const name = model.outputs[role];
  if (!name) throw new Error(`model ${model.id}: no "${role}" output is configured`);
  return name;
}

/** A float32 output of `length` values; anything else is the model file's fault, not the input's. */
export function floatOutput(outputs: ort.InferenceSession.ReturnType, name: string, model: ModelHandle, length: number): Float32Array {
  const tensor = outputs[name];
  if (!tensor || tensor.type !== 'float32' || tensor.data.length !== length) {
    throw new Error(
      `model ${model.id}: output "${name}" should be float32 with ${length} values, got ${tensor ? `${tensor.type} [${tensor.dims.join(', ')}]` : 'nothing'}`,
    );
  }
  return tensor.data as Float32Array;
}

/** Classifier answers from [rows, classes] probabilities (kept, since they were computed anyway). */
export function classificationsOf(probabilities: Float32Array, rows: number, classes: number): ItemResult[] {
  return rowsOf(probabilities, rows, classes).map((row) => ({ kind: 'classification' as const, labelIndex: argmax(row), probabilities: row }));
}
