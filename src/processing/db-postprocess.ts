/**
 * DB (Differentiable Binarization) post-processing for the PP-OCRv4 text detector: its
 * probability map -> axis-aligned text boxes in the page's pixels.
 *
 * Faithful to PaddleOCR's `DBPostProcess` with the PP-OCRv4 inference defaults (thresh 0.3,
 * box_thresh 0.6, unclip_ratio 1.5, min_size 3, max_candidates 1000, score_mode 'fast', no
 * dilation), step by step:
 *
 * 1. Binary map: probability > `threshold`.
 * 2. Regions: 8-connected components of the binary map, in raster order of their first pixel.
 *    PaddleOCR traces contours (cv2.findContours, RETR_LIST), whose outer borders are exactly these
 *    8-connected components. RETR_LIST also returns the borders of holes inside a component; those
 *    would be boxes nested inside a line's box, so components (which have no holes) are the
 *    cleaner reading of the same step.
 * 3. Box: the component's axis-aligned bounding box, where PaddleOCR takes the minimum-area
 *    rectangle of the contour (cv2.minAreaRect). For upright text the two are the same rectangle;
 *    the axis-aligned one is chosen because the answer's `Box` is axis-aligned, a crop is then a
 *    plain array copy (no perspective warp, see line-crop.ts), and the recogniser reads horizontal
 *    lines only. The cost: a line skewed by more than a degree or two gets a taller box that may
 *    take in parts of its neighbours (the rotated case needs minAreaRect + a warped crop; the
 *    pages this project serves and tests are upright). Sides are measured between the extreme
 *    pixel centres, as OpenCV's contour points are, so a component spanning columns x0..x1 is
 *    x1 - x0 wide.
 * 4. Minimum size: a box whose shorter side is under `minSize` is dropped (noise specks).
 * 5. Score: the mean probability inside the box (the pixels from x0..x1 and y0..y1, inclusive, as
 *    box_score_fast's filled polygon covers them); a box scoring under `boxThreshold` is dropped.
 * 6. Unclip: DB's map marks text *shrunk* inwards; the box is grown back by the offset distance
 *    area * unclipRatio / perimeter on every side (what pyclipper's polygon offset does to a
 *    rectangle, up to the rounded corners, which the following minimum rectangle drops anyway).
 *    A grown box whose shorter side is under minSize + 2 is dropped.
 * 7. Back to the page: coordinates are scaled by the page/map ratio, rounded, and clipped to the
 *    page; a box 3 px or less wide or high is dropped (PaddleOCR's filter_tag_det_res).
 *
 * Boxes are half-open pixel rectangles [x, x + width) x [y, y + height) inside the page. PaddleOCR
 * clips corner points to width - 1 and so never lets a box reach the last column; here a box may
 * end at the page's edge.
 */
import type { DetectionPage } from './detection-input.ts';

export interface DbOptions {
  /** Probability above which a map pixel is text. PaddleOCR: 0.3. */
  threshold: number;
  /** Mean probability a box needs to be kept. PaddleOCR: 0.6. */
  boxThreshold: number;
  /** How far a box is grown back: area * ratio / perimeter. PaddleOCR: 1.5. */
  unclipRatio: number;
  /** Shorter side below which a box is noise, in map pixels. PaddleOCR: 3. */
  minSize: number;
  /** Regions looked at, at most; the rest are ignored (and `truncated` says so). PaddleOCR: 1000. */
  maxCandidates: number;
}

export const DB_DEFAULTS: Readonly<DbOptions> = Object.freeze({
  threshold: 0.3,
  boxThreshold: 0.6,
  unclipRatio: 1.5,
  minSize: 3,
  maxCandidates: 1000,
});

/** A region of a detector output tensor: one page's map inside a (possibly padded) batch. */
export interface ProbabilityMap {
  data: Float32Array;
  /** Index in `data` of the region's top-left value. */
  offset: number;
  /** Values between the starts of two rows (the batch's map width). */
  stride: number;
  width: number;
  height: number;
}

