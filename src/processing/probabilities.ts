/**
 * Array math on model outputs: the best class, probabilities from logits, probabilities kept in
 * 0..1, and one row of a [rows, width] output per input.
 */

/** Index of the largest value; the first one wins a tie, as ONNX-ML classifiers do. */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

/** Softmax of one row of logits, in a new array (max subtracted first, so exp cannot overflow). */
export function softmax(logits: Float32Array): Float32Array {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < logits.length; i++) sum += out[i] = Math.exp(logits[i]! - max);
  for (let i = 0; i < out.length; i++) out[i]! /= sum;
  return out;
}

/**
 * Classifier outputs can land a hair outside [0, 1] (float32 sums of tree leaves give 1.0000001);
 * the API promises probabilities in 0..1, so the last bit of rounding is clamped away, in place.
 */
export function clampProbabilities(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) values[i] = Math.min(1, Math.max(0, values[i]!));
  return values;
}

/** Splits a [rows, width] row-major output into one view per row, sharing its buffer. */
export function rowsOf(data: Float32Array, rows: number, width: number): Float32Array[] {
  return Array.from({ length: rows }, (_, i) => data.subarray(i * width, (i + 1) * width));
}
