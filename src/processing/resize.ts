/**
 * The image resampler: a separable resize in plain TypeScript for pixels already decoded (OCR
 * line crops, symbol drawings, MNIST digits), where a round trip through sharp would cost an
 * encode and an async hop per image. Weights are computed once per axis; the two passes are tight
 * loops over typed arrays.
 *
 * Two filters, one machinery:
 * - 'triangle' (OCR, symbols): a triangle (bilinear) filter whose support widens with the
 *   reduction factor, the way Pillow's BILINEAR resize does. Enlarging it is plain bilinear
 *   interpolation with half-pixel centres (OpenCV's INTER_LINEAR); reducing it averages every
 *   source pixel under the output pixel, so a 200-px-tall text line shrunk to 48 px does not
 *   alias (cv2.resize's INTER_LINEAR would skip rows).
 * - 'area' (MNIST): reducing averages each output pixel's exact footprint (area sampling, as
 *   MNIST's anti-aliased digits were made); enlarging interpolates linearly between pixel centres.
 */

export type ResizeFilter = 'triangle' | 'area';

interface AxisWeights {
  /** First source index used by each output index. */
  start: Int32Array;
  /** Number of source indices used by each output index. */
  count: Int32Array;
  /** `taps` weights per output index (unused tail zero). */
  weight: Float64Array;
  taps: number;
}

/** Triangle weights, normalised to sum 1 and rounded to float32 as they always were. */
function triangleWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weight = new Float64Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    let sum = 0;
    let n = 0;
    for (let j = lo; j < hi && n < taps; j++, n++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      weight[i * taps + n] = Math.fround(w);
      sum += w;
    }
    if (sum === 0) {
      // Can only happen at an edge with a degenerate size: take the nearest pixel.
      weight[i * taps] = 1;
      sum = 1;
      n = Math.max(n, 1);
    }
    for (let k = 0; k < n; k++) weight[i * taps + k] = Math.fround(weight[i * taps + k]! / sum);
    start[i] = Math.min(lo, inSize - 1);
    count[i] = n;
  }
  return { start, count, weight, taps };
}

/** Area weights when shrinking (each source pixel's overlap with the output pixel), linear when enlarging. */
function areaWeights(inSize: number, outSize: number): AxisWeights {
  const ratio = inSize / outSize;
  const taps = ratio >= 1 ? Math.ceil(ratio) + 1 : 2;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weight = new Float64Array(outSize * taps);
  for (let o = 0; o < outSize; o++) {
    if (ratio >= 1) {
      const a = o * ratio;
      const b = (o + 1) * ratio;
      const first = Math.floor(a);
      const last = Math.min(inSize - 1, Math.ceil(b) - 1);
      for (let i = first; i <= last; i++) weight[o * taps + i - first] = (Math.min(b, i + 1) - Math.max(a, i)) / ratio;
      start[o] = first;
      count[o] = last - first + 1;
    } else if (inSize === 1) {
      start[o] = 0;
      count[o] = 1;
      weight[o * taps] = 1;
    } else {
      const c = Math.min(inSize - 1, Math.max(0, (o + 0.5) * ratio - 0.5));
      const i = Math.min(inSize - 2, Math.floor(c));
      start[o] = i;
      count[o] = 2;
      weight[o * taps] = 1 - (c - i);
      weight[o * taps + 1] = c - i;
    }
  }
  return { start, count, weight, taps };
}

/**
 * Resizes interleaved pixels (`channels` per pixel: 8-bit values, or floats) to `outWidth` x
 * `outHeight`, returning interleaved float32 values on the input's scale (not rounded: callers
 * normalise them anyway, and rounding would only add error).
 */
export function resizePixels(
  src: Uint8Array | Float32Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
  filter: ResizeFilter = 'triangle',
): Float32Array {
  if (src.length < width * height * channels) {
    throw new Error(`resizePixels: ${src.length} values is less than ${width}x${height}x${channels}`);
  }
  if (!(outWidth >= 1 && outHeight >= 1)) throw new Error(`resizePixels: bad output size ${outWidth}x${outHeight}`);
  const axis = filter === 'area' ? areaWeights : triangleWeights;
  const xw = axis(width, outWidth);
  const yw = axis(height, outHeight);

  // Horizontal pass: height x outWidth x channels.
  const mid = new Float32Array(height * outWidth * channels);
  for (let y = 0; y < height; y++) {
    const rowIn = y * width * channels;
    const rowOut = y * outWidth * channels;
    for (let x = 0; x < outWidth; x++) {
      const s = xw.start[x]!;
      const n = xw.count[x]!;
      const wBase = x * xw.taps;
      for (let c = 0; c < channels; c++) {
        let acc = 0;
        for (let k = 0; k < n; k++) acc += xw.weight[wBase + k]! * src[rowIn + (s + k) * channels + c]!;
        mid[rowOut + x * channels + c] = acc;
      }
    }
  }

  // Vertical pass: outHeight x outWidth x channels, a whole row per tap.
  const rowLen = outWidth * channels;
  const out = new Float32Array(outHeight * rowLen);
  for (let y = 0; y < outHeight; y++) {
    const s = yw.start[y]!;
    const n = yw.count[y]!;
    const wBase = y * yw.taps;
    const o = y * rowLen;
    for (let k = 0; k < n; k++) {
      const w = yw.weight[wBase + k]!;
      const m = (s + k) * rowLen;
      for (let i = 0; i < rowLen; i++) out[o + i]! += w * mid[m + i]!;
    }
  }
  return out;
}
