/**
 * The crop the line recogniser reads for one detected box: the box grown by a margin, with any ink
 * that belongs to a neighbouring line painted over with the page's background.
 *
 * Why not the detector's box as it is (measured on rendered pages, see
 * docs/multi-stage-models.md): PP-OCRv4's boxes (DB unclip ratio 1.5) hug the ink, about a pixel
 * around the glyphs, sometimes cutting into the first or last one; read that tight, the
 * recogniser drops most spaces between words ("Thankyouforyourbusiness"): 56 of 120 lines read
 * exactly. It reads lines best when the text fills roughly half to two thirds of the crop's height,
 * which is how the `ocr` model's own rendered lines look. Growing the box by 0.3-0.4 of its height
 * on every side brings that to 118-120 of 120.
 *
 * Why paint the neighbours' ink: on single-spaced text the grown crop (and already the detector's
 * own box) reaches into the lines above and below, and their descender tips and ascender tops read
 * as stray ".", "'", "_" or change a letter ("q" -> "g"). Each ink blob (8-connected dark pixels,
 * seen in a band one box height taller than the crop on each side, so a neighbour's glyph is seen
 * whole) is given to the detected line whose vertical centre is nearest the blob's, among the
 * lines it overlaps horizontally; blobs given to another line are painted with the background.
 * Own glyphs stay whole even where they stick out of the box (a "q" tail, a "T" bar the box cut).
 *
 * The result depends only on the page's pixels around the line and on where the lines are: the
 * same line with the same neighbours (a letterhead) crops to the same pixels, so a cache keyed on
 * the crop's content finds it.
 */
import type { DecodedImage } from './image.ts';
import type { BoxLike } from './reading-order.ts';

export interface LineCropOptions {
  /** Margin added on every side, as a fraction of the box's height. Default 0.3 (LINE_CROP_MARGIN). */
  margin?: number;
}

export const LINE_CROP_MARGIN = 0.3;

/** Otsu's threshold of an 8-bit histogram: the level that best splits it into two classes. */
export function otsuThreshold(histogram: ArrayLike<number>): number {
  let total = 0;
  let sumAll = 0;
  for (let v = 0; v < 256; v++) {
    total += histogram[v]!;
    sumAll += v * histogram[v]!;
  }
  let best = 0;
  let bestVariance = -1;
  let weightLow = 0;
  let sumLow = 0;
  for (let t = 0; t < 256; t++) {
    weightLow += histogram[t]!;
    if (weightLow === 0) continue;
    const weightHigh = total - weightLow;
    if (weightHigh === 0) break;
    sumLow += t * histogram[t]!;
    const meanLow = sumLow / weightLow;
    const meanHigh = (sumAll - sumLow) / weightHigh;
    const variance = weightLow * weightHigh * (meanLow - meanHigh) ** 2;
    if (variance > bestVariance) {
      bestVariance = variance;
      best = t;
    }
  }
  return best;
}

/** Luminance (ITU-R BT.601, as libvips and OpenCV compute grey) of one pixel. */
function luminance(pixels: Uint8Array, index: number, channels: number): number {
  if (channels === 1) return pixels[index]!;
  return (pixels[index]! * 299 + pixels[index + 1]! * 587 + pixels[index + 2]! * 114) / 1000;
}

/**
 * `box` (a detected line, in the page's pixels) cropped with a margin of `margin` x its height on
 * every side, ink of the other `lines` removed. `lines` are all the lines detected on the page
 * (`box` among them or not); only those near `box` matter.
 */
