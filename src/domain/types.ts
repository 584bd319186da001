/**
 * The data every layer shares, from the main thread's input checks to the worker pipelines, the
 * cache and the GraphQL resolvers: defined here once. This module imports nothing
 * (scripts/check-layers.ts keeps it so), so any layer can use it without depending on another.
 *
 * The string unions that are also GraphQL enums are the enums' TypeScript types: codegen.yml maps
 * the generated resolver types onto them, and test/unit/schema-enums.test.ts checks that each
 * list of values here is the schema's.
 */

/** What a model answers (GraphQL `ModelTask`). */
export const MODEL_TASKS = ['CLASSIFICATION', 'TEXT_RECOGNITION', 'SPEECH_DETECTION', 'TENSOR', 'DOCUMENT_TEXT'] as const;
export type ModelTask = (typeof MODEL_TASKS)[number];

/** Which field of a prediction input a model reads (GraphQL `InputKind`). */
export const INPUT_KINDS = ['FEATURES', 'TEXT', 'IMAGE', 'AUDIO', 'TENSOR'] as const;
export type InputKind = (typeof INPUT_KINDS)[number];

/** Where a model version is in its life (GraphQL `ModelState`). */
export const MODEL_STATES = ['NOT_LOADED', 'LOADING', 'READY', 'FAILED'] as const;
export type ModelState = (typeof MODEL_STATES)[number];

/** When a model version is loaded into the workers (GraphQL `LoadingPolicy`). */
export const LOADING_POLICIES = ['STARTUP', 'FIRST_USE'] as const;
export type LoadingPolicy = (typeof LOADING_POLICIES)[number];

/** How a request uses the result cache (GraphQL `CachePolicy`). */
export const CACHE_POLICIES = ['USE', 'BYPASS', 'REFRESH'] as const;
export type CachePolicy = (typeof CACHE_POLICIES)[number];

/** Where an answer came from: the in-memory cache, the cache store, or the model (GraphQL `CacheSource`). */
export const CACHE_SOURCES = ['L1', 'STORE', 'NONE'] as const;
export type CacheSource = (typeof CACHE_SOURCES)[number];

/** Where a prediction job is in its life (GraphQL `JobState`); SUCCEEDED, FAILED and CANCELLED are final. */
export const JOB_STATES = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED'] as const;
export type JobState = (typeof JOB_STATES)[number];

export function isFinalJobState(state: JobState): boolean {
  return state === 'SUCCEEDED' || state === 'FAILED' || state === 'CANCELLED';
}

/** What a stage of a multi-stage model is (GraphQL `StageKind`). */
export const STAGE_KINDS = ['MODEL', 'STEP', 'CALL'] as const;
export type StageKind = (typeof STAGE_KINDS)[number];

/** A tensor of float32 values, row-major. */
export interface NamedTensor {
  name: string;
  dims: number[];
  data: Float32Array;
}

/** A model input or output the manifest declares: a string in `shape` names a free dimension (the batch, usually). */
export interface TensorSpec {
  name: string;
  shape: Array<number | string>;
}

/** A rectangle in an image's pixels, origin top left, half-open: [x, x + width) x [y, y + height). */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Decoded 8-bit pixels, row-major, channels interleaved (RGBRGB... or one grey byte per pixel). */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 3;
  pixels: Uint8Array;
}

/**
 * One input of a batch, as checked by the main thread and sent to a worker. `pixels` is an image
 * already decoded: what a multi-stage model passes from one stage to the next model (a line
 * cropped from a page), so that model decodes nothing.
 */
export type Payload =
  | { kind: 'features'; values: Float32Array }
  | { kind: 'text'; text: string }
  | { kind: 'bytes'; bytes: Uint8Array }
  | { kind: 'tensors'; tensors: NamedTensor[] }
  | { kind: 'pixels'; image: RawImage };

/**
 * What a classifier's answer must hold: only the winning label (a query selecting `label`
 * alone), or every class's probability (`score`, `classes`, `probabilities`).
 */
