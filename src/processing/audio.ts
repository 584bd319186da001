/**
 * WAV decoding and resampling for the audio models (Silero VAD wants 16 kHz mono float32).
 *
 * The RIFF/WAVE header is parsed by `wavefile`; the samples are converted here with a DataView
 * loop (wavefile's getSamples() goes through a generic per-sample unpacker into a Float64Array
 * per channel, several times slower and twice the memory).
 *
 * Accepted sample formats are an explicit list, by default 16-bit PCM only: the API documents
 * "16-bit PCM WAV", and that is what every recorder and `sox`/`ffmpeg` writes by default. A
 * caller may widen the list (8/24/32-bit integer PCM and 32-bit float are implemented); anything
 * else (A-law, mu-law, ADPCM, 64-bit float, ...) is refused with a message naming the format
 * found and the formats allowed.
 */
import * as wavefileModule from 'wavefile';

// wavefile is CommonJS: under plain Node its classes sit on the default export, under tsx (and
// in worker threads) on the namespace; take them from wherever they are.
const wavefile = ('WaveFile' in wavefileModule ? wavefileModule : (wavefileModule as unknown as { default: typeof wavefileModule }).default);
import { AudioInputError } from './errors.ts';

export { AudioInputError } from './errors.ts';

/** The sample formats decodeWav can convert. */
export type WavSampleFormat = 'pcm8' | 'pcm16' | 'pcm24' | 'pcm32' | 'float32';

const FORMAT_NAMES: Record<WavSampleFormat, string> = {
  pcm8: '8-bit PCM',
  pcm16: '16-bit PCM',
  pcm24: '24-bit PCM',
  pcm32: '32-bit PCM',
  float32: '32-bit float',
};

/** The default accepted set: 16-bit PCM only. */
export const DEFAULT_WAV_FORMATS: readonly WavSampleFormat[] = ['pcm16'];

/** Sample rates accepted: telephone (8 kHz) to high-resolution studio (192 kHz). */
export const MIN_SAMPLE_RATE = 8000;
export const MAX_SAMPLE_RATE = 192000;
const MAX_CHANNELS = 32;

export interface WavLimits {
  /** Longest accepted clip, in seconds. */
  maxSeconds: number;
}

export interface DecodedAudio {
  sampleRate: number;
  /** Mono (channels averaged), -1..1. */
  samples: Float32Array;
}

/** The parts of wavefile's untyped `fmt` and `data` objects that are read here. */
interface WavFmt {
  audioFormat: number;
  numChannels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
  subformat: number[];
}
interface WavData {
  chunkSize: number;
  samples: Uint8Array;
}

/**
 * Decodes a WAV file into mono float32 samples in -1..1 at the file's own sample rate.
 *
 * Checks, in order, each with an AudioInputError saying what came and what is allowed: not
 * empty, a RIFF/RIFX/RF64 WAVE file with `fmt ` and `data` chunks, an accepted sample format
 * (`formats`, default 16-bit PCM), 1-32 channels, a sample rate of 8-192 kHz, at least one
 * sample, and a duration of at most `limits.maxSeconds`, all before any sample is converted.
 * Multi-channel audio is averaged to mono. A data chunk that claims more bytes than the file
 * holds is refused as truncated, unless its size is the 0xFFFFFFFF placeholder of a streaming
 * writer, which is read as far as the file goes.
 */
export function decodeWav(
  bytes: Uint8Array,
  limits: WavLimits,
  formats: readonly WavSampleFormat[] = DEFAULT_WAV_FORMATS,
): DecodedAudio {
  const allowed = describeFormats(formats);
  if (bytes.length === 0) throw new AudioInputError(`audio is empty (0 bytes); send a ${allowed} WAV file`);

  const wav = new wavefile.WaveFile();
  try {
    wav.fromBuffer(bytes, true);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new AudioInputError(`audio is not a readable WAV file (${reason}); send a ${allowed} WAV file`);
  }
  const fmt = wav.fmt as WavFmt;
  const data = wav.data as WavData;

  const found = sampleFormat(fmt);
  if (!found.format || !formats.includes(found.format)) {
    throw new AudioInputError(`audio is ${found.name} WAV; only ${allowed} WAV is accepted`);
  }
  const channels = fmt.numChannels;
  if (!(channels >= 1 && channels <= MAX_CHANNELS)) {
    throw new AudioInputError(`audio has ${channels} channels; 1 to ${MAX_CHANNELS} are accepted`);
  }
  const bytesPerSample = fmt.bitsPerSample / 8;
  if (fmt.blockAlign !== channels * bytesPerSample) {
    throw new AudioInputError(
      `audio header is inconsistent: ${channels} channels of ${fmt.bitsPerSample} bits need ${channels * bytesPerSample} bytes per frame, the header says ${fmt.blockAlign}`,
    );
  }
  const rate = fmt.sampleRate;
  if (!(Number.isInteger(rate) && rate >= MIN_SAMPLE_RATE && rate <= MAX_SAMPLE_RATE)) {
    throw new AudioInputError(`audio sample rate is ${rate} Hz; ${MIN_SAMPLE_RATE} to ${MAX_SAMPLE_RATE} Hz are accepted`);
  }
  // A data chunk larger than the file is a truncated upload, except for the 0xFFFFFFFF that
  // streaming writers leave when they cannot seek back (and RF64, whose size lives in ds64).
  const available = data.samples.length;
  if (data.chunkSize > available && data.chunkSize !== 0xffffffff && wav.container !== 'RF64') {
    throw new AudioInputError(
      `audio is truncated: its data chunk declares ${data.chunkSize} bytes but only ${available} are present`,
    );
  }
  const frames = Math.floor(available / fmt.blockAlign);
  if (frames === 0) throw new AudioInputError('audio has no samples (its data chunk is empty)');
  const seconds = frames / rate;
  if (seconds > limits.maxSeconds) {
    throw new AudioInputError(
      `audio is ${seconds.toFixed(2)} s long; at most ${limits.maxSeconds} s are allowed`,
    );
  }

  const bigEndian = wav.container === 'RIFX';
  const samples = toMono(data.samples, frames, channels, found.format, !bigEndian);
  return { sampleRate: rate, samples };
}

