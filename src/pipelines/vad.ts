/**
 * Speech detection (`vad`, Silero VAD v5): each WAV is decoded, mixed to mono and resampled to
 * 16 kHz here; then all clips of the batch step through the model together, 512 new samples per
 * step with each clip's own recurrent state (the run step calls session.run once per frame), and
 * per-frame speech probabilities become segments.
 */
import * as ort from 'onnxruntime-node';
import { resample } from '../processing/resample.ts';
import { runVad, VAD_INPUT, VAD_SAMPLE_RATE, type VadResult } from '../processing/vad.ts';
import { decodeWav } from '../processing/wav.ts';
import { bytesOf } from './bytes.ts';
import { outputName } from './outputs.ts';
import type { Pipeline } from './pipeline.ts';

export const vad: Pipeline<'vad', Float32Array, readonly Float32Array[], VadResult[]> = {
  decode(payload, model) {
    const { samples, sampleRate } = decodeWav(bytesOf(payload), { maxSeconds: model.options.maxSeconds });
    return resample(samples, sampleRate, VAD_SAMPLE_RATE);
  },
  outputs: (model) => [outputName(model, 'probability'), outputName(model, 'nextState')],
  feed: (clips) => clips,
  run(session, clips, { model, outputs }) {
    const [probabilityName, nextStateName] = outputs as [string, string];
    const { stateTensor, sampleRateTensor } = model.options;
    const sampleRate = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);
    // Frame stepping interleaves model runs with a little bookkeeping; all of it counts as inference.
    return runVad(clips, async (input, state, batch) => {
      const result = await session.run(
        {
          [model.inputTensor]: new ort.Tensor('float32', input, [batch, VAD_INPUT]),
          [stateTensor]: new ort.Tensor('float32', state, [2, batch, 128]),
          [sampleRateTensor]: sampleRate,
        },
        outputs,
      );
      return { output: result[probabilityName]!.data as Float32Array, state: result[nextStateName]!.data as Float32Array };
    });
  },
  postprocess: (results, clips) =>
    results.map((r, i) => ({
      kind: 'speechDetection',
      // float32, as the cache stores them: the answer served from the cache is this one, to the last digit.
      segments: Float32Array.from(r.segments.flatMap((s) => [s.start, s.end])),
      speechRatio: Math.fround(r.speechRatio),
      durationSeconds: Math.fround(clips[i]!.length / VAD_SAMPLE_RATE),
    })),
};