export function lineCrop(page: DecodedImage, box: BoxLike, lines: readonly BoxLike[], options: LineCropOptions = {}): DecodedImage {
  const margin = options.margin ?? LINE_CROP_MARGIN;
  if (!(margin >= 0)) throw new Error(`lineCrop: margin must be >= 0, got ${margin}`);
  if (!(box.width >= 1 && box.height >= 1)) throw new Error(`lineCrop: empty box ${box.width}x${box.height}`);
  const { width: pageWidth, height: pageHeight, channels, pixels } = page;
  const m = Math.round(margin * box.height);
  // The crop window (may reach past the page; that part is background).
  const cx0 = box.x - m;
  const cy0 = box.y - m;
  const cw = box.width + 2 * m;
  const ch = box.height + 2 * m;
  // The band analysed for ink: the window, one box height taller on each side, inside the page.
  const ax0 = Math.max(0, cx0);
  const ax1 = Math.min(pageWidth, cx0 + cw);
  const ay0 = Math.max(0, cy0 - box.height);
  const ay1 = Math.min(pageHeight, cy0 + ch + box.height);
  const aw = Math.max(0, ax1 - ax0);
  const ah = Math.max(0, ay1 - ay0);

  // Grey levels of the band and their histogram.
  const grey = new Uint8Array(aw * ah);
  const histogram = new Float64Array(256);
  for (let y = 0; y < ah; y++) {
    for (let x = 0; x < aw; x++) {
      const v = Math.round(luminance(pixels, ((ay0 + y) * pageWidth + ax0 + x) * channels, channels));
      grey[y * aw + x] = v;
      histogram[v]!++;
    }
  }
  const threshold = otsuThreshold(histogram);
  // Background: the mean colour of the light class (paper), per channel.
  const background = new Float64Array(channels);
  let lightCount = 0;
  for (let y = 0; y < ah; y++) {
    for (let x = 0; x < aw; x++) {
      if (grey[y * aw + x]! <= threshold) continue;
      const p = ((ay0 + y) * pageWidth + ax0 + x) * channels;
      for (let c = 0; c < channels; c++) background[c]! += pixels[p + c]!;
      lightCount++;
    }
  }
  const paper = Array.from(background, (sum) => (lightCount > 0 ? Math.round(sum / lightCount) : 255));

  // Lines that can own ink in the band: the box itself and the lines the band overlaps.
  const owners = [box, ...lines.filter((line) => line !== box && line.y < ay1 && line.y + line.height > ay0 && line.x < ax1 && line.x + line.width > ax0)];
  const foreign = foreignInk(grey, aw, ah, threshold, owners, ax0, ay0);

  const out = new Uint8Array(cw * ch * channels);
  for (let y = 0; y < ch; y++) {
    const py = cy0 + y;
    for (let x = 0; x < cw; x++) {
      const px = cx0 + x;
      const o = (y * cw + x) * channels;
      const inside = px >= 0 && px < pageWidth && py >= 0 && py < pageHeight;
      if (inside && !foreign[(py - ay0) * aw + (px - ax0)]) {
        const p = (py * pageWidth + px) * channels;
        for (let c = 0; c < channels; c++) out[o + c] = pixels[p + c]!;
      } else {
        for (let c = 0; c < channels; c++) out[o + c] = paper[c]!;
      }
    }
  }
  return { width: cw, height: ch, channels, pixels: out };
}

/**
 * Marks the pixels of ink blobs (8-connected pixels <= threshold) that belong to another line
 * than owners[0]: the owner of a blob is the line, among those overlapping it horizontally, whose
 * vertical centre is nearest the blob's; a blob no line overlaps belongs to owners[0] only if its
 * centre lies within owners[0]'s rows.
 */
function foreignInk(grey: Uint8Array, w: number, h: number, threshold: number, owners: readonly BoxLike[], x0: number, y0: number): Uint8Array {
  const foreign = new Uint8Array(w * h);
  const seen = new Uint8Array(w * h);
  const stack: number[] = [];
  const members: number[] = [];
  const self = owners[0]!;
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || grey[start]! > threshold) continue;
    // Flood fill one blob, collecting its pixels and extent.
    members.length = 0;
    stack.push(start);
    seen[start] = 1;
    let minX = w, maxX = -1, minY = h, maxY = -1;
    while (stack.length > 0) {
      const i = stack.pop()!;
      members.push(i);
      const x = i % w;
      const y = (i - x) / w;
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
      for (let dy = -1; dy <= 1; dy++) {
        const ny = y + dy;
        if (ny < 0 || ny >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx;
          if (nx < 0 || nx >= w) continue;
          const j = ny * w + nx;
          if (!seen[j] && grey[j]! <= threshold) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    const centreY = y0 + (minY + maxY) / 2;
    const left = x0 + minX;
    const right = x0 + maxX + 1;
    let owner: BoxLike | undefined;
    let bestDistance = Infinity;
    for (const line of owners) {
      if (line.x >= right || line.x + line.width <= left) continue;
      const distance = Math.abs(line.y + line.height / 2 - centreY);
      if (distance < bestDistance) {
        bestDistance = distance;
        owner = line;
      }
    }
    const mine = owner ? owner === self : centreY >= self.y && centreY < self.y + self.height;
    if (!mine) for (const i of members) foreign[i] = 1;
  }
  return foreign;
}