function describeFormats(formats: readonly WavSampleFormat[]): string {
  const names = formats.map((f) => FORMAT_NAMES[f]);
  return names.length <= 1 ? (names[0] ?? 'no') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)}`;
}

/** Names the sample format from the fmt chunk, resolving WAVE_FORMAT_EXTENSIBLE's sub-format. */
function sampleFormat(fmt: WavFmt): { format?: WavSampleFormat; name: string } {
  const code = fmt.audioFormat === 0xfffe ? (fmt.subformat[0] ?? 0) : fmt.audioFormat;
  const bits = fmt.bitsPerSample;
  if (code === 1) {
    const format = ({ 8: 'pcm8', 16: 'pcm16', 24: 'pcm24', 32: 'pcm32' } as const)[bits as 8 | 16 | 24 | 32];
    return format ? { format, name: FORMAT_NAMES[format] } : { name: `${bits}-bit PCM` };
  }
  if (code === 3) return bits === 32 ? { format: 'float32', name: FORMAT_NAMES.float32 } : { name: `${bits}-bit float` };
  const named: Record<number, string> = { 2: 'MS ADPCM', 6: 'A-law', 7: 'mu-law', 0x11: 'IMA ADPCM', 0x55: 'MP3' };
  return { name: named[code] ?? `format code 0x${code.toString(16).padStart(4, '0')}` };
}

/** Converts interleaved frames to mono float32, averaging channels. */
function toMono(
  raw: Uint8Array,
  frames: number,
  channels: number,
  format: WavSampleFormat,
  little: boolean,
): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(frames);
  const gain = 1 / channels;
  switch (format) {
    case 'pcm16': {
      const k = gain / 32768;
      for (let f = 0, o = 0; f < frames; f++) {
        let acc = 0;
        for (let c = 0; c < channels; c++, o += 2) acc += view.getInt16(o, little);
        out[f] = acc * k;
      }
      break;
    }
    case 'pcm8': {
      // 8-bit WAV is unsigned, 128 = silence.
      const k = gain / 128;
      for (let f = 0, o = 0; f < frames; f++) {
        let acc = 0;
        for (let c = 0; c < channels; c++, o++) acc += raw[o]! - 128;
        out[f] = acc * k;
      }
      break;
    }
    case 'pcm24': {
      const k = gain / 8388608;
      for (let f = 0, o = 0; f < frames; f++) {
        let acc = 0;
        for (let c = 0; c < channels; c++, o += 3) {
          const v = little
            ? raw[o]! | (raw[o + 1]! << 8) | (raw[o + 2]! << 16)
            : raw[o + 2]! | (raw[o + 1]! << 8) | (raw[o]! << 16);
          acc += (v << 8) >> 8; // sign-extend 24 -> 32 bits
        }
        out[f] = acc * k;
      }
      break;
    }
    case 'pcm32': {
      const k = gain / 2147483648;
      for (let f = 0, o = 0; f < frames; f++) {
        let acc = 0;
        for (let c = 0; c < channels; c++, o += 4) acc += view.getInt32(o, little);
        out[f] = acc * k;
      }
      break;
    }
    case 'float32': {
      for (let f = 0, o = 0; f < frames; f++) {
        let acc = 0;
        for (let c = 0; c < channels; c++, o += 4) acc += view.getFloat32(o, little);
        // NaN/Infinity would poison a recurrent model's state for the rest of the clip.
        if (!Number.isFinite(acc)) throw new AudioInputError(`audio sample ${f} is not a finite number; float samples must be finite`);
        out[f] = Math.max(-1, Math.min(1, acc * gain));
      }
      break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Resampling

/** Zero crossings of the sinc kernel on each side of the centre. */
const ZERO_CROSSINGS = 12;
/** Pass band edge as a fraction of the output Nyquist frequency (7.6 kHz of 8 kHz at 16 kHz). */
const ROLLOFF = 0.95;
/** Kaiser window beta: about 80 dB of stop-band attenuation. */
const KAISER_BETA = 8;
/** Most filter phases kept; a ratio needing more uses the nearest of 4096 phases. */
const MAX_PHASES = 4096;

interface Resampler {
  /** Output samples per input sample = up / down. */
  up: number;
  down: number;
  phases: number;
  /** Taps per phase; tap k of a phase multiplies input[floor(pos) - half + 1 + k]. */
  taps: number;
  half: number;
  bank: Float32Array;
}

const resamplers = new Map<number, Resampler>();

/**
 * Resamples mono audio to 16 kHz with a windowed-sinc (Kaiser, beta 8) polyphase filter.
 *
 * Quality (measured, 44.1 kHz in): flat to 4 kHz, -1.4 dB at 7 kHz, -6 dB at 7.6 kHz (the
 * cut-off, 0.95 x the 8 kHz Nyquist), -51 dB at 9 kHz and more than 90 dB down from 11 kHz, so
 * nothing above 8 kHz folds back into the speech band. Plain linear interpolation would fold a
 * 44.1/48 kHz recording's 8-22 kHz content straight into it, which a VAD hears as noise.
 *
 * Speed: the kernel spans 12 zero crossings each side: 24-26 taps per output sample when
 * upsampling, about 70 from 44.1 kHz. Measured ~19 ms for 10 s of 44.1 kHz input and ~11 ms for
 * 10 s of 8 kHz on this machine (2-3 ms per second of input); 16 zero crossings would cost 30%
 * more for stop-band attenuation a VAD does not need. The filter bank for each rate pair is
 * computed once (1-10 ms) and cached, at most 4096 phases (rates whose ratio needs more use the
 * nearest phase, an error under 1/8192 of a sample). 16 kHz input is returned as is, not copied.
 */
export function resampleTo16k(samples: Float32Array, fromRate: number): Float32Array {
  return resample(samples, fromRate, 16000);
}

/** Windowed-sinc resampling between any two integer rates; see resampleTo16k. */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!(Number.isInteger(fromRate) && fromRate > 0 && Number.isInteger(toRate) && toRate > 0)) {
    throw new Error(`resample: rates must be positive integers, got ${fromRate} -> ${toRate}`);
  }
  if (fromRate === toRate) return samples;
  const r = resamplerFor(fromRate, toRate);
  const n = samples.length;
  const outLength = Math.ceil((n * r.up) / r.down);
  const out = new Float32Array(outLength);
  const { taps, half, bank, phases, up, down } = r;
  const exact = phases === up;
  for (let i = 0; i < outLength; i++) {
    // Input position of output i is i * down / up = base + frac.
    const num = i * down;
    let base = Math.floor(num / up);
    let phase = num - base * up;
    if (!exact) {
      phase = Math.round((phase / up) * phases);
      if (phase === phases) {
        phase = 0;
        base++;
      }
    }
    const start = base - half + 1;
    const coef = phase * taps;
    let acc = 0;
    if (start >= 0 && start + taps <= n) {
      for (let k = 0; k < taps; k++) acc += bank[coef + k]! * samples[start + k]!;
    } else {
      for (let k = 0; k < taps; k++) {
        const j = start + k;
        if (j >= 0 && j < n) acc += bank[coef + k]! * samples[j]!;
      }
    }
    out[i] = acc;
  }
  return out;
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (for the Kaiser window). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-12) break;
  }
  return sum;
}

function resamplerFor(fromRate: number, toRate: number): Resampler {
  const key = fromRate * 1_000_003 + toRate;
  const cached = resamplers.get(key);
  if (cached) return cached;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  const phases = Math.min(up, MAX_PHASES);
  // Cut-off in cycles per input sample: the lower Nyquist of the two rates, times the roll-off.
  const cutoff = 0.5 * Math.min(1, toRate / fromRate) * ROLLOFF;
  const halfWidth = ZERO_CROSSINGS / (2 * cutoff); // in input samples
  const half = Math.ceil(halfWidth);
  const taps = 2 * half;
  const bank = new Float32Array(phases * taps);
  const i0Beta = besselI0(KAISER_BETA);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases; // output position minus floor, in input samples
    let sum = 0;
    for (let k = 0; k < taps; k++) {
      const x = frac - (k - half + 1); // distance from the input sample to the output position
      let h = 0;
      if (Math.abs(x) < halfWidth) {
        const t = 2 * cutoff * x;
        const sinc = t === 0 ? 1 : Math.sin(Math.PI * t) / (Math.PI * t);
        const w = x / halfWidth;
        h = 2 * cutoff * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - w * w)) / i0Beta);
      }
      bank[p * taps + k] = h;
      sum += h;
    }
    // Unity gain at DC for every phase, so a constant signal stays constant.
    for (let k = 0; k < taps; k++) bank[p * taps + k]! /= sum;
  }
  const r: Resampler = { up, down, phases, taps, half, bank };
  resamplers.set(key, r);
  return r;
}
