/**
 * The canonical runtime decoder for images sent to the API: bytes (usually from base64 in a
 * GraphQL variable) -> raw 8-bit pixels, grey or RGB, ready for a model's own preprocessing.
 *
 * Untrusted input is checked in order of cost, so a hostile payload is refused as early as
 * possible: size of the bytes, magic number (PNG or JPEG only; libvips never gets to try its SVG,
 * PDF or TIFF loaders), then the header alone (sharp's metadata() reads no pixel data) for the
 * dimensions, and only then the pixels, still with `limitInputPixels` so a header that lies
 * cannot make libvips allocate more than the limit. Corrupt or truncated pixel data fails with
 * `failOn: 'error'` (the default 'warning' also refuses valid JPEGs that libjpeg merely warns
 * about).
 *
 * Every refusal is an ImageInputError whose message says what came and what is allowed.
 */
import sharp from 'sharp';
import type { Metadata, OutputInfo } from 'sharp';
import type { RawImage } from '../domain/types.ts';
import { ImageInputError } from './errors.ts';

/** Raw pixels, row-major, channels interleaved (RGBRGB... or one grey byte per pixel). */
export type DecodedImage = RawImage;

export interface ImageLimits {
  /** Largest accepted encoded size, in bytes. */
  maxBytes: number;
  /** Largest accepted width x height (after EXIF orientation; the product is the same). */
  maxPixels: number;
}

export type ImageChannels = 'grey' | 'rgb';

/** The formats the API accepts, in the words its error messages use. */
export const ACCEPTED_IMAGE_FORMATS = 'PNG or JPEG';

/**
 * Decodes a PNG or JPEG into 8-bit pixels, grey (1 channel) or sRGB (3 channels).
 *
 * - The format is taken from the bytes (magic number, then sharp's header parse), never from a
 *   file name or MIME type the caller claims.
 * - Alpha is flattened onto white: users' drawings and scans with transparent backgrounds are
 *   meant as ink on paper, and every model here was trained on light backgrounds (the symbol
 *   classifier inverts afterwards).
 * - EXIF orientation is applied, so a phone photo is upright as the user saw it.
 * - 16-bit PNGs are reduced to 8 bits; CMYK JPEGs converted to sRGB.
 *
 * `pixels` may be a view on a Buffer that sharp allocated outside the V8 heap; copy it
 * (`pixels.slice()`) before transferring it to another thread.
 */
