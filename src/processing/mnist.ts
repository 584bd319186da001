/**
 * MNIST-style normalisation of a decoded image for the `digits` model: whatever its size and ink
 * colour, the digit comes out white on black in a 20 px box, centred by its centre of mass in a
 * 28x28 frame, as the MNIST digits the model was trained on. Each step below says why.
 * (Decoding the image is the digits pipeline's: src/pipelines/mnist.ts.)
 */
import { ImageInputError } from './errors.ts';
import type { DecodedImage } from './image.ts';
import { resizePixels } from './resize.ts';

/** Grey levels 0..1 of a decoded one-channel image, as toMnistTensor reads them. */
export function greyLevels(image: DecodedImage): Float32Array {
  if (image.channels !== 1) throw new Error(`greyLevels: image has ${image.channels} channels; decode it as 'grey'`);
  const grey = new Float32Array(image.pixels.length);
  for (let i = 0; i < grey.length; i++) grey[i] = image.pixels[i]! / 255;
  return grey;
}

// ---------------------------------------------------------------------------------------------
// MNIST normalisation

/** Side of the MNIST image. */
export const MNIST_SIZE = 28;
/** MNIST fits each digit's longer side to 20 px, leaving a 4 px margin for the centring shift. */
export const MNIST_BOX = 20;
/** Where MNIST puts the centre of mass (pixel index coordinates; measured: 13.5..14.5 in x and y). */
export const MNIST_CENTRE = 14;

// Below this fraction of the ink's peak, a pixel counts as background (paper grain, JPEG noise).
const INK_FLOOR = 0.1;
// An image whose ink stands out from the background by less than this (0..1 grey levels) holds
// no digit: it is blank, or a flat colour.
const MIN_CONTRAST = 0.1;
// A separate blob holding less than this share of the ink, beyond an empty row or column from
// the rest, is a speck (dust, a stray dot), not part of the digit: it is cropped away so it
// cannot shrink the digit when the bounding box is scaled to 20 px.
const SPECK_SHARE = 0.02;
// Stroke width in the 20 px box, measured on the package's 10,000 MNIST digits with strokeWidth()
// below: 1st percentile 1.19 px, median 1.96 px, 99th percentile 3.67 px. Thinner strokes (a thin
// pen on a large canvas, a light font) are thickened to the median, as the network never saw
// hairlines.
const MIN_STROKE = 1.2;
const TARGET_STROKE = 2.0;
// The working resolution for thickening: fine enough that the added width is accurate to a
// quarter of a final pixel, small enough to stay cheap.
const WORK_SIDE = 4 * MNIST_BOX;

/**
 * The classic MNIST normalisation, so that any drawing of a digit looks like the images the model
 * was trained on. Returns 784 values in 0..1, row-major, a white digit on black.
 *
 *  1. Background and polarity. The background level is the median of the image's border; the
 *     ink is whichever side of it reaches further (darkest vs lightest 0.1% of pixels). A dark
 *     digit on light paper is inverted, since MNIST digits are white (1) on black (0).
 *  2. Contrast. Grey levels are rescaled so the background is 0 and the ink's peak is 1, then
 *     values below INK_FLOOR (or the border's noise) are zeroed: photos and scans have grey
 *     paper and faint strokes, MNIST has pure black and strokes reaching 1.
 *  3. Crop to the ink's bounding box (without isolated specks): MNIST digits fill a fixed box
 *     whatever size they were drawn at, so position and size in the upload must not matter.
 *  4. Scale the longer side to 20 px, keeping the aspect ratio (a '1' stays thin), averaging
 *     over each output pixel's area when shrinking: MNIST's anti-aliased grey edges.
 *  5. Thicken hairline strokes (a 2 px pen on a 1000 px canvas becomes a 0.04 px line at 20 px)
 *     to MNIST's median width, by a max filter at 80 px before the final shrink, after bringing
 *     their faded grey (shrinking averages a thin line with the paper) back to full strength.
 *  6. Paste into 28x28 so the centre of mass lands on pixel (14, 14), by a whole-pixel shift as
 *     in MNIST: the network learnt digits centred that way, not centred by their box.
 *
 * The image is expected to hold one digit on a roughly uniform background (a drawing, a scan or a
 * cropped photo); strong shadows or several digits defeat steps 1-3.
 *
 * @throws ImageInputError('NO_DIGIT') when nothing stands out from the background.
 */
