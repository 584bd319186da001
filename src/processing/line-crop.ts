/**
 * The crop the line recogniser reads for one detected line: the line's own ink plus a margin,
 * with any ink that belongs to a neighbouring line painted over with the page's background.
 *
 * Measured on rendered pages (3 DejaVu fonts x 4 sizes x 2 line spacings, 480 lines; the numbers
 * are in docs/multi-stage-models.md):
 *
 * - The detector's box as it is reads badly. PP-OCRv4's boxes (DB unclip ratio 1.5) hug the ink,
 *   about a pixel around it, sometimes cutting into the first glyph; read that tight, the
 *   recogniser drops most spaces between words ("Thankyouforyourbusiness"). It reads best when
 *   the text fills roughly 55-65% of the crop's height, as on the `ocr` model's own rendered
 *   lines. A margin of 0.4 x the ink's height on every side gives that; small text (ink under 20
 *   px, upscaled to the recogniser's 48 px) reads better with a little more, so the margin is at
 *   least 8 px. On the 480 lines: bare boxes 153, margin 0.3 x height 443, 0.4 469, 0.5 470;
 *   0.4 with at least 7 / 8 / 9 / 10 / 12 px: 475 / 478 / 478 / 474 / 450.
 * - On single-spaced text a margin (and already the detector's own box) reaches into the lines
 *   above and below, whose descender tips and ascender tops then read as stray ".", "'", "_" or
 *   turn a "q" into a "g". So every ink blob (8-connected pixels darker than Otsu's threshold of
 *   the surroundings) is given to the detected line whose box is nearest the blob's centre (the
 *   one whose middle row is nearest, where boxes overlap), and blobs given to another line are
 *   painted with the background (with their one-pixel antialiased rim).
 * - The window is anchored on the line's own ink, not on the detector's box: the box moves by a
 *   pixel or two with the rest of the page (the network sees the whole page), so the same
 *   letterhead on two pages gave boxes 490, 491 and 492 px wide. Anchored on the ink, the crop
 *   is the same pixels on every page, which is what lets a cache keyed on the crop's content
 *   read a shared line once. Own glyphs stay whole even where they stick out of the box.
 *
 * No rotation. PaddleOCR's get_rotate_crop_image warps a (possibly rotated) quadrilateral to a
 * rectangle and then turns any crop at least 1.5 times taller than wide by 90 degrees, for columns
 * of vertical CJK text. The boxes here are axis-aligned (db-postprocess.ts), so there is nothing
 * to warp, and the recogniser reads horizontal lines: turning a tall crop would make a one-glyph
 * line ("1", "I") unreadable, and vertical writing is not a case this project serves.
 */
import type { DecodedImage } from './image.ts';
import type { BoxLike } from './reading-order.ts';
import { otsuThreshold } from './threshold.ts';

/** Margin on every side, as a fraction of the line's ink height (see the measurements above). */
export const LINE_CROP_MARGIN = 0.4;
/** ...but at least this many pixels: small text needs relatively more (see above). */
export const LINE_CROP_MIN_MARGIN = 8;

export interface LineCropOptions {
  /** Margin added on every side, as a fraction of the ink's height. Default LINE_CROP_MARGIN. */
  margin?: number;
  /** Smallest margin in pixels. Default LINE_CROP_MIN_MARGIN. */
  minMargin?: number;
}