/** An axis-aligned box in the page's pixels, origin top left, half-open. */
export interface TextBox {
  x: number;
  y: number;
  width: number;
  height: number;
  /** Mean text probability inside the box before unclipping, 0..1. */
  score: number;
}

export interface DbResult {
  boxes: TextBox[];
  /** Connected text regions found in the binary map (kept or not). */
  regions: number;
  /** True when more than maxCandidates regions were found and the rest were not looked at. */
  truncated: boolean;
}

/**
 * Page `n`'s map in a detector output of dims [N, 1, H, W]: the top-left `page.width` x
 * `page.height` corner of its slice (the rest is padding, see prepareDetectionBatch).
 */
export function pageProbabilityMap(data: Float32Array, dims: readonly number[], n: number, page: Pick<DetectionPage, 'width' | 'height'>): ProbabilityMap {
  if (dims.length !== 4 || dims[1] !== 1) throw new Error(`pageProbabilityMap: expected dims [N, 1, H, W], got [${dims.join(', ')}]`);
  const [count, , h, w] = dims as [number, number, number, number];
  if (data.length !== count * h * w) throw new Error(`pageProbabilityMap: ${data.length} values is not ${dims.join('x')}`);
  if (!(n >= 0 && n < count)) throw new Error(`pageProbabilityMap: page ${n} of ${count}`);
  if (page.width > w || page.height > h) throw new Error(`pageProbabilityMap: page ${page.width}x${page.height} is larger than the map ${w}x${h}`);
  return { data, offset: n * h * w, stride: w, width: page.width, height: page.height };
}

interface Region {
  x0: number;
  x1: number;
  y0: number;
  y1: number;
}

/**
 * 8-connected components of (map > threshold), in raster order of their first pixel. One pass
 * with union-find over provisional labels, keeping two rows of labels rather than a whole label
 * image, then each provisional label's extent folded into its root's.
 */
export function textRegions(map: ProbabilityMap, threshold: number): Region[] {
  const { data, offset, stride, width: w, height: h } = map;
  const parent: number[] = [0];
  const x0: number[] = [0];
  const x1: number[] = [0];
  const y0: number[] = [0];
  const y1: number[] = [0];
  const find = (label: number): number => {
    let root = label;
    while (parent[root] !== root) root = parent[root]!;
    while (parent[label] !== root) {
      const next = parent[label]!;
      parent[label] = root;
      label = next;
    }
    return root;
  };
  const union = (a: number, b: number): number => {
    const ra = find(a);
    const rb = find(b);
    // The smaller (earlier) label stays the root, so roots keep raster order.
    if (ra < rb) {
      parent[rb] = ra;
      return ra;
    }
    parent[ra] = rb;
    return rb;
  };

  let previous = new Int32Array(w); // labels of row y - 1 (0 = background)
  let current = new Int32Array(w);
  for (let y = 0; y < h; y++) {
    const row = offset + y * stride;
    for (let x = 0; x < w; x++) {
      if (!(data[row + x]! > threshold)) {
        current[x] = 0;
        continue;
      }
      // Already-visited neighbours: west, north-west, north, north-east.
      // (Written out rather than looped over an array: this runs once per text pixel.)
      let label = x > 0 ? current[x - 1]! : 0;
      const northWest = x > 0 ? previous[x - 1]! : 0;
      const north = previous[x]!;
      const northEast = x + 1 < w ? previous[x + 1]! : 0;
      if (northWest !== 0) label = label === 0 ? find(northWest) : union(label, northWest);
      if (north !== 0) label = label === 0 ? find(north) : union(label, north);
      if (northEast !== 0) label = label === 0 ? find(northEast) : union(label, northEast);
      if (label === 0) {
        label = parent.length;
        parent.push(label);
        x0.push(x);
        x1.push(x);
        y0.push(y);
        y1.push(y);
      } else {
        label = find(label);
        if (x < x0[label]!) x0[label] = x;
        if (x > x1[label]!) x1[label] = x;
        if (y > y1[label]!) y1[label] = y; // y0 is where the root label started: never lower
      }
      current[x] = label;
    }
    [previous, current] = [current, previous];
  }

  const regions = new Map<number, Region>();
  for (let label = 1; label < parent.length; label++) {
    const root = find(label);
    const region = regions.get(root);
    if (!region) {
      regions.set(root, { x0: x0[label]!, x1: x1[label]!, y0: y0[label]!, y1: y1[label]! });
      continue;
    }
    region.x0 = Math.min(region.x0, x0[label]!);
    region.x1 = Math.max(region.x1, x1[label]!);
    region.y0 = Math.min(region.y0, y0[label]!);
    region.y1 = Math.max(region.y1, y1[label]!);
  }
  // Map iteration follows insertion order, and roots are inserted in increasing label order.
  return [...regions.values()];
}

