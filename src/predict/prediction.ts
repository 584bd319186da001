/**
 * What a resolved prediction holds before GraphQL picks fields from it: the model's raw outputs.
 * Fields such as `label` or `classes` are derived on demand, so a query pays only for the
 * fields it selects, whether the outputs came from a worker or from the cache.
 */
import type { ServedModel } from '../models/served-model.ts';

export interface ClassificationResult {
  kind: 'classification';
  model: ServedModel;
  cached: boolean;
  /** One probability per label, in the order of the model's labels. */
  probabilities: Float32Array;
}

export type PredictionResult = ClassificationResult;

export interface ClassScoreResult {
  label: string;
  score: number;
}

/** Index of the largest probability; the first one wins a tie, as ONNX-ML classifiers do. */
export function topIndex(probabilities: Float32Array): number {
  let best = 0;
  for (let i = 1; i < probabilities.length; i++) if (probabilities[i]! > probabilities[best]!) best = i;
  return best;
}

/** The `top` most probable labels (all when top is undefined), most probable first. */
export function rankClasses(result: ClassificationResult, top?: number): ClassScoreResult[] {
  const labels = result.model.manifest.labels;
  const ranked = Array.from(result.probabilities, (score, i) => ({ label: labels[i]!, score }));
  ranked.sort((a, b) => b.score - a.score);
  return top === undefined ? ranked : ranked.slice(0, top);
}
