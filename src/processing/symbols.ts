/**
 * Pre-processing for detypify's handwritten symbol classifier
 * (detypify-service 0.3.0: `train/model.onnx`, labels `train/infer.json`).
 *
 * Model contract, as checked on the file: input `x` float32 [1, 1, 224, 224], output `linear`
 * float32 [1, 411]: raw logits (not softmax) over the 411 symbols of infer.json, in its order.
 * The batch dimension is fixed at 1: one session.run per drawing.
 *
 * What the model was trained on (detypify-service's `drawStrokes`, mirrored here): the user's
 * pen strokes, scaled so the larger side of their points' bounding box is 204 px (224 - 20) and
 * centred at (112, 112), drawn as white 8-px lines (round-ish, antialiased canvas strokes) on
 * black; the red channel / 255 is the input. Whatever the size of the drawing, the strokes are
 * always 8 px wide in the model's input.
 */
import type { DecodedImage } from './image.ts';
import { resizePixels } from './resize.ts';

export const SYMBOL_SIZE = 224;
/** Larger side of the strokes' bounding box in the model input (detypify: canvas - 20). */
const TARGET = SYMBOL_SIZE - 20;
/** detypify's ctx.lineWidth. */
const STROKE = 8;
/** Grey level (0-255) below which a pixel of the black-on-white image is ink. */
const INK_THRESHOLD = 160;

/**
 * Turns a user's drawing (grey, dark ink on a light background, any size) into the model's
 * input [1, 1, 224, 224]: white strokes on black, 0..1.
 *
 * Steps, mirroring detypify's drawStrokes on a raster: find the ink's bounding box; scale it
 * so its larger side is 204 px, centred at (112, 112); reduce the ink to its centre lines and
 * draw those with an 8-px antialiased brush, as detypify draws strokes, so a thick marker, a thin
 * pen and a font glyph all reach the model with its training stroke width. A drawing with no ink
 * gives an all-black input (the model then answers with low confidence).
 */
export function toSymbolTensor(image: DecodedImage): Float32Array {
  if (image.channels !== 1) throw new Error(`toSymbolTensor: image has ${image.channels} channels; decode it as 'grey'`);
  const { width, height, pixels } = image;
  const threshold = INK_THRESHOLD;
  const out = new Float32Array(SYMBOL_SIZE * SYMBOL_SIZE);

  // Ink bounding box.
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      if (pixels[row + x]! < threshold) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) return out;
  const bw = x1 - x0 + 1;
  const bh = y1 - y0 + 1;

  // Crop to the ink and invert to "ink = 255".
  const crop = new Uint8Array(bw * bh);
  for (let y = 0; y < bh; y++) {
    const src = (y0 + y) * width + x0;
    for (let x = 0; x < bw; x++) crop[y * bw + x] = 255 - pixels[src + x]!;
  }

  // Skeleton: work at about the model's scale, so thinning costs the same for any input size
  // and the skeleton is as smooth as the model's strokes. The box keeps a 2-px border so
  // thinning never touches the edge.
  const scale = Math.min(TARGET / Math.max(bw, bh), 4);
  const w = Math.max(1, Math.round(bw * scale));
  const h = Math.max(1, Math.round(bh * scale));
  const resized = resizePixels(crop, bw, bh, 1, w, h);
  const W = w + 4;
  const H = h + 4;
  const bin = new Uint8Array(W * H);
  const cut = 255 - threshold;
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) bin[(y + 2) * W + x + 2] = resized[y * w + x]! > cut ? 1 : 0;
  thin(bin, W, H);

  // Skeleton bounding box -> detypify's placement: larger side 204, centred at 112.
  let sx0 = W, sy0 = H, sx1 = -1, sy1 = -1;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      if (bin[y * W + x]) {
        if (x < sx0) sx0 = x;
        if (x > sx1) sx1 = x;
        if (y < sy0) sy0 = y;
        if (y > sy1) sy1 = y;
      }
    }
  }
  const extent = Math.max(sx1 - sx0, sy1 - sy0);
  const k = extent > 0 ? TARGET / extent : 1;
  const cx = (sx0 + sx1) / 2;
  const cy = (sy0 + sy1) / 2;
  const mapX = (x: number) => (x - cx) * k + SYMBOL_SIZE / 2;
  const mapY = (y: number) => (y - cy) * k + SYMBOL_SIZE / 2;

  // Draw every skeleton edge (8-connected neighbours) as an 8-px line with antialiased edges.
  const radius = STROKE / 2;
  for (let y = sy0; y <= sy1; y++) {
    for (let x = sx0; x <= sx1; x++) {
      if (!bin[y * W + x]) continue;
      const px = mapX(x);
      const py = mapY(y);
      stampSegment(out, px, py, px, py, radius);
      // Forward neighbours only, so each edge is drawn once.
      if (bin[y * W + x + 1]) stampSegment(out, px, py, mapX(x + 1), py, radius);
      if (bin[(y + 1) * W + x]) stampSegment(out, px, py, px, mapY(y + 1), radius);
      if (bin[(y + 1) * W + x + 1] && !bin[y * W + x + 1] && !bin[(y + 1) * W + x]) stampSegment(out, px, py, mapX(x + 1), mapY(y + 1), radius);
      if (bin[(y + 1) * W + x - 1] && !bin[y * W + x - 1] && !bin[(y + 1) * W + x]) stampSegment(out, px, py, mapX(x - 1), mapY(y + 1), radius);
    }
  }
  return out;
}

