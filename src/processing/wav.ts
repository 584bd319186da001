/**
 * The WAV decoder for the audio models: bytes -> mono float32 samples at the file's own rate
 * (src/processing/resample.ts brings them to the model's rate).
 *
 * The RIFF/WAVE header is parsed by `wavefile`; the samples are converted here with a DataView
 * loop (wavefile's getSamples() goes through a generic per-sample unpacker into a Float64Array
 * per channel, several times slower and twice the memory).
 *
 * The one accepted sample format is 16-bit PCM: the API documents "16-bit PCM WAV", and that is
 * what every recorder and `sox`/`ffmpeg` writes by default. Anything else (8/24/32-bit PCM, float,
 * A-law, mu-law, ADPCM, ...) is refused with a message naming the format found.
 */
import * as wavefileModule from 'wavefile';

// wavefile is CommonJS: under plain Node its classes sit on the default export, under tsx (and
// in worker threads) on the namespace; take them from wherever they are.
const wavefile = ('WaveFile' in wavefileModule ? wavefileModule : (wavefileModule as unknown as { default: typeof wavefileModule }).default);
import { AudioInputError } from './errors.ts';

/** The accepted sample format, in the words of the error messages. */
const ACCEPTED = '16-bit PCM';

/** Sample rates accepted: telephone (8 kHz) to high-resolution studio (192 kHz). */
const MIN_SAMPLE_RATE = 8000;
const MAX_SAMPLE_RATE = 192000;
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
 * empty, a RIFF/RIFX/RF64 WAVE file with `fmt ` and `data` chunks, 16-bit PCM samples, 1-32 channels, a sample rate of 8-192 kHz, at least one
 * sample, and a duration of at most `limits.maxSeconds`, all before any sample is converted.
 * Multi-channel audio is averaged to mono. A data chunk that claims more bytes than the file
 * holds is refused as truncated, unless its size is the 0xFFFFFFFF placeholder of a streaming
 * writer, which is read as far as the file goes.
 */
export function decodeWav(bytes: Uint8Array, limits: WavLimits): DecodedAudio {
  const allowed = ACCEPTED;
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

  const found = sampleFormatName(fmt);
  if (found !== ACCEPTED) {
    throw new AudioInputError(`audio is ${found} WAV; only ${allowed} WAV is accepted`);
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
  const samples = toMono(data.samples, frames, channels, !bigEndian);
  return { sampleRate: rate, samples };
}

/** Names the sample format from the fmt chunk (resolving WAVE_FORMAT_EXTENSIBLE's sub-format), for the checks and their messages. */
function sampleFormatName(fmt: WavFmt): string {
  const code = fmt.audioFormat === 0xfffe ? (fmt.subformat[0] ?? 0) : fmt.audioFormat;
  const bits = fmt.bitsPerSample;
  if (code === 1) return `${bits}-bit PCM`;
  if (code === 3) return bits === 32 ? '32-bit float' : `${bits}-bit float`;
  const named: Record<number, string> = { 2: 'MS ADPCM', 6: 'A-law', 7: 'mu-law', 0x11: 'IMA ADPCM', 0x55: 'MP3' };
  return named[code] ?? `format code 0x${code.toString(16).padStart(4, '0')}`;
}

/** Converts interleaved 16-bit frames to mono float32, averaging channels. */
function toMono(raw: Uint8Array, frames: number, channels: number, little: boolean): Float32Array {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const out = new Float32Array(frames);
  const k = 1 / channels / 32768;
  for (let f = 0, o = 0; f < frames; f++) {
    let acc = 0;
    for (let c = 0; c < channels; c++, o += 2) acc += view.getInt16(o, little);
    out[f] = acc * k;
  }
  return out;
}