export function toMnistTensor(grey: Float32Array, width: number, height: number): Float32Array {
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1) {
    throw new TypeError(`toMnistTensor: width and height must be positive integers, got ${width} x ${height}`);
  }
  if (grey.length !== width * height) {
    throw new TypeError(`toMnistTensor: ${width} x ${height} needs ${width * height} grey values, got ${grey.length}`);
  }

  const ink = extractInk(grey, width, height);
  const box = inkBox(ink, width, height);
  const crop = cropImage(ink, width, box);

  // Shrink large crops to the working size first: everything after costs O(WORK_SIDE^2).
  const longSide = Math.max(box.w, box.h);
  let work = longSide > WORK_SIDE ? resize(crop, fitWithin(box.w, box.h, WORK_SIDE)) : crop;
  work = restoreContrast(work);

  let small = resize(work, fitWithin(work.w, work.h, MNIST_BOX));
  const stroke = strokeWidth(small);
  if (stroke < MIN_STROKE) {
    // Widen every stroke by (TARGET - stroke) final pixels: a disc of that diameter in work pixels.
    const perFinal = Math.max(work.w, work.h) / MNIST_BOX;
    const radius = Math.max(1, Math.round(((TARGET_STROKE - stroke) * perFinal) / 2));
    work = dilate(work, radius);
    small = resize(work, fitWithin(work.w, work.h, MNIST_BOX));
  }
  return centreByMass(small);
}

// -- Step 1 and 2 ------------------------------------------------------------------------------

interface Plane {
  w: number;
  h: number;
  v: Float32Array;
}

// 8-bit images are what decodeImage gives; a 1024-bin histogram is exact for those and fine
// enough for any other input.
const BINS = 1024;

function bin(v: number): number {
  return Math.min(BINS - 1, Math.max(0, Math.round(v * (BINS - 1))));
}

function histogramQuantile(hist: Float64Array, total: number, q: number): number {
  const target = q * total;
  let acc = 0;
  for (let b = 0; b < BINS; b++) {
    acc += hist[b]!;
    if (acc > target) return b / (BINS - 1);
  }
  return 1;
}

function extractInk(grey: Float32Array, width: number, height: number): Float32Array {
  // The border: a frame 2% of the shorter side thick (at least 1 px), so a thin scanner edge or a
  // stroke touching one side does not decide the background alone.
  const t = Math.max(1, Math.round(Math.min(width, height) * 0.02));
  const border = new Float64Array(BINS);
  let borderCount = 0;
  const all = new Float64Array(BINS);
  for (let y = 0; y < height; y++) {
    const edgeRow = y < t || y >= height - t;
    for (let x = 0; x < width; x++) {
      const b = bin(grey[y * width + x]!);
      all[b]!++;
      if (edgeRow || x < t || x >= width - t) {
        border[b]!++;
        borderCount++;
      }
    }
  }
  const background = histogramQuantile(border, borderCount, 0.5);
  // Noise of the background: 1.4826 x median absolute deviation estimates a Gaussian's sigma.
  const deviation = new Float64Array(BINS);
  for (let b = 0; b < BINS; b++) deviation[bin(Math.abs(b / (BINS - 1) - background))]! += border[b]!;
  const sigma = 1.4826 * histogramQuantile(deviation, borderCount, 0.5);

  const n = width * height;
  const darkest = histogramQuantile(all, n, 0.001);
  const lightest = histogramQuantile(all, n, 0.999);
  const inverted = background - darkest > lightest - background;
  const contrast = inverted ? background - darkest : lightest - background;
  // The peak: among clearly inked pixels, the 95th percentile, so one hot pixel cannot set it.
  const inkHist = new Float64Array(BINS);
  let inkCount = 0;
  for (let i = 0; i < n; i++) {
    const d = inverted ? background - grey[i]! : grey[i]! - background;
    if (d > contrast / 2) {
      inkHist[bin(d)]!++;
      inkCount++;
    }
  }
  const peak = inkCount > 0 ? histogramQuantile(inkHist, inkCount, 0.95) : contrast;
  if (!(peak >= MIN_CONTRAST)) {
    throw new ImageInputError(`no digit found: the image is almost uniform (the darkest and lightest pixels differ from the background by at most ` +
        `${Math.round(Math.max(contrast, peak) * 255)} of 255 grey levels; at least ${Math.round(MIN_CONTRAST * 255)} are needed)`,
    );
  }
  const floor = Math.min(0.5, Math.max(INK_FLOOR, (4 * sigma) / peak));
  const ink = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = (inverted ? background - grey[i]! : grey[i]! - background) / peak;
    ink[i] = v < floor ? 0 : v > 1 ? 1 : v;
  }
  return ink;
}

