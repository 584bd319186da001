/**
 * A model as the server holds it: its manifest, resolved against the repository folder, plus the
 * version derived from the ONNX file's bytes and its load state.
 */
import type { Manifest } from './manifest.ts';

export interface ServedModel {
  /** `name@version`: identifies one set of weights in the workers and in the cache. */
  readonly id: string;
  readonly name: string;
  /** First 12 hex digits of the SHA-256 of the ONNX file. */
  readonly version: string;
  readonly manifest: Manifest;
  /** Absolute path of the ONNX file. */
  readonly filePath: string;
  readonly maxBatchSize: number;
  readonly maxDelayMs: number;
  /** From the manifest; the server-wide MAX_QUEUE applies when undefined. */
  readonly maxQueue: number | undefined;
  status: ModelStatus;
}

export interface ModelStatus {
  loaded: boolean;
  loadTimeMs: number | null;
  memoryBytes: number | null;
}
