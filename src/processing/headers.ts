/**
 * Header checks cheap enough for the main thread, run on every image and audio input before it is
 * queued: the format's magic number and, for images, the width and height the header declares. A
 * file that fails them never takes a queue slot or a worker; the full checks (and the decode)
 * still run in the worker for everything that passes.
 */
import { ImageInputError, AudioInputError } from './errors.ts';
import { ACCEPTED_IMAGE_FORMATS, sniffImageFormat } from './image.ts';

/** JPEG start-of-frame markers (C0-CF, except DHT C4, JPG C8 and DAC CC): they hold the size. */
const isStartOfFrame = (marker: number) => marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;

/** The size a PNG or JPEG header declares, or undefined when the header is not there to read. */
export function declaredImageSize(bytes: Uint8Array): { width: number; height: number } | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const format = sniffImageFormat(bytes);
  if (format === 'png') {
    // Signature (8), then the IHDR chunk: length (4), type (4), width (4), height (4).
    if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
    return { width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (format === 'jpeg') {
    let i = 2;
    while (i + 9 <= bytes.length) {
      if (bytes[i] !== 0xff) return undefined;
      const marker = bytes[i + 1]!;
      if (marker === 0xff) {
        i++; // fill byte
        continue;
      }
      if (isStartOfFrame(marker)) return { height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
        i += 2; // markers without a length
        continue;
      }
      if (marker === 0xda || marker === 0xd9) return undefined; // scan data or the end before any frame header
      i += 2 + view.getUint16(i + 2);
    }
  }
  return undefined;
}

/** Refuses an image that is not a PNG or JPEG, or declares more than `maxPixels` pixels or a side under `minSide`. */
export function checkImageHeader(bytes: Uint8Array, maxPixels: number, minSide = 1): void {
  if (bytes.length === 0) throw new ImageInputError(`image is empty (0 bytes); send a ${ACCEPTED_IMAGE_FORMATS} file`);
  const format = sniffImageFormat(bytes);
  if (format !== 'png' && format !== 'jpeg') {
    const what = format === 'unknown' ? 'not an image format the server recognises' : `${/^[AEIOUSH]/.test(format) ? 'an' : 'a'} ${format} file`;
    throw new ImageInputError(`image is ${what}; only ${ACCEPTED_IMAGE_FORMATS} images are accepted`);
  }
  const size = declaredImageSize(bytes);
  if (!size) return; // a damaged header: the worker's decoder says exactly what is wrong
  const pixels = size.width * size.height;
  if (pixels > maxPixels) {
    throw new ImageInputError(`image is ${size.width}x${size.height} (${pixels} pixels); at most ${maxPixels} pixels are allowed`);
  }
  checkMinSide(size.width, size.height, minSide);
}

/** Refuses an image (a page for a model that reads text) smaller than `minSide` on a side. */
export function checkMinSide(width: number, height: number, minSide: number): void {
  if (width < minSide || height < minSide) {
    throw new ImageInputError(`image is ${width}x${height}; a page must be at least ${minSide} px on each side to hold a line of text`);
  }
}

/** Refuses audio that is not a RIFF/RIFX/RF64 WAVE file. */
export function checkWavHeader(bytes: Uint8Array): void {
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (bytes.length < 12 || !['RIFF', 'RIFX', 'RF64'].includes(ascii(0, 4)) || ascii(8, 12) !== 'WAVE') {
    throw new AudioInputError('audio is not a WAV file (it does not start with a RIFF WAVE header); send a 16-bit PCM WAV file');
  }
}