export type ClassificationNeeds = 'label' | 'probabilities';

/** One line of a page read by a multi-stage model: its text and where its ink is on the page. */
export interface TextLineResult {
  text: string;
  confidence: number;
  box: Box;
}

/** One input's answer, in the form the cache stores and every GraphQL field is derived from. */
export type ItemResult =
  | { kind: 'classification'; labelIndex: number; probabilities?: Float32Array }
  | { kind: 'textRecognition'; text: string; confidence: number }
  | { kind: 'speechDetection'; segments: Float32Array; speechRatio: number; durationSeconds: number }
  | { kind: 'tensor'; outputs: NamedTensor[] }
  /**
   * A page's lines in reading order. `detectedLines`: lines the detector found; `truncated`: more
   * were found than the model reads per page (or than post-processing looks at), and only the
   * first in reading order were read.
   */
  | { kind: 'documentText'; lines: TextLineResult[]; detectedLines: number; truncated: boolean };

/** A part of an image a stage found (a line of text on a page), cut out for the next stage. */
export interface ImageRegion {
  /** Where it is in the input image. */
  box: Box;
  /** What the next stage reads. */
  image: RawImage;
  /** SHA-256 of the cut-out pixels and their size, base64url: the next model's cache key. */
  digest: string;
}

/** A value one stage of a multi-stage model passes on, by kind (see src/pipelines/stage-catalog.ts). */
export type StageValue =
  | { kind: 'boxes'; boxes: Array<Box & { score: number }>; truncated: boolean }
  | {
      kind: 'regions';
      regions: ImageRegion[];
      /** Regions found before the step's limit dropped the rest. */
      found: number;
      truncated: boolean;
    }
  | { kind: 'texts'; texts: Array<{ text: string; confidence: number }> };

/**
 * What a worker returns for one input of a multi-stage model: the values of its worker stages
 * that the stages on the main thread take (calls to other models, the answer), and the
 * milliseconds each of its stages took (`decode` for the input itself). Never cached: the
 * model's answer is.
 */
export interface StageOutput {
  kind: 'stageOutput';
  values: Record<string, StageValue>;
  stageMs: Record<string, number>;
}

/** What a worker answers for one input: a model's answer, or a multi-stage model's intermediate values. */
export type WorkerAnswer = ItemResult | StageOutput;

/**
 * A failure of one input only (its image does not decode, say); the rest of the batch is fine.
 * Plain data, because it crosses from a worker thread (structured clone drops error classes).
 */
export interface ItemFailure {
  kind: 'failure';
  code: string;
  message: string;
}

/** Milliseconds a batch spent in each phase inside the worker. */
export interface PhaseTimings {
  preprocessMs: number;
  inferenceMs: number;
  postprocessMs: number;
}

/** How one model version's inputs are batched and queued (GraphQL `BatchingPolicy`). */
export interface BatchPolicy {
  /** Largest batch; lowered to the graph's own batch size when the ONNX file fixes one. */
  maxBatchSize: number;
  /** Longest a batch waits to fill while another batch of the model runs. */
  maxDelayMs: number;
  /** Inputs that may wait for a batch; more are refused with OVERLOADED. */
  maxQueue: number;
  /** Batches of this model that may run at once, i.e. workers it may occupy. */
  maxWorkers: number;
}

/** A raw tensor of a prediction input, as the client sent it (before any check). */
export interface ClientTensor {
  name: string;
  dims: readonly number[];
  data?: readonly number[] | null;
  dataBase64?: string | null;
}

/** One prediction input as the client sent it: exactly one field should be set, the one the model reads. */
export interface ClientInput {
  features?: readonly number[] | null;
  text?: string | null;
  image?: string | null;
  audio?: string | null;
  tensor?: readonly ClientTensor[] | null;
}

/** Per-request options of a prediction. */
export interface PredictionOptions {
  deadlineMs?: number | null;
  cache?: CachePolicy | null;
}
