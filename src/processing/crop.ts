/**
 * Cuts a box out of a decoded page: a plain copy of the box's rows, no resampling.
 *
 * No rotation. PaddleOCR's get_rotate_crop_image warps a (possibly rotated) quadrilateral to a
 * rectangle and then turns any crop at least 1.5 times taller than wide by 90 degrees, for columns
 * of vertical CJK text. The boxes here are axis-aligned (db-postprocess.ts), so there is nothing
 * to warp, and the recogniser reads horizontal lines: turning a tall crop would make a one-glyph
 * line ("1", "I", "l") or a narrow word unreadable, and vertical writing is not a case this
 * project serves.
 */
import type { DecodedImage } from './image.ts';
import type { BoxLike } from './reading-order.ts';

/** The pixels of `box` (half-open, in the image's pixels) as a new image with the same channels. */
export function cropImage(image: DecodedImage, box: BoxLike): DecodedImage {
  const { x, y, width, height } = box;
  if (![x, y, width, height].every(Number.isInteger) || width < 1 || height < 1) {
    throw new Error(`cropImage: box must have integer coordinates and a positive size, got ${x},${y} ${width}x${height}`);
  }
  if (x < 0 || y < 0 || x + width > image.width || y + height > image.height) {
    throw new Error(`cropImage: box ${x},${y} ${width}x${height} is not inside the ${image.width}x${image.height} image`);
  }
  const channels = image.channels;
  const rowBytes = width * channels;
  const pixels = new Uint8Array(height * rowBytes);
  for (let row = 0; row < height; row++) {
    const from = ((y + row) * image.width + x) * channels;
    pixels.set(image.pixels.subarray(from, from + rowBytes), row * rowBytes);
  }
  return { width, height, channels, pixels };
}
