/**
 * Whether a decoded cache entry is an answer this model could have given. A store is shared
 * and outlives processes (Redis, the LMDB file): a bad write, another program, a bit flip or an
 * attacker with access to Redis can leave bytes that decode but do not make sense, and serving
 * them would give a wrong answer (a label index past the labels) or a 500 (a short probability
 * array) every time that input is asked. Such an entry is treated as a miss and overwritten.
 */
import type { ItemResult } from '../domain/types.ts';
import type { ServedModel } from '../models/served-model.ts';

/** What the model's answers look like, as far as a stored entry can be checked against it. */
export type ExpectedResult =
  | { kind: 'classification'; labels: number }
  | { kind: 'textRecognition' }
  | { kind: 'speechDetection'; maxSeconds: number }
  /** outputs: the output names in order, when the manifest lists them. */
  | { kind: 'tensor'; outputs: readonly string[] | null }
  /** A page's lines: at most `maxLines`, boxes inside a page of at most `maxPixels`. */
  | { kind: 'documentText'; maxLines: number; maxPixels: number };

export function expectedResultOf(model: ServedModel): ExpectedResult {
  const { manifest } = model;
  switch (manifest.task) {
    case 'CLASSIFICATION':
      return { kind: 'classification', labels: model.labels.length };
    case 'TEXT_RECOGNITION':
      return { kind: 'textRecognition' };
    case 'SPEECH_DETECTION':
      return { kind: 'speechDetection', maxSeconds: manifest.input.kind === 'AUDIO' ? manifest.input.maxSeconds : Number.POSITIVE_INFINITY };
    case 'TENSOR': {
      const names = manifest.output.names;
      return { kind: 'tensor', outputs: Array.isArray(names) ? names : null };
    }
    case 'DOCUMENT_TEXT':
      return { kind: 'documentText', maxLines: model.stages?.maxAnswerItems ?? 0, maxPixels: manifest.input.kind === 'IMAGE' ? manifest.input.maxPixels : 0 };
  }
}

const isProbability = (v: number) => Number.isFinite(v) && v >= 0 && v <= 1;
/** Segment ends are rounded to the millisecond, and stored as float32. */
const SECONDS_TOLERANCE = 0.001;

/** Why `result` cannot be this model's answer, or undefined when it can. */
export function problemWith(result: ItemResult, expected: ExpectedResult): string | undefined {
  if (result.kind !== expected.kind) return `a ${result.kind} answer for a model that gives ${expected.kind} answers`;
  switch (result.kind) {
    case 'classification': {
      const { labels } = expected as Extract<ExpectedResult, { kind: 'classification' }>;
      if (!(result.labelIndex < labels)) return `label index ${result.labelIndex} for ${labels} labels`;
      const p = result.probabilities;
      if (p === undefined) return undefined;
      if (p.length !== labels) return `${p.length} probabilities for ${labels} labels`;
      const bad = p.findIndex((v) => !isProbability(v));
      return bad === -1 ? undefined : `probability ${p[bad]} at ${bad}, outside 0..1`;
    }
    case 'textRecognition':
      return isProbability(result.confidence) ? undefined : `confidence ${result.confidence}, outside 0..1`;
    case 'speechDetection': {
      const { maxSeconds } = expected as Extract<ExpectedResult, { kind: 'speechDetection' }>;
      const { durationSeconds: duration, speechRatio, segments } = result;
      if (!isProbability(speechRatio)) return `speech ratio ${speechRatio}, outside 0..1`;
      if (!(Number.isFinite(duration) && duration >= 0 && duration <= maxSeconds + SECONDS_TOLERANCE)) return `duration ${duration} s, outside 0..${maxSeconds}`;
      if (segments.length % 2 !== 0) return `${segments.length} segment bounds, not start/end pairs`;
      let previousEnd = 0;
      for (let i = 0; i < segments.length; i += 2) {
        const start = segments[i]!;
        const end = segments[i + 1]!;
        if (!(Number.isFinite(start) && Number.isFinite(end) && start >= previousEnd && start <= end && end <= duration + SECONDS_TOLERANCE)) {
          return `segment ${i / 2} (${start} s to ${end} s) is not within the clip (${duration} s) after the previous one`;
        }
        previousEnd = end;
      }
      return undefined;
    }
    case 'tensor': {
      const { outputs: names } = expected as Extract<ExpectedResult, { kind: 'tensor' }>;
      if (result.outputs.length === 0) return 'a tensor answer without outputs';
      if (names && (names.length !== result.outputs.length || names.some((n, i) => result.outputs[i]!.name !== n))) {
        return `outputs ${result.outputs.map((t) => t.name).join(', ')}; the model's are ${names.join(', ')}`;
      }
      for (const t of result.outputs) {
        // Values themselves are not checked: a raw tensor model may answer NaN or Infinity,
        // and the computed answer serves them the same way (as null in JSON).
        const elements = t.dims.reduce((n, d) => n * d, 1);
        if (elements !== t.data.length) return `output ${t.name} has dims [${t.dims.join(', ')}] (${elements} values) but ${t.data.length} values`;
      }
      if (new Set(result.outputs.map((t) => t.name)).size !== result.outputs.length) return 'the same output name twice';
      return undefined;
    }
    case 'documentText': {
      const { maxLines, maxPixels } = expected as Extract<ExpectedResult, { kind: 'documentText' }>;
      if (result.lines.length > maxLines) return `${result.lines.length} lines, more than the model reads per page (${maxLines})`;
      if (result.detectedLines < result.lines.length) return `${result.lines.length} lines read of ${result.detectedLines} detected`;
      if (!result.truncated && result.detectedLines > maxLines) return `${result.detectedLines} lines detected, over the limit of ${maxLines}, without the truncated flag`;
      for (const [i, { text, confidence, box }] of result.lines.entries()) {
        if (text === '') return `line ${i} is empty (empty readings are left out)`;
        if (!isProbability(confidence)) return `line ${i}: confidence ${confidence}, outside 0..1`;
        // A box on a page of at most maxPixels: no side of such a page is longer than that.
        if (!(box.width >= 1 && box.height >= 1 && box.x + box.width <= maxPixels && box.y + box.height <= maxPixels && box.width * box.height <= maxPixels)) {
          return `line ${i}: box ${box.x},${box.y} ${box.width}x${box.height} cannot be on a page of at most ${maxPixels} pixels`;
        }
      }
      return undefined;
    }
  }
}
