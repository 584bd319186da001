/**
 * What a resolved prediction holds before GraphQL picks fields from it: the model's answer as
 * the worker (or the cache) gave it. Fields such as `label` or `classes` are derived on demand,
 * so a query pays only for the fields it selects.
 */
import type { ItemResult } from '../engine/tasks.ts';
import type { ServedModel } from '../models/served-model.ts';

export interface PredictionResult {
  model: ServedModel;
  cached: boolean;
  /** Where the answer came from: the in-memory cache, the cache store, or the model (NONE). */
  cacheSource: 'L1' | 'STORE' | 'NONE';
  item: ItemResult;
}

type ResultOf<K extends ItemResult['kind']> = PredictionResult & { item: Extract<ItemResult, { kind: K }> };
export type ClassificationResult = ResultOf<'classification'>;
export type TextRecognitionResult = ResultOf<'textRecognition'>;
export type SpeechDetectionResult = ResultOf<'speechDetection'>;
export type TensorPredictionResult = ResultOf<'tensor'>;

/** The GraphQL type of a prediction, from the kind of its answer. */
export const TYPE_OF_KIND = {
  classification: 'Classification',
  textRecognition: 'TextRecognition',
  speechDetection: 'SpeechDetection',
  tensor: 'TensorPrediction',
} as const satisfies Record<ItemResult['kind'], string>;

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
export function rankClasses(labels: readonly string[], probabilities: Float32Array, top?: number): ClassScoreResult[] {
  const ranked = Array.from(probabilities, (score, i) => ({ label: labels[i]!, score }));
  ranked.sort((a, b) => b.score - a.score);
  return top === undefined ? ranked : ranked.slice(0, top);
}
