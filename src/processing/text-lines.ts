/**
 * How many lines of text an image holds, from its projection profile: the ink (the darker class of
 * Otsu's threshold) counted row by row, and the runs of inked rows between blank ones. Cheap
 * (one pass over the pixels), so the one-line recogniser can run it on every image it is sent
 * and say "this is a page" instead of answering an empty string.
 *
 * It must never call one line several: a run of rows counts as a line of text only when it is
 * at least LINE_MIN_HEIGHT pixels and half the tallest run high, and its ink at least
 * LINE_MIN_ASPECT times as wide as it is high. That leaves out what sits above or below a line's
 * body on its own rows: accents over capitals (Ê), the dots of i and j, an underline, a
 * scanner's speck, and a single glyph whose parts stand apart (: ; ÷). Lines that touch
 * (descenders meeting the next line's ascenders, no blank row between) read as one: an image it
 * calls one line may still hold two.
 *
 * Measured on rendered single lines (17 texts with accents, dots, underscores, descenders and
 * lone punctuation x 3 DejaVu fonts x 12 to 96 px, 306 images): one called two lines, "= = =" at
 * 96 px, whose two bars are 8 px high and 282 px wide with 11 blank rows between: a line of
 * nothing but wide horizontal strokes at a size the recogniser shrinks 2x anyway. Every line of
 * rendered 3-line pages at 12 to 64 px, single-spaced, was found (test/unit/processing-page.test.ts).
 */
import type { RawImage } from '../domain/types.ts';
import { otsuThreshold } from './threshold.ts';

/** Shortest run of inked rows that can be a line of text, in pixels. */
export const LINE_MIN_HEIGHT = 8;
/** A line of text is at least this many times as wide (its ink) as it is high. */
export const LINE_MIN_ASPECT = 1.5;
/** Grey levels between the darkest and lightest pixel below which an image is blank (no ink). */
const MIN_CONTRAST = 48;

export interface InkBand {
  /** First and last inked row (inclusive). */
  top: number;
  bottom: number;
  /** First and last column holding ink in those rows (inclusive). */
  left: number;
  right: number;
}

/** ITU-R BT.601 luminance of every pixel (as libvips and OpenCV compute grey). */
function greyLevels(image: RawImage): Uint8Array {
  const { width, height, channels, pixels } = image;
  if (channels === 1) return pixels;
  const grey = new Uint8Array(width * height);
  for (let i = 0, p = 0; i < grey.length; i++, p += 3) grey[i] = (pixels[p]! * 299 + pixels[p + 1]! * 587 + pixels[p + 2]! * 114 + 500) / 1000;
  return grey;
}

/**
 * The runs of rows holding ink, top to bottom. Ink is the minority class of Otsu's split (so
 * light text on a dark background works too); a row holds ink when at least one pixel in 500 of
 * it (and at least one) is ink, which ignores isolated noise on wide images.
 */
export function inkBands(image: RawImage): InkBand[] {
  const { width, height } = image;
  const grey = greyLevels(image);
  const histogram = new Float64Array(256);
  let darkest = 255;
  let lightest = 0;
  for (const v of grey) {
    histogram[v]!++;
    if (v < darkest) darkest = v;
    if (v > lightest) lightest = v;
  }
  if (lightest - darkest < MIN_CONTRAST) return [];
  const threshold = otsuThreshold(histogram);
  let dark = 0;
  for (let v = 0; v <= threshold; v++) dark += histogram[v]!;
  const inkIsDark = dark <= grey.length / 2;
  const isInk = (v: number) => (v <= threshold) === inkIsDark;

  const minInk = Math.max(1, Math.floor(width / 500));
  const bands: InkBand[] = [];
  let band: InkBand | null = null;
  for (let y = 0; y < height; y++) {
    let count = 0;
    let left = width;
    let right = -1;
    for (let x = 0, i = y * width; x < width; x++, i++) {
      if (!isInk(grey[i]!)) continue;
      count++;
      if (x < left) left = x;
      right = x;
    }
    if (count < minInk) {
      band = null;
      continue;
    }
    if (!band) {
      band = { top: y, bottom: y, left, right };
      bands.push(band);
    } else {
      band.bottom = y;
      band.left = Math.min(band.left, left);
      band.right = Math.max(band.right, right);
    }
  }
  return bands;
}

/** The bands that are lines of text by the rules above (top to bottom). */
export function textLineBands(image: RawImage): InkBand[] {
  const bands = inkBands(image);
  const tallest = Math.max(0, ...bands.map((b) => b.bottom - b.top + 1));
  return bands.filter((b) => {
    const height = b.bottom - b.top + 1;
    return height >= LINE_MIN_HEIGHT && height >= tallest / 2 && b.right - b.left + 1 >= LINE_MIN_ASPECT * height;
  });
}
