/**
 * Speech detection (`vad`, Silero VAD v5): each WAV is decoded, mixed to mono and resampled to
 * 16 kHz here; then all clips of the batch step through the model together, 512 new samples per
 * step with each clip's own recurrent state, and per-frame speech probabilities become segments.
 */
import * as ort from 'onnxruntime-node';
import { decodeWav, resampleTo16k } from '../processing/audio.ts';
import { runVad, VAD_INPUT, VAD_SAMPLE_RATE } from '../processing/vad.ts';
import { bytesOf, mergeResults, prepareEach } from './items.ts';
import { outputName, timed, type Pipeline } from './pipeline.ts';

export const vad: Pipeline = {
  async run(session, model, payloads, context) {
    const { timings } = context;
    context.fetched.add(String(model.outputs.probability)).add(String(model.outputs.nextState));
    const maxSeconds = Number(model.options.maxSeconds);
    const prepared = await timed(timings, 'preprocessMs', () =>
      prepareEach(payloads, (p) => {
        const { samples, sampleRate } = decodeWav(bytesOf(p), { maxSeconds });
        return sampleRate === VAD_SAMPLE_RATE ? samples : resampleTo16k(samples, sampleRate);
      }),
    );
    const clips = prepared.flatMap((p) => (p.ok ? [p.value] : []));
    const inputName = model.inputTensor;
    const stateName = String(model.options.stateTensor);
    const rateName = String(model.options.sampleRateTensor);
    const probabilityName = outputName(model, 'probability');
    const nextStateName = outputName(model, 'nextState');
    const sampleRate = new ort.Tensor('int64', BigInt64Array.from([BigInt(VAD_SAMPLE_RATE)]), []);
    const started = performance.now();
    const results = await runVad(clips, async (input, state, batch) => {
      const outputs = await session.run(
        {
          [inputName]: new ort.Tensor('float32', input, [batch, VAD_INPUT]),
          [stateName]: new ort.Tensor('float32', state, [2, batch, 128]),
          [rateName]: sampleRate,
        },
        [probabilityName, nextStateName],
      );
      return { output: outputs[probabilityName]!.data as Float32Array, state: outputs[nextStateName]!.data as Float32Array };
    });
    // Frame stepping interleaves model runs with a little bookkeeping; all of it counts as inference.
    timings.inferenceMs += performance.now() - started;
    return timed(timings, 'postprocessMs', () =>
      mergeResults(
        prepared,
        results.map((r, i) => ({
          kind: 'speechDetection' as const,
          segments: Float32Array.from(r.segments.flatMap((s) => [s.start, s.end])),
          speechRatio: r.speechRatio,
          durationSeconds: clips[i]!.length / VAD_SAMPLE_RATE,
        })),
      ),
    );
  },
};