/**
 * Draws a line segment of the given half-width with a 1-px antialiased edge (coverage from the
 * distance to the segment), keeping the maximum where strokes overlap, as a canvas stroke looks.
 */
function stampSegment(out: Float32Array, ax: number, ay: number, bx: number, by: number, radius: number): void {
  const S = SYMBOL_SIZE;
  const xMin = Math.max(0, Math.floor(Math.min(ax, bx) - radius - 1));
  const xMax = Math.min(S - 1, Math.ceil(Math.max(ax, bx) + radius + 1));
  const yMin = Math.max(0, Math.floor(Math.min(ay, by) - radius - 1));
  const yMax = Math.min(S - 1, Math.ceil(Math.max(ay, by) + radius + 1));
  const dx = bx - ax;
  const dy = by - ay;
  const len2 = dx * dx + dy * dy;
  for (let y = yMin; y <= yMax; y++) {
    const py = y + 0.5;
    for (let x = xMin; x <= xMax; x++) {
      const px = x + 0.5;
      let t = len2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / len2 : 0;
      t = t < 0 ? 0 : t > 1 ? 1 : t;
      const ex = px - (ax + t * dx);
      const ey = py - (ay + t * dy);
      const d = Math.sqrt(ex * ex + ey * ey);
      const cover = radius + 0.5 - d;
      if (cover <= 0) continue;
      const v = cover >= 1 ? 1 : cover;
      const i = y * S + x;
      if (v > out[i]!) out[i] = v;
    }
  }
}

/**
 * Zhang-Suen thinning in place (1 = ink): peels boundary pixels in two alternating sub-passes
 * until only 8-connected, 1-px-wide centre lines remain. Iterations ~ half the stroke width.
 */
function thin(img: Uint8Array, W: number, H: number): void {
  const remove: number[] = [];
  let changed = true;
  while (changed) {
    changed = false;
    for (let pass = 0; pass < 2; pass++) {
      remove.length = 0;
      for (let y = 1; y < H - 1; y++) {
        for (let x = 1; x < W - 1; x++) {
          const i = y * W + x;
          if (!img[i]) continue;
          const p2 = img[i - W]!, p3 = img[i - W + 1]!, p4 = img[i + 1]!, p5 = img[i + W + 1]!;
          const p6 = img[i + W]!, p7 = img[i + W - 1]!, p8 = img[i - 1]!, p9 = img[i - W - 1]!;
          const b = p2 + p3 + p4 + p5 + p6 + p7 + p8 + p9;
          if (b < 2 || b > 6) continue;
          const a =
            (p2 === 0 && p3 === 1 ? 1 : 0) + (p3 === 0 && p4 === 1 ? 1 : 0) + (p4 === 0 && p5 === 1 ? 1 : 0) +
            (p5 === 0 && p6 === 1 ? 1 : 0) + (p6 === 0 && p7 === 1 ? 1 : 0) + (p7 === 0 && p8 === 1 ? 1 : 0) +
            (p8 === 0 && p9 === 1 ? 1 : 0) + (p9 === 0 && p2 === 1 ? 1 : 0);
          if (a !== 1) continue;
          if (pass === 0 ? p2 * p4 * p6 === 0 && p4 * p6 * p8 === 0 : p2 * p4 * p8 === 0 && p2 * p6 * p8 === 0) remove.push(i);
        }
      }
      if (remove.length > 0) {
        changed = true;
        for (const i of remove) img[i] = 0;
      }
    }
  }
}
