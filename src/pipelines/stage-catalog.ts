/**
 * What the stages of a multi-stage model can be made of, by name: the processing steps (with the
 * kinds of value each takes and passes on, and its options with their ranges and defaults), the
 * answers that assemble a model's result, and what a call to another model passes on. The
 * manifest checker (src/models/manifest.ts) verifies a declared chain against this catalog; the
 * worker runs the steps by the same names (src/pipelines/stage-steps.ts). Plain data, so the
 * main thread can check manifests without loading the steps' code.
 *
 * Kinds of value:
 *   image    a decoded image: the model's input (RGB)
 *   boxes    rectangles found in an image, with a score each
 *   regions  parts of an image cut out for the next model, each with its box, in reading order
 *   texts    one text per region, read by a TEXT_RECOGNITION model
 */
import type { ModelTask } from '../domain/types.ts';

export const VALUE_KINDS = ['image', 'boxes', 'regions', 'texts'] as const;
export type ValueKind = (typeof VALUE_KINDS)[number];

export interface NumberOption {
  min: number;
  max: number;
  integer?: boolean;
  /** The value must be a multiple of this. */
  multipleOf?: number;
  default: number;
}

export interface StepSignature {
  /**
   * `prepare`: turns the value a model stage takes into the model's input tensor; `post`: turns
   * the model's output into the value the stage passes on; `step`: a stage of its own.
   */
  role: 'prepare' | 'post' | 'step';
  /** Kinds of the values taken, in order (a `post` step takes the model's output). */
  takes: readonly ValueKind[];
  /** Kind of the value passed on (a `prepare` step passes the model's input). */
  passes: ValueKind | null;
  options: Readonly<Record<string, NumberOption>>;
  /** A step passing a list: the option that bounds its length (what the work budget counts on). */
  lengthLimit?: string;
}

export const STEPS = {
  /** PP-OCRv4 detector input: the page resized (longer side at most `limitSide`, sides multiples of 32) and normalised. */
  'detection-input': {
    role: 'prepare',
    takes: ['image'],
    passes: null,
    options: { limitSide: { min: 32, max: 4096, integer: true, multipleOf: 32, default: 960 } },
  },
  /** PaddleOCR's DB post-processing of the detector's probability map: boxes of text in the page's pixels. */
  'db-boxes': {
    role: 'post',
    takes: [],
    passes: 'boxes',
    options: {
      threshold: { min: 0, max: 1, default: 0.3 },
      boxThreshold: { min: 0, max: 1, default: 0.6 },
      unclipRatio: { min: 0, max: 10, default: 1.5 },
      minSize: { min: 0, max: 1000, default: 3 },
      maxCandidates: { min: 1, max: 100_000, integer: true, default: 1000 },
    },
  },
  /**
   * The lines of a page in reading order, each cut out for the line recogniser: its own ink plus a
   * margin (`margin` x its height, at least `minMargin` px), neighbours' ink painted out; at most
   * `maxLines`, the rest dropped with a flag.
   */
  'line-crops': {
    role: 'step',
    takes: ['image', 'boxes'],
    passes: 'regions',
    options: {
      margin: { min: 0, max: 5, default: 0.4 },
      minMargin: { min: 0, max: 100, integer: true, default: 8 },
      maxLines: { min: 1, max: 10_000, integer: true, default: 200 },
    },
    lengthLimit: 'maxLines',
  },
} as const satisfies Record<string, StepSignature>;

export type StepName = keyof typeof STEPS;

export interface AnswerSignature {
  takes: readonly ValueKind[];
  /** The task (and so the GraphQL type) of the model's answers. */
  task: ModelTask;
}

export const ANSWERS = {
  /** `DocumentText`: the regions' texts as lines (top to bottom), with their boxes; empty readings dropped. */
  'document-text': { takes: ['regions', 'texts'], task: 'DOCUMENT_TEXT' },
} as const satisfies Record<string, AnswerSignature>;

export type AnswerName = keyof typeof ANSWERS;

/** What a call stage passes on, by the called model's task: one answer per item it takes. */
export const CALL_RESULTS: Partial<Record<ModelTask, ValueKind>> = { TEXT_RECOGNITION: 'texts' };

/** What a call stage takes: a list whose items are inputs of the called model. */
export const CALL_TAKES: ValueKind = 'regions';
