/**
 * What a worker is told about the model a batch is for: the ModelHandle sent with every batch
 * (src/models/handle.ts builds it from the manifest), naming the pipeline and carrying that
 * pipeline's own options, typed.
 */
import type { TensorSpec } from '../domain/types.ts';
import type { ImageLimits } from '../processing/image.ts';
import type { StepName } from './stage-catalog.ts';

/** Each pipeline's settings from the manifest. */
export interface PipelineOptions {
  tabular: { featureCount: number; labelCount: number };
  text: { labelCount: number };
  mnist: { labelCount: number; image: ImageLimits };
  symbols: { labelCount: number; image: ImageLimits };
  /** `vocabularyPath`: the manifest's `vocabulary` file (the class table); null when it names none. */
  ocr: { image: ImageLimits; vocabularyPath: string | null };
  /** The names of Silero's recurrent-state and sample-rate inputs in this export of the model. */
  vad: { maxSeconds: number; stateTensor: string; sampleRateTensor: string };
  /** `outputNames`: the manifest's `output.names`, or null for every output of the graph. */
  tensor: { tensors: TensorSpec[]; outputNames: string[] | null };
}

/** Which worker-side pipeline (decode, feed, session.run, post-process) serves a model. */
export type PipelineName = keyof PipelineOptions;

export interface HandleOf<P extends PipelineName> {
  /** `name@version`: the key of the worker's session cache. */
  id: string;
  filePath: string;
  pipeline: P;
  /** ONNX graph input that receives the pre-processed batch. */
  inputTensor: string;
  /** ONNX graph outputs by role (the manifest's `output`: probabilities, label, logits, ...). */
  outputs: Record<string, string>;
  options: PipelineOptions[P];
}

/** Everything a worker needs to open and run one model version; plain data, cloned per task. */
export type ModelHandle = { [P in PipelineName]: HandleOf<P> }[PipelineName];

/** A step of the catalog (src/pipelines/stage-catalog.ts) with every option set. */
export interface WorkerStep {
  step: StepName;
  options: Record<string, number>;
}

/** A stage a worker runs for a multi-stage model: a model with its steps, or a step alone. */
export type WorkerStage =
  | { kind: 'MODEL'; name: string; takes: string[]; passes: string; filePath: string; tensor: string; output: string; prepare: WorkerStep; post: WorkerStep }
  | { kind: 'STEP'; name: string; takes: string[]; passes: string; step: WorkerStep };

/**
 * What a worker is told about a multi-stage model: the stages it runs for each input (those
 * before the calls to other models), and the values it hands back to the main thread.
 */
export interface StagedHandle {
  /** `name@version`; each model stage's session is cached under `<id>/<stage>`. */
  id: string;
  pipeline: 'stages';
  /** Decoding limits of the input image, and its smallest side. */
  image: ImageLimits & { minSide: number };
  /** The input's name in the chain. */
  input: string;
  stages: WorkerStage[];
  exports: string[];
}

/** Any model a worker runs a batch of. */
export type WorkerModel = ModelHandle | StagedHandle;