/** A rectangle in some grid, inclusive corners. */
interface Extent {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

/** The part of the page examined around one line, as grey levels. */
interface Band {
  x0: number;
  y0: number;
  width: number;
  height: number;
  grey: Uint8Array;
  /** Grey level at or below which a pixel is ink. */
  threshold: number;
  /** The paper's colour: mean of the pixels lighter than the threshold, per channel. */
  paper: number[];
}

/**
 * The band examined for `box`: its columns widened by twice the margin, its rows by that and one
 * box height more on each side, so a neighbour's glyph that pokes into the crop is seen whole
 * enough to be told apart from the line's own ink.
 */
function readBand(page: DecodedImage, box: BoxLike, margin: number, minMargin: number): Band {
  const { width: pageWidth, height: pageHeight, channels, pixels } = page;
  // Twice the margin of the box's height: the ink can be taller than the box (glyphs the box cut).
  const m = Math.max(minMargin, Math.round(2 * margin * box.height)) + 1;
  const x0 = Math.max(0, box.x - m);
  const x1 = Math.min(pageWidth, box.x + box.width + m);
  const y0 = Math.max(0, box.y - m - box.height);
  const y1 = Math.min(pageHeight, box.y + box.height + m + box.height);
  const width = Math.max(0, x1 - x0);
  const height = Math.max(0, y1 - y0);
  const grey = new Uint8Array(width * height);
  const histogram = new Float64Array(256);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = ((y0 + y) * pageWidth + x0 + x) * channels;
      // ITU-R BT.601 luminance, as libvips and OpenCV compute grey.
      const v = channels === 1 ? pixels[p]! : Math.round((pixels[p]! * 299 + pixels[p + 1]! * 587 + pixels[p + 2]! * 114) / 1000);
      grey[y * width + x] = v;
      histogram[v]!++;
    }
  }
  const threshold = otsuThreshold(histogram);
  const sums = new Float64Array(channels);
  let count = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (grey[y * width + x]! <= threshold) continue;
      const p = ((y0 + y) * pageWidth + x0 + x) * channels;
      for (let c = 0; c < channels; c++) sums[c]! += pixels[p + c]!;
      count++;
    }
  }
  const paper = Array.from(sums, (sum) => (count > 0 ? Math.round(sum / count) : 255));
  return { x0, y0, width, height, grey, threshold, paper };
}

/** How well a line claims a blob centred at (x, y): distance to its box, then to its middle row. */
function ownership(line: BoxLike, x: number, y: number): { gap: number; offset: number } {
  const dx = Math.max(line.x - x, 0, x - (line.x + line.width));
  const dy = Math.max(line.y - y, 0, y - (line.y + line.height));
  return { gap: Math.hypot(dx, dy), offset: Math.abs(line.y + line.height / 2 - y) };
}

/**
 * Sorts the band's ink blobs into the line's own and foreign ones. Returns a mask of the pixels
 * to paint (foreign blobs and their one-pixel rim of antialiasing) and the extent of the own ink
 * in band coordinates (null when the band holds none).
 *
 * The owner of a blob is the line whose box is nearest the blob's centre; among boxes that hold
 * it (lines' boxes overlap on single-spaced text), the one whose vertical centre is nearest.
 */
function sortInk(band: Band, owners: readonly BoxLike[]): { foreign: Uint8Array; own: Extent | null } {
  const { width: w, height: h, grey, threshold } = band;
  const foreign = new Uint8Array(w * h);
  const seen = new Uint8Array(w * h);
  const stack: number[] = [];
  const members: number[] = [];
  const self = owners[0]!;
  let own: Extent | null = null;
  for (let start = 0; start < w * h; start++) {
    if (seen[start] || grey[start]! > threshold) continue;
    members.length = 0;
    stack.push(start);
    seen[start] = 1;
    const blob: Extent = { x0: w, y0: h, x1: -1, y1: -1 };
    while (stack.length > 0) {
      const i = stack.pop()!;
      members.push(i);
      const x = i % w;
      const y = (i - x) / w;
      if (x < blob.x0) blob.x0 = x;
      if (x > blob.x1) blob.x1 = x;
      if (y < blob.y0) blob.y0 = y;
      if (y > blob.y1) blob.y1 = y;
      for (let ny = Math.max(0, y - 1); ny <= Math.min(h - 1, y + 1); ny++) {
        for (let nx = Math.max(0, x - 1); nx <= Math.min(w - 1, x + 1); nx++) {
          const j = ny * w + nx;
          if (!seen[j] && grey[j]! <= threshold) {
            seen[j] = 1;
            stack.push(j);
          }
        }
      }
    }
    const centreX = band.x0 + (blob.x0 + blob.x1 + 1) / 2;
    const centreY = band.y0 + (blob.y0 + blob.y1 + 1) / 2;
    let owner = self;
    let best = ownership(self, centreX, centreY);
    for (const line of owners) {
      const score = ownership(line, centreX, centreY);
      if (score.gap < best.gap || (score.gap === best.gap && score.offset < best.offset)) {
        best = score;
        owner = line;
      }
    }
    const mine = owner === self;
    if (!mine) {
      for (const i of members) {
        // The blob and its rim: antialiased pixels just lighter than the threshold would
        // otherwise stay behind as a faint outline.
        const x = i % w;
        const y = (i - x) / w;
        for (let ny = Math.max(0, y - 1); ny <= Math.min(h - 1, y + 1); ny++) {
          for (let nx = Math.max(0, x - 1); nx <= Math.min(w - 1, x + 1); nx++) {
            const j = ny * w + nx;
            if (grey[j]! > threshold || j === i) foreign[j] = 1;
          }
        }
      }
    } else if (!own) {
      own = { ...blob };
    } else {
      own.x0 = Math.min(own.x0, blob.x0);
      own.y0 = Math.min(own.y0, blob.y0);
      own.x1 = Math.max(own.x1, blob.x1);
      own.y1 = Math.max(own.y1, blob.y1);
    }
  }
  return { foreign, own };
}

