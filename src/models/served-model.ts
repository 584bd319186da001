/**
 * A model version as the server holds it: its manifest with every file reference resolved, the
 * version derived from the ONNX file's bytes, its effective settings, and its load state.
 */
import type { ModelState, Payload } from '../domain/types.ts';
import type { Manifest, StagesSpec } from './manifest.ts';
import type { ModelSettings } from './settings.ts';

export interface ModelStatus {
  state: ModelState;
  loadTimeMs: number | null;
  memoryBytes: number | null;
  /** Why the last load failed. */
  error: string | null;
}

/** A multi-stage model's chain, resolved and checked (src/models/stages.ts). */
export interface ServedStages {
  readonly spec: StagesSpec;
  /** The name the stages give the input. */
  readonly input: string;
  /** Absolute path of each model stage's ONNX file, by stage name. */
  readonly files: Readonly<Record<string, string>>;
  /** Values the worker stages pass on that the main thread takes (the calls, the answer). */
  readonly exports: readonly string[];
  /** The most items of a list the answer takes (a page's lines): what a cached answer can hold. */
  readonly maxAnswerItems: number;
}

export interface ServedModel {
  /** `name@version`: identifies one set of weights in the workers, the batcher and the cache. */
  readonly id: string;
  readonly name: string;
  /**
   * First 12 hex digits of the SHA-256 of the ONNX file; of a multi-stage model, of its model
   * stages' files and its chain as declared (a changed option is a new version too).
   */
  readonly version: string;
  /** Sorts the versions of one name; the highest is the default. */
  readonly versionOrder: number;
  /** The folder holding the manifest. */
  readonly folder: string;
  readonly manifest: Manifest;
  /** Absolute path of the ONNX file; null for a multi-stage model (see `stages`). */
  readonly filePath: string | null;
  /** A multi-stage model's chain; null for a single model. */
  readonly stages: ServedStages | null;
  /** Class labels in output order; empty for models that are not classifiers. */
  readonly labels: readonly string[];
  /** Absolute path of the OCR alphabet file, for text-line models. */
  readonly vocabularyPath: string | null;
  /** The warm-up input. */
  readonly sample: Payload;
  /** Manifest values, else the server's defaults (src/models/settings.ts). */
  readonly settings: ModelSettings;
  status: ModelStatus;
}