/** Summed-area table of the map region: (w + 1) x (h + 1), for O(1) box means. */
function integral(map: ProbabilityMap): Float64Array {
  const { data, offset, stride, width: w, height: h } = map;
  const table = new Float64Array((w + 1) * (h + 1));
  for (let y = 0; y < h; y++) {
    let rowSum = 0;
    const row = offset + y * stride;
    const above = y * (w + 1);
    const here = (y + 1) * (w + 1);
    for (let x = 0; x < w; x++) {
      rowSum += data[row + x]!;
      table[here + x + 1] = table[above + x + 1]! + rowSum;
    }
  }
  return table;
}

/**
 * The text boxes of one page, in the page's pixels, in the order their regions were found (raster
 * order of their top-left-most pixel; see reading-order.ts for the order lines are read in).
 */
export function dbPostprocess(map: ProbabilityMap, page: Pick<DetectionPage, 'imageWidth' | 'imageHeight'>, options: Partial<DbOptions> = {}): DbResult {
  const opts = { ...DB_DEFAULTS, ...options };
  const { width: w, height: h } = map;
  if (!(w >= 1 && h >= 1)) throw new Error(`dbPostprocess: empty map ${w}x${h}`);
  const scaleX = page.imageWidth / w;
  const scaleY = page.imageHeight / h;
  const regions = textRegions(map, opts.threshold);
  const table = integral(map);
  const sum = (rx0: number, ry0: number, rx1: number, ry1: number) =>
    table[(ry1 + 1) * (w + 1) + rx1 + 1]! - table[ry0 * (w + 1) + rx1 + 1]! - table[(ry1 + 1) * (w + 1) + rx0]! + table[ry0 * (w + 1) + rx0]!;

  const boxes: TextBox[] = [];
  const looked = Math.min(regions.length, opts.maxCandidates);
  for (let i = 0; i < looked; i++) {
    const { x0, x1, y0, y1 } = regions[i]!;
    const boxWidth = x1 - x0;
    const boxHeight = y1 - y0;
    if (Math.min(boxWidth, boxHeight) < opts.minSize) continue;
    const score = sum(x0, y0, x1, y1) / ((boxWidth + 1) * (boxHeight + 1));
    if (score < opts.boxThreshold) continue;
    const distance = (boxWidth * boxHeight * opts.unclipRatio) / (2 * (boxWidth + boxHeight));
    if (Math.min(boxWidth, boxHeight) + 2 * distance < opts.minSize + 2) continue;
    const left = clamp(Math.round((x0 - distance) * scaleX), 0, page.imageWidth);
    const right = clamp(Math.round((x1 + distance) * scaleX), 0, page.imageWidth);
    const top = clamp(Math.round((y0 - distance) * scaleY), 0, page.imageHeight);
    const bottom = clamp(Math.round((y1 + distance) * scaleY), 0, page.imageHeight);
    if (right - left <= 3 || bottom - top <= 3) continue;
    boxes.push({ x: left, y: top, width: right - left, height: bottom - top, score });
  }
  return { boxes, regions: regions.length, truncated: regions.length > opts.maxCandidates };
}

function clamp(value: number, low: number, high: number): number {
  return value < low ? low : value > high ? high : value;
}