export interface LineCrop {
  /** What the recogniser reads. */
  image: DecodedImage;
  /**
   * The line's own ink in the page's pixels (half-open): a tighter and steadier box than the
   * detector's, which is grown from a shrunk map and moves by a pixel or two with the rest of the
   * page. The detector's box when it holds no ink.
   */
  ink: BoxLike;
}

/**
 * The recogniser's crop of the line detected at `box` (in the page's pixels): its own ink plus
 * `margin` x the ink's height (at least `minMargin` px) on every side, anything that is not page (beyond the page, or
 * outside the band examined) and the ink of the other `lines` in the paper's colour. `lines` are
 * the page's detected lines (`box` among them or not). When the box holds no ink at all the crop
 * is the box plus that margin.
 */
export function lineCrop(page: DecodedImage, box: BoxLike, lines: readonly BoxLike[], options: LineCropOptions = {}): LineCrop {
  const margin = options.margin ?? LINE_CROP_MARGIN;
  const minMargin = options.minMargin ?? LINE_CROP_MIN_MARGIN;
  if (!(margin >= 0)) throw new Error(`lineCrop: margin must be >= 0, got ${margin}`);
  if (!(Number.isInteger(minMargin) && minMargin >= 0)) throw new Error(`lineCrop: minMargin must be a whole number >= 0, got ${minMargin}`);
  if (!(box.width >= 1 && box.height >= 1)) throw new Error(`lineCrop: empty box ${box.width}x${box.height}`);
  const band = readBand(page, box, margin, minMargin);
  const { foreign, own } = sortInk(band, [box, ...lines.filter((line) => line !== box)]);

  // The window, in page coordinates: the own ink (or the box) grown by the margin.
  const ink: Extent = own
    ? { x0: band.x0 + own.x0, y0: band.y0 + own.y0, x1: band.x0 + own.x1, y1: band.y0 + own.y1 }
    : { x0: box.x, y0: box.y, x1: box.x + box.width - 1, y1: box.y + box.height - 1 };
  const m = Math.max(minMargin, Math.round(margin * (ink.y1 - ink.y0 + 1)));
  const left = ink.x0 - m;
  const top = ink.y0 - m;
  const width = ink.x1 - ink.x0 + 1 + 2 * m;
  const height = ink.y1 - ink.y0 + 1 + 2 * m;

  const { channels, pixels } = page;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    const by = top + y - band.y0;
    for (let x = 0; x < width; x++) {
      const bx = left + x - band.x0;
      const o = (y * width + x) * channels;
      if (bx >= 0 && bx < band.width && by >= 0 && by < band.height && !foreign[by * band.width + bx]) {
        const p = ((top + y) * page.width + left + x) * channels;
        for (let c = 0; c < channels; c++) out[o + c] = pixels[p + c]!;
      } else {
        for (let c = 0; c < channels; c++) out[o + c] = band.paper[c]!;
      }
    }
  }
  return {
    image: { width, height, channels, pixels: out },
    ink: { x: ink.x0, y: ink.y0, width: ink.x1 - ink.x0 + 1, height: ink.y1 - ink.y0 + 1 },
  };
}