// -- Step 3 ------------------------------------------------------------------------------------

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

// The [first, last] index of a profile (ink per row or column), dropping runs at either end that
// are separated from the rest by empty lines and hold less than SPECK_SHARE of the ink.
function trimProfile(profile: Float64Array): [number, number] | null {
  let total = 0;
  for (const v of profile) total += v;
  let lo = profile.findIndex((v) => v > 0);
  if (lo < 0) return null;
  let hi = profile.length - 1;
  while (profile[hi]! <= 0) hi--;
  for (;;) {
    // The run starting at lo, and the run ending at hi.
    let a = lo;
    let massLo = 0;
    while (a <= hi && profile[a]! > 0) massLo += profile[a++]!;
    let b = hi;
    let massHi = 0;
    while (b >= lo && profile[b]! > 0) massHi += profile[b--]!;
    if (a > hi) return [lo, hi]; // one run: nothing is separate
    if (massLo <= massHi && massLo < SPECK_SHARE * total) {
      lo = a;
      while (profile[lo]! <= 0) lo++;
    } else if (massHi < SPECK_SHARE * total) {
      hi = b;
      while (profile[hi]! <= 0) hi--;
    } else {
      return [lo, hi];
    }
  }
}

function inkBox(ink: Float32Array, width: number, height: number): Box {
  let box: Box = { x: 0, y: 0, w: width, h: height };
  // Twice: a speck beside the digit shows in the column profile only once the rows are trimmed.
  for (let round = 0; round < 2; round++) {
    const rows = new Float64Array(box.h);
    const cols = new Float64Array(box.w);
    for (let y = 0; y < box.h; y++) {
      const row = (box.y + y) * width + box.x;
      for (let x = 0; x < box.w; x++) {
        const v = ink[row + x]!;
        rows[y]! += v;
        cols[x]! += v;
      }
    }
    const ry = trimProfile(rows);
    const rx = trimProfile(cols);
    if (ry === null || rx === null) {
      throw new ImageInputError('no digit found: nothing in the image stands out from the background');
    }
    box = { x: box.x + rx[0], y: box.y + ry[0], w: rx[1] - rx[0] + 1, h: ry[1] - ry[0] + 1 };
  }
  return box;
}

function cropImage(ink: Float32Array, width: number, box: Box): Plane {
  const v = new Float32Array(box.w * box.h);
  for (let y = 0; y < box.h; y++) v.set(ink.subarray((box.y + y) * width + box.x, (box.y + y) * width + box.x + box.w), y * box.w);
  return { w: box.w, h: box.h, v };
}

// -- Step 4 ------------------------------------------------------------------------------------

/** Output size with the longer side `side`, keeping the aspect ratio (at least 1 px). */
function fitWithin(w: number, h: number, side: number): { w: number; h: number } {
  const s = side / Math.max(w, h);
  return { w: Math.max(1, Math.min(side, Math.round(w * s))), h: Math.max(1, Math.min(side, Math.round(h * s))) };
}

