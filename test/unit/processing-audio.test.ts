/** The audio processing functions alone: the WAV decoder, the resampler, VAD framing and segments. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as wavefileModule from 'wavefile';
import { AudioInputError } from '../../src/processing/errors.ts';
import { resample } from '../../src/processing/resample.ts';
import { runVad, speechSegments, VAD_CONTEXT, VAD_INPUT, VAD_SAMPLE_RATE, VAD_WINDOW, vadFrames } from '../../src/processing/vad.ts';
import { decodeWav } from '../../src/processing/wav.ts';

const wavefile = ('WaveFile' in wavefileModule ? wavefileModule : (wavefileModule as unknown as { default: typeof wavefileModule }).default);

/** A WAV file of `channels` x `frames` samples at `rate`, in `bitDepth` ('16', '8', '32f'...). */
function wav(channels: number[][], rate: number, bitDepth = '16'): Uint8Array {
  const file = new wavefile.WaveFile();
  file.fromScratch(channels.length, rate, bitDepth, channels.length === 1 ? channels[0]! : channels);
  return file.toBuffer();
}

const tone = (hz: number, rate: number, seconds: number, amplitude = 0.5) => Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));

/** Amplitude of `hz` in `samples` (a single-bin DFT, normalised to the sine's amplitude). */
function amplitudeAt(samples: Float32Array, hz: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < samples.length; i++) {
    re += samples[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
    im += samples[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / samples.length;
}

describe('decodeWav', () => {
  it('reads 16-bit PCM as floats in -1..1 at its own rate, averaging channels to mono', () => {
    const mono = decodeWav(wav([[0, 16384, -32768, 32767]], 8000), { maxSeconds: 1 });
    assert.equal(mono.sampleRate, 8000);
    assert.deepEqual(Array.from(mono.samples), [0, 0.5, -1, 32767 / 32768]);
    const stereo = decodeWav(wav([[16384, 0], [0, -16384]], 44100), { maxSeconds: 1 });
    assert.deepEqual(Array.from(stereo.samples), [0.25, -0.25]);
  });

  it('refuses what is not 16-bit PCM WAV, saying what came and what is accepted', () => {
    const refuses = (bytes: Uint8Array, message: RegExp) => assert.throws(() => decodeWav(bytes, { maxSeconds: 1 }), (e: unknown) => e instanceof AudioInputError && message.test(e.message));
    refuses(new Uint8Array(0), /^audio is empty \(0 bytes\); send a 16-bit PCM WAV file$/);
    refuses(new TextEncoder().encode('RIFF....WAVEjunk'), /^audio is not a readable WAV file \(.+\); send a 16-bit PCM WAV file$/);
    refuses(wav([[128, 200]], 8000, '8'), /^audio is 8-bit PCM WAV; only 16-bit PCM WAV is accepted$/);
    refuses(wav([[0.5, -0.5]], 8000, '32f'), /^audio is 32-bit float WAV; only 16-bit PCM WAV is accepted$/);
    refuses(wav([Array.from({ length: 4000 }, () => 0)], 2000), /^audio sample rate is 2000 Hz; 8000 to 192000 Hz are accepted$/);
    refuses(wav([Array.from({ length: 16_001 }, () => 0)], 8000), /^audio is 2\.00 s long; at most 1 s are allowed$/);
    const truncated = wav([Array.from({ length: 100 }, () => 1000)], 8000).subarray(0, 100);
    refuses(truncated, /^audio is truncated: its data chunk declares 200 bytes but only 56 are present$/);
  });
});

describe('resample', () => {
  it('returns audio already at the rate as it is', () => {
    const samples = tone(440, 16000, 0.1);
    assert.equal(resample(samples, 16000, 16000), samples);
  });

  it('keeps the length in time, a constant constant, and a speech-band tone at its amplitude', () => {
    const out = resample(tone(1000, 44100, 1), 44100, 16000);
    assert.equal(out.length, 16000);
    assert.ok(Math.abs(amplitudeAt(out.subarray(1000, 15000), 1000, 16000) - 0.5) < 0.01);
    const flat = resample(new Float32Array(8000).fill(0.25), 8000, 16000);
    assert.equal(flat.length, 16000);
    for (const v of flat.subarray(100, 15900)) assert.ok(Math.abs(v - 0.25) < 1e-4);
  });

  it('removes what lies above the new Nyquist frequency instead of folding it into the band', () => {
    // 11 kHz at 44.1 kHz would fold to 5 kHz at 16 kHz without the filter.
    const out = resample(tone(11_000, 44100, 1), 44100, 16000);
    assert.ok(amplitudeAt(out.subarray(1000, 15000), 5000, 16000) < 0.5 * 10 ** (-60 / 20), 'at least 60 dB down');
  });

  it('refuses rates that are not positive whole numbers', () => {
    assert.throws(() => resample(new Float32Array(4), 44100.5, 16000), /rates must be positive integers/);
  });
});

describe('VAD framing and segments', () => {
  it('counts one frame per 512 samples, the last one padded', () => {
    assert.deepEqual([0, 1, 512, 513].map((n) => vadFrames(new Float32Array(n))), [0, 1, 1, 2]);
  });

  it('steps every clip with its own context, shrinking the batch as short clips end, and keeps callers\' order', async () => {
    const clips = [new Float32Array(VAD_WINDOW).fill(0.1), new Float32Array(10 * VAD_WINDOW).fill(0.2), new Float32Array(0)];
    const calls: Array<{ batch: number; context: number[]; state: number }> = [];
    const results = await runVad(clips, async (input, state, batch) => {
      calls.push({ batch, context: Array.from({ length: batch }, (_, b) => input[b * VAD_INPUT]!), state: state.length });
      // Speech where the new samples are loud: the probability is their level x 4.
      return { output: Float32Array.from({ length: batch }, (_, b) => input[b * VAD_INPUT + VAD_CONTEXT]! * 4), state: new Float32Array(2 * batch * 128) };
    });
    assert.deepEqual(calls.map((c) => c.batch), [2, 1, 1, 1, 1, 1, 1, 1, 1, 1], 'the longest clip first; the one-frame clip leaves after its frame');
    assert.deepEqual(calls[0]!.context.map((v) => Math.fround(v)), [0, 0], 'no context before the first frame');
    assert.equal(Math.fround(calls[1]!.context[0]!), Math.fround(0.2), "then the previous frame's last samples");
    assert.deepEqual(calls.map((c) => c.state), [512, ...Array(9).fill(256)]);
    assert.equal(results.length, 3);
    assert.deepEqual(results[2], { segments: [], speechRatio: 0 }, 'an empty clip is answered without a model call');
    assert.deepEqual(results[1], { segments: [{ start: 0, end: 0.32 }], speechRatio: 1 }, '0.2 x 4 = 0.8 >= 0.5 throughout: speech from start to end');
    assert.deepEqual(results[0]!.segments, [], '0.1 x 4 = 0.4: below the threshold');
  });

  it('turns frame probabilities into padded segments, as Silero does', () => {
    const frame = VAD_WINDOW / VAD_SAMPLE_RATE; // 32 ms
    // 0.5 s silence, 1 s speech, 0.5 s silence.
    const probs = Float32Array.from({ length: Math.round(2 / frame) }, (_, i) => (i * frame >= 0.5 && i * frame < 1.5 ? 0.9 : 0.05));
    const [segment, ...rest] = speechSegments(probs, 2 * VAD_SAMPLE_RATE);
    assert.equal(rest.length, 0);
    assert.ok(Math.abs(segment!.start - (0.512 - 0.03)) < 1e-9, `start ${segment!.start}: the first speech frame, less 30 ms of padding`);
    assert.ok(Math.abs(segment!.end - (1.504 + 0.03)) < 1e-9, `end ${segment!.end}: where the silence began, plus 30 ms`);
    // Speech shorter than 250 ms is dropped.
    const blip = Float32Array.from({ length: 60 }, (_, i) => (i >= 10 && i < 15 ? 0.9 : 0));
    assert.deepEqual(speechSegments(blip, 60 * VAD_WINDOW), []);
  });
});
