/**
 * The worker's half of a multi-stage model: for each input of a batch, decode the image once, then
 * run the stages before the first call, in order (a model stage: its prepare step, session.run,
 * its post step; a step stage: the step), and hand back the values the main thread takes, with
 * the time each stage took. The decoded page stays in this worker; what leaves it is small (the
 * boxes) or transferred without a copy (the cut-out lines).
 *
 * One input per session run: a page's detector map must not depend on the pages it happens to
 * be batched with (see src/processing/detection-input.ts), and on this CPU a batch of pages costs
 * more per page than runs of one. The inputs of a batch run one after another.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { ItemFailure, Payload, PhaseTimings, StageOutput, StageValue } from '../domain/types.ts';
import { InputError } from '../processing/errors.ts';
import { checkMinSide } from '../processing/headers.ts';
import { decodeImage, type DecodedImage } from '../processing/image.ts';
import { bytesOf } from './bytes.ts';
import type { StagedHandle, WorkerStage } from './handle.ts';
import type { BatchOutcome } from './pipeline.ts';
import { postStep, prepareStep, runStep, type WorkerValue } from './stage-steps.ts';

/** Opens (once per worker) the session of a model stage. */
export type StageSessions = (model: StagedHandle, stage: Extract<WorkerStage, { kind: 'MODEL' }>) => Promise<ort.InferenceSession>;

/** The session cache key of a model stage. */
export function stageSessionKey(model: StagedHandle, stage: WorkerStage): string {
  return `${model.id}/${stage.name}`;
}

async function decodePage(payload: Payload, model: StagedHandle): Promise<DecodedImage> {
  const image = await decodeImage(bytesOf(payload), model.image, 'rgb');
  // Checked on the main thread too, from the header; this is the decoded truth (EXIF orientation applied).
  checkMinSide(image.width, image.height, model.image.minSide);
  return image;
}

export async function runStagedBatch(model: StagedHandle, payloads: readonly Payload[], sessions: StageSessions): Promise<BatchOutcome<StageOutput>> {
  const timings: PhaseTimings = { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 };
  const results = new Array<StageOutput | ItemFailure>(payloads.length);
  const fetched = model.stages.flatMap((stage) => (stage.kind === 'MODEL' ? [stage.output] : []));

  for (let i = 0; i < payloads.length; i++) {
    const stageMs: Record<string, number> = {};
    try {
      let started = performance.now();
      const values = new Map<string, WorkerValue>([[model.input, { kind: 'image', image: await decodePage(payloads[i]!, model) }]]);
      stageMs.decode = performance.now() - started;
      timings.preprocessMs += stageMs.decode;
      for (const stage of model.stages) {
        started = performance.now();
        const taken = stage.takes.map((name) => values.get(name)!);
        let value: StageValue;
        if (stage.kind === 'MODEL') {
          const session = await sessions(model, stage);
          const { input, context } = await prepareStep(stage.prepare.step).prepare(taken[0]!, stage.prepare.options);
          const ranFrom = performance.now();
          timings.preprocessMs += ranFrom - started;
          const outputs = await session.run({ [stage.tensor]: new ort.Tensor('float32', input.data, input.dims) }, [stage.output]);
          const output = outputs[stage.output];
          if (!output || output.type !== 'float32') throw new Error(`model ${model.id}, stage ${stage.name}: output "${stage.output}" should be float32, got ${output?.type ?? 'nothing'}`);
          const postFrom = performance.now();
          timings.inferenceMs += postFrom - ranFrom;
          value = postStep(stage.post.step).post({ data: output.data as Float32Array, dims: output.dims }, context, stage.post.options);
          timings.postprocessMs += performance.now() - postFrom;
        } else {
          value = runStep(stage.step.step).run(taken, stage.step.options);
          timings.postprocessMs += performance.now() - started;
        }
        values.set(stage.passes, value);
        stageMs[stage.name] = performance.now() - started;
      }
      const exported: Record<string, StageValue> = {};
      for (const name of model.exports) {
        const value = values.get(name);
        if (!value || value.kind === 'image') throw new Error(`model ${model.id}: the stages passed on no value "${name}" to hand back`);
        exported[name] = value;
      }
      results[i] = { kind: 'stageOutput', values: exported, stageMs };
    } catch (error) {
      // Errors cross back to the main thread as data: structured clone would drop the class.
      if (!(error instanceof InputError)) throw error;
      results[i] = { kind: 'failure', code: error.code, message: error.message };
    }
  }
  return { results, timings, fetched };
}