function resize(src: Plane, size: { w: number; h: number }): Plane {
  if (size.w === src.w && size.h === src.h) return src;
  return { w: size.w, h: size.h, v: resizePixels(src.v, src.w, src.h, 1, size.w, size.h, 'area') };
}

// -- Step 5 ------------------------------------------------------------------------------------

/**
 * Mean stroke width in pixels: for long strokes, area = length x width and perimeter = 2 x length,
 * so width = 2 x area / perimeter; the perimeter of a grey image is its total variation (the sum
 * of differences between neighbours, the outside counting as 0).
 */
export function strokeWidth(p: { w: number; h: number; v: ArrayLike<number> }): number {
  let area = 0;
  let perimeter = 0;
  for (let y = 0; y < p.h; y++) {
    for (let x = 0; x < p.w; x++) {
      const v = p.v[y * p.w + x]!;
      area += v;
      const right = x + 1 < p.w ? p.v[y * p.w + x + 1]! : 0;
      const down = y + 1 < p.h ? p.v[(y + 1) * p.w + x]! : 0;
      perimeter += Math.abs(v - right) + Math.abs(v - down);
      if (x === 0) perimeter += v;
      if (y === 0) perimeter += v;
    }
  }
  return perimeter > 0 ? (2 * area) / perimeter : 0;
}

// Strokes thinner than a pixel at this resolution have been averaged with the background into a
// faint grey; scale so that the bulk of the strokes (95th percentile of the clearly inked pixels)
// is back at 1. A no-op for strokes a pixel wide or more, whose cores are already at ~1.
function restoreContrast(p: Plane): Plane {
  let max = 0;
  for (const v of p.v) if (v > max) max = v;
  const strong = p.v.filter((v) => v > max / 2).sort();
  const peak = strong[Math.min(strong.length - 1, Math.floor(strong.length * 0.95))] ?? 0;
  if (!(peak > 0) || peak >= 0.98) return p;
  return { w: p.w, h: p.h, v: p.v.map((v) => Math.min(1, v / peak)) };
}

// Grey-level dilation by a disc of the given radius, on a plane padded by the radius so that
// widened strokes at the edge are not cut.
function dilate(src: Plane, radius: number): Plane {
  const w = src.w + 2 * radius;
  const h = src.h + 2 * radius;
  const offsets: [number, number][] = [];
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) if (dx * dx + dy * dy <= radius * radius + radius) offsets.push([dx, dy]);
  }
  const v = new Float32Array(w * h);
  for (let y = 0; y < src.h; y++) {
    for (let x = 0; x < src.w; x++) {
      const s = src.v[y * src.w + x]!;
      if (s <= 0) continue;
      for (const [dx, dy] of offsets) {
        const i = (y + radius + dy) * w + (x + radius + dx);
        if (v[i]! < s) v[i] = s;
      }
    }
  }
  return { w, h, v };
}

// -- Step 6 ------------------------------------------------------------------------------------

function centreByMass(p: Plane): Float32Array {
  let mass = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < p.h; y++) {
    for (let x = 0; x < p.w; x++) {
      const v = p.v[y * p.w + x]!;
      mass += v;
      sx += v * x;
      sy += v * y;
    }
  }
  const out = new Float32Array(MNIST_SIZE * MNIST_SIZE);
  if (!(mass > 0)) return out;
  const ox = Math.round(MNIST_CENTRE - sx / mass);
  const oy = Math.round(MNIST_CENTRE - sy / mass);
  for (let y = 0; y < p.h; y++) {
    const ty = y + oy;
    if (ty < 0 || ty >= MNIST_SIZE) continue;
    for (let x = 0; x < p.w; x++) {
      const tx = x + ox;
      if (tx < 0 || tx >= MNIST_SIZE) continue;
      out[ty * MNIST_SIZE + tx] = Math.min(1, Math.max(0, p.v[y * p.w + x]!));
    }
  }
  return out;
}