export async function decodeImage(
  bytes: Uint8Array,
  limits: ImageLimits,
  channels: ImageChannels,
  /** Shrink while decoding so that neither side exceeds this (aspect kept); for models that downscale anyway. */
  shrinkTo?: number,
): Promise<DecodedImage> {
  if (bytes.length === 0) {
    throw new ImageInputError(`image is empty (0 bytes); send a ${ACCEPTED_IMAGE_FORMATS} file`);
  }
  if (bytes.length > limits.maxBytes) {
    throw new ImageInputError(`image is ${bytes.length} bytes; at most ${limits.maxBytes} bytes are allowed`);
  }
  const sniffed = sniffImageFormat(bytes);
  if (sniffed !== 'png' && sniffed !== 'jpeg') {
    const what =
      sniffed === 'unknown' ? 'not an image format the server recognises' : `${/^[AEIOUSH]/.test(sniffed) ? 'an' : 'a'} ${sniffed} file`;
    throw new ImageInputError(`image is ${what}; only ${ACCEPTED_IMAGE_FORMATS} images are accepted`);
  }

  const input = { limitInputPixels: limits.maxPixels, failOn: 'error', autoOrient: true } as const;
  let meta: Metadata;
  try {
    // No pixel limit here: metadata() reads the header only, and with the limit sharp would
    // refuse a too-large image with its own vague "exceeds pixel limit" instead of the sizes.
    meta = await sharp(bytes, { ...input, limitInputPixels: false }).metadata();
  } catch (error) {
    throw corrupt(sniffed, error);
  }
  // The magic number and the parsed header must agree (a PNG signature followed by JPEG data is
  // not an image anyone meant to send).
  if (meta.format !== sniffed) {
    throw new ImageInputError(
      `image starts like a ${sniffed.toUpperCase()} but its header reads as ${meta.format}; only ${ACCEPTED_IMAGE_FORMATS} images are accepted`,
    );
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!(width > 0 && height > 0)) {
    throw new ImageInputError(`image has no pixels (${width}x${height}); send a ${ACCEPTED_IMAGE_FORMATS} image with content`);
  }
  checkDimensions(width, height, limits);

  let pipeline = sharp(bytes, input).flatten({ background: '#ffffff' });
  if (shrinkTo !== undefined && Math.max(width, height) > shrinkTo) {
    pipeline = pipeline.resize({ width: shrinkTo, height: shrinkTo, fit: 'inside', withoutEnlargement: true });
  }
  pipeline = channels === 'grey' ? pipeline.toColourspace('b-w') : pipeline.toColourspace('srgb');
  let decoded: { data: Buffer; info: OutputInfo };
  try {
    decoded = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw corrupt(sniffed, error);
  }
  const { data, info } = decoded;
  const want = channels === 'grey' ? 1 : 3;
  if (info.channels !== want || data.length !== info.width * info.height * want) {
    // Not the user's fault: a sharp/libvips behaviour this module did not expect.
    throw new Error(
      `decodeImage: expected ${info.width}x${info.height}x${want} bytes, sharp gave ${data.length} bytes with ${info.channels} channels`,
    );
  }
  return {
    width: info.width,
    height: info.height,
    channels: want,
    pixels: new Uint8Array(data.buffer, data.byteOffset, data.length),
  };
}

/** Refuses an image over the pixel limit, with a message that gives the numbers both ways. */
function checkDimensions(width: number, height: number, limits: ImageLimits): void {
  const pixels = width * height;
  if (pixels > limits.maxPixels) {
    throw new ImageInputError(
      `image is ${width}x${height} (${pixels} pixels); at most ${limits.maxPixels} pixels are allowed`,
    );
  }
}

function corrupt(format: 'png' | 'jpeg', error: unknown): ImageInputError {
  // libvips' messages name the loader and the fault ("VipsJpeg: Premature end of input file");
  // the first line is useful to a user, the rest is noise.
  const reason = error instanceof Error ? (error.message.split('\n')[0] ?? '').trim() : '';
  return new ImageInputError(
    `image looks like a ${format.toUpperCase()} but could not be decoded (corrupt or truncated data${reason ? `: ${reason}` : ''})`,
  );
}

type SniffedFormat = 'png' | 'jpeg' | 'GIF' | 'WebP' | 'BMP' | 'TIFF' | 'SVG' | 'PDF' | 'HEIF/AVIF' | 'unknown';

/**
 * Names the format from the first bytes. Only PNG and JPEG pass; the others are named so the
 * error can tell a user "image is a WebP file" instead of a bare "unsupported".
 */
export function sniffImageFormat(bytes: Uint8Array): SniffedFormat {
  const at = (i: number): number => bytes[i] ?? -1;
  const ascii = (from: number, text: string): boolean => {
    for (let i = 0; i < text.length; i++) if (at(from + i) !== text.charCodeAt(i)) return false;
    return true;
  };
  if (at(0) === 0x89 && ascii(1, 'PNG\r\n\x1a\n')) return 'png';
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'jpeg';
  if (ascii(0, 'GIF8')) return 'GIF';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'WebP';
  if (ascii(0, 'BM')) return 'BMP';
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*')) return 'TIFF';
  if (ascii(0, '%PDF')) return 'PDF';
  if (ascii(4, 'ftyp')) return 'HEIF/AVIF';
  const head = new TextDecoder('latin1').decode(bytes.subarray(0, 256)).trimStart().toLowerCase();
  if (head.startsWith('<svg') || (head.startsWith('<?xml') && head.includes('<svg'))) return 'SVG';
  return 'unknown';
}
