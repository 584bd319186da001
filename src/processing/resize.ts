/**
 * A small separable image resampler in plain TypeScript, for preprocessing that runs on pixels
 * already decoded (OCR line crops, symbol drawings), where a round trip through sharp would cost
 * an encode and an async hop per image.
 *
 * Filter: triangle (bilinear) whose support widens with the reduction factor, the way Pillow's
 * BILINEAR resize does. Enlarging it is plain bilinear interpolation with half-pixel centres
 * (OpenCV's INTER_LINEAR); reducing it averages every source pixel under the output pixel, so a
 * 200-px-tall text line shrunk to 48 px does not alias (cv2.resize's INTER_LINEAR would skip
 * rows). Weights are computed once per axis; the two passes are tight loops over typed arrays.
 */

interface AxisWeights {
  /** First source index used by each output index. */
  start: Int32Array;
  /** Number of source indices used by each output index. */
  count: Int32Array;
  /** `taps` weights per output index (unused tail zero), normalised to sum 1. */
  weight: Float32Array;
  taps: number;
}

function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const support = Math.max(1, scale);
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weight = new Float32Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const centre = (i + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - support));
    const hi = Math.min(inSize, Math.ceil(centre + support));
    let sum = 0;
    let n = 0;
    for (let j = lo; j < hi && n < taps; j++, n++) {
      const w = Math.max(0, 1 - Math.abs((j + 0.5 - centre) / support));
      weight[i * taps + n] = w;
      sum += w;
    }
    if (sum === 0) {
      // Can only happen at an edge with a degenerate size: take the nearest pixel.
      weight[i * taps] = 1;
      sum = 1;
      n = Math.max(n, 1);
    }
    for (let k = 0; k < n; k++) weight[i * taps + k]! /= sum;
    start[i] = Math.min(lo, inSize - 1);
    count[i] = n;
  }
  return { start, count, weight, taps };
}

/**
 * Resizes interleaved 8-bit pixels (`channels` per pixel) to `outWidth` x `outHeight`, returning
 * interleaved float32 values in 0..255 (not rounded: the caller normalises them anyway, and
 * rounding would only add error).
 */
export function resizePixels(
  src: Uint8Array,
  width: number,
  height: number,
  channels: number,
  outWidth: number,
  outHeight: number,
): Float32Array {
  if (src.length < width * height * channels) {
    throw new Error(`resizePixels: ${src.length} bytes is less than ${width}x${height}x${channels}`);
  }
  if (!(outWidth >= 1 && outHeight >= 1)) throw new Error(`resizePixels: bad output size ${outWidth}x${outHeight}`);
  const xw = axisWeights(width, outWidth);
  const yw = axisWeights(height, outHeight);

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

  // Vertical pass: outHeight x outWidth x channels.
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
