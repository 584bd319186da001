/**
 * What a resolved prediction holds before GraphQL picks fields from it: the model's answer as
 * the worker (or the cache) gave it. Fields such as `label` or `classes` are derived on demand,
 * so a query pays only for the fields it selects.
 */
import type { CacheSource, ItemResult } from '../domain/types.ts';
import type { ServedModel } from '../models/served-model.ts';

export interface PredictionResult {
  model: ServedModel;
  cached: boolean;
  /** Where the answer came from: the in-memory cache, the cache store, or the model (NONE). */
  cacheSource: CacheSource;
  item: ItemResult;
}

type ResultOf<K extends ItemResult['kind']> = PredictionResult & { item: Extract<ItemResult, { kind: K }> };
export type ClassificationResult = ResultOf<'classification'>;
export type TextRecognitionResult = ResultOf<'textRecognition'>;
export type SpeechDetectionResult = ResultOf<'speechDetection'>;
export type TensorPredictionResult = ResultOf<'tensor'>;
export type DocumentTextResult = ResultOf<'documentText'>;

/** The GraphQL type of a prediction, from the kind of its answer. */
export const TYPE_OF_KIND = {
  classification: 'Classification',
  textRecognition: 'TextRecognition',
  speechDetection: 'SpeechDetection',
  tensor: 'TensorPrediction',
  documentText: 'DocumentText',
} as const satisfies Record<ItemResult['kind'], string>;

export interface ClassScoreResult {
  label: string;
  score: number;
}

/**
 * The probabilities of a classification. The request that selected a score or the classes asked
 * the worker for them; an answer without them here is a bug, not a user error.
 */
export function probabilitiesOf(item: ClassificationResult['item']): Float32Array {
  if (!item.probabilities) throw new Error('a classification was computed without the probabilities its query selects');
  return item.probabilities;
}

/**
 * The `top` most probable labels (all when top is undefined), most probable first. A small `top`
 * picks the best few in one pass each instead of sorting every label (411 for symbols).
 */
export function rankClasses(labels: readonly string[], probabilities: Float32Array, top?: number): ClassScoreResult[] {
  const k = Math.min(top ?? probabilities.length, probabilities.length);
  if (k * 8 >= probabilities.length) {
    const ranked = Array.from(probabilities, (score, i) => ({ label: labels[i]!, score }));
    ranked.sort((a, b) => b.score - a.score);
    return ranked.slice(0, k);
  }
  const taken = new Set<number>();
  const result: ClassScoreResult[] = [];
  for (let n = 0; n < k; n++) {
    let best = -1;
    for (let i = 0; i < probabilities.length; i++) if (!taken.has(i) && (best === -1 || probabilities[i]! > probabilities[best]!)) best = i;
    taken.add(best);
    result.push({ label: labels[best]!, score: probabilities[best]! });
  }
  return result;
}
