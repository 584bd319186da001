/**
 * The processing steps of src/pipelines/stage-catalog.ts, as a worker runs them: each names the
 * processing functions it joins (src/processing/) and turns its options into their arguments.
 * The catalog says what each takes and passes on; these implement exactly that.
 */
import { createHash } from 'node:crypto';
import type { ImageRegion, RawImage, StageValue } from '../domain/types.ts';
import { dbPostprocess, pageProbabilityMap } from '../processing/db-postprocess.ts';
import { detectionInputSize, detectionTensor, resizeForDetection, type DetectionPage } from '../processing/detection-input.ts';
import { lineCrop } from '../processing/line-crop.ts';
import { readingOrder } from '../processing/reading-order.ts';
import type { STEPS, StepName } from './stage-catalog.ts';

/** A value inside a worker: a stage value, or the decoded input image. */
export type WorkerValue = StageValue | { kind: 'image'; image: RawImage };

export interface FloatTensor {
  data: Float32Array;
  dims: readonly number[];
}

export interface PrepareStep<Context> {
  /** The model stage's input tensor from the value it takes, and what `post` needs to read the output. */
  prepare(value: WorkerValue, options: Record<string, number>): Promise<{ input: FloatTensor; context: Context }>;
}

export interface PostStep<Context> {
  post(output: FloatTensor, context: Context, options: Record<string, number>): StageValue;
}

export interface RunStep {
  run(values: readonly WorkerValue[], options: Record<string, number>): StageValue;
}

function expect<K extends WorkerValue['kind']>(value: WorkerValue | undefined, kind: K, step: string): Extract<WorkerValue, { kind: K }> {
  if (value?.kind !== kind) throw new Error(`step ${step}: expected a value of kind ${kind}, got ${value?.kind ?? 'nothing'}`);
  return value as Extract<WorkerValue, { kind: K }>;
}

/** An option the manifest checker filled in (every option of the catalog has a default). */
function option(options: Record<string, number>, name: string): number {
  const value = options[name];
  if (value === undefined) throw new Error(`step option "${name}" is not set`);
  return value;
}

/** SHA-256 of a cut-out image (its size, channels and pixels), base64url: the next model's cache key. */
export function pixelsDigest(image: RawImage): string {
  const header = new Uint8Array(Uint32Array.from([image.width, image.height, image.channels]).buffer);
  return createHash('sha256').update('pixels').update(header).update(image.pixels).digest('base64url');
}

const detectionInput: PrepareStep<DetectionPage> = {
  async prepare(value, options) {
    const { image } = expect(value, 'image', 'detection-input');
    const page = detectionInputSize(image.width, image.height, option(options, 'limitSide'));
    return { input: detectionTensor(await resizeForDetection(image, page)), context: page };
  },
};

const dbBoxes: PostStep<DetectionPage> = {
  post(output, page, options) {
    const map = pageProbabilityMap(output.data, output.dims, 0, page);
    const { boxes, truncated } = dbPostprocess(map, page, {
      threshold: option(options, 'threshold'),
      boxThreshold: option(options, 'boxThreshold'),
      unclipRatio: option(options, 'unclipRatio'),
      minSize: option(options, 'minSize'),
      maxCandidates: option(options, 'maxCandidates'),
    });
    return { kind: 'boxes', boxes, truncated };
  },
};

const lineCrops: RunStep = {
  run([pageValue, boxesValue], options) {
    const { image } = expect(pageValue, 'image', 'line-crops');
    const { boxes, truncated } = expect(boxesValue, 'boxes', 'line-crops');
    // Every line paints its neighbours out of its crop, those past maxLines included.
    const lines = readingOrder(boxes);
    const maxLines = option(options, 'maxLines');
    const cropOptions = { margin: option(options, 'margin'), minMargin: option(options, 'minMargin') };
    const regions: ImageRegion[] = lines.slice(0, maxLines).map((box) => {
      const crop = lineCrop(image, box, lines, cropOptions);
      return { box: crop.ink, image: crop.image, digest: pixelsDigest(crop.image) };
    });
    return { kind: 'regions', regions, found: lines.length, truncated: truncated || lines.length > maxLines };
  },
};

type ImplementationOf<Role> = Role extends 'prepare' ? PrepareStep<unknown> : Role extends 'post' ? PostStep<unknown> : RunStep;

/** Every step of the catalog, implemented in the role the catalog gives it (the compiler checks both). */
export const STEP_IMPLEMENTATIONS: { [K in StepName]: ImplementationOf<(typeof STEPS)[K]['role']> } = {
  'detection-input': detectionInput,
  'db-boxes': dbBoxes,
  'line-crops': lineCrops,
};

/** A step in a role; the manifest checker gave each step of a stage the role it is used in. */
function inRole(name: StepName, role: 'prepare' | 'post' | 'run'): object {
  const implementation = STEP_IMPLEMENTATIONS[name];
  if (!(role in implementation)) throw new Error(`step "${name}" cannot be used to ${role}`);
  return implementation;
}

export const prepareStep = (name: StepName) => inRole(name, 'prepare') as PrepareStep<unknown>;
export const postStep = (name: StepName) => inRole(name, 'post') as PostStep<unknown>;
export const runStep = (name: StepName) => inRole(name, 'run') as RunStep;
