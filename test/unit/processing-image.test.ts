/**
 * The image processing functions alone: the resampler, the image decoder and header checks,
 * strict base64, MNIST normalisation, symbol rasterisation, OCR batch layout and CTC decoding.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import { decodeBase64, decodeFloat32Base64 } from '../../src/processing/base64.ts';
import { ImageInputError, InputFormatError } from '../../src/processing/errors.ts';
import { checkImageHeader, checkWavHeader, declaredImageSize } from '../../src/processing/headers.ts';
import { decodeImage, sniffImageFormat, type DecodedImage } from '../../src/processing/image.ts';
import { MNIST_SIZE, strokeWidth, toMnistTensor } from '../../src/processing/mnist.ts';
import { ctcGreedyDecode, groupOcrLines, ocrContentWidth, ocrPaddedWidth, prepareOcrBatch } from '../../src/processing/ocr.ts';
import { resizePixels } from '../../src/processing/resize.ts';
import { SYMBOL_SIZE, toSymbolTensor } from '../../src/processing/symbols.ts';

const LIMITS = { maxBytes: 1_000_000, maxPixels: 1_000_000 };

/** A grey image `width` x `height` of `paper`, with the rectangles in `ink` filled `inkLevel`. */
function grey(width: number, height: number, ink: Array<[x: number, y: number, w: number, h: number]>, paper = 255, inkLevel = 0): DecodedImage {
  const pixels = new Uint8Array(width * height).fill(paper);
  for (const [x0, y0, w, h] of ink) for (let y = y0; y < y0 + h; y++) pixels.fill(inkLevel, y * width + x0, y * width + x0 + w);
  return { width, height, channels: 1, pixels };
}

const png = (image: DecodedImage) => sharp(image.pixels, { raw: { width: image.width, height: image.height, channels: image.channels } }).png().toBuffer();

describe('resizePixels', () => {
  it('keeps a flat image flat, with either filter, shrinking or enlarging', () => {
    for (const filter of ['triangle', 'area'] as const) {
      for (const [w, h] of [[7, 3], [40, 25]] as const) {
        const out = resizePixels(new Uint8Array(20 * 10 * 3).fill(200), 20, 10, 3, w, h, filter);
        assert.equal(out.length, w * h * 3);
        for (const v of out) assert.ok(Math.abs(v - 200) < 1e-3, `${filter} ${w}x${h}: ${v}`);
      }
    }
  });

  it('averages exact blocks when the area filter shrinks by a whole factor', () => {
    const src = Float32Array.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); // 4x4
    assert.deepEqual(Array.from(resizePixels(src, 4, 4, 1, 2, 2, 'area')), [2.5, 4.5, 10.5, 12.5]);
  });

  it('interpolates between pixel centres when enlarging', () => {
    const out = resizePixels(Uint8Array.of(0, 100), 2, 1, 1, 4, 1);
    assert.deepEqual(Array.from(out), [0, 25, 75, 100]);
  });

  it('refuses too few pixels or an empty output', () => {
    assert.throws(() => resizePixels(new Uint8Array(3), 2, 2, 1, 1, 1), /3 values is less than 2x2x1/);
    assert.throws(() => resizePixels(new Uint8Array(4), 2, 2, 1, 0, 1), /bad output size 0x1/);
  });
});

describe('strict base64', () => {
  it('decodes standard base64, with or without a data URL prefix', () => {
    assert.deepEqual(Array.from(decodeBase64('AAEC/w==', 'input.image', 100)), [0, 1, 2, 255]);
    assert.deepEqual(Array.from(decodeBase64('data:image/png;base64,AAEC', 'input.image', 100)), [0, 1, 2]);
  });

  it('refuses what Buffer.from would quietly accept, naming the field and the fault', () => {
    const refuses = (text: string, message: RegExp, max = 100) => assert.throws(() => decodeBase64(text, 'input.image', max), (e: unknown) => e instanceof InputFormatError && message.test(e.message));
    refuses('', /^input.image is empty; send the file's bytes as base64$/);
    refuses('AA EC', /^input.image is not valid base64: character U\+0020 at position 2;/);
    refuses('AA-_', /character "-" at position 2;/);
    refuses('AAE', /its length \(3 characters\) is not a multiple of 4; pad it with "="$/);
    refuses('AAAA'.repeat(1000), /^input.image is too large: about 3000 bytes once decoded; at most 100 bytes are allowed$/);
    refuses('data:image/png,AAAA', /starts like a data URL but is not base64/);
  });

  it('decodes little-endian float32 exactly, and refuses a length that is not whole floats', () => {
    const values = Float32Array.of(1.5, -2, 3.4028234663852886e38);
    assert.deepEqual(Array.from(decodeFloat32Base64(Buffer.from(values.buffer).toString('base64'), 'x')), Array.from(values));
    assert.throws(() => decodeFloat32Base64('AAAAAAA=', 'input.tensor["c"].dataBase64'), (e: unknown) => e instanceof InputFormatError && e.message === 'input.tensor["c"].dataBase64 decodes to 5 bytes; float32 values take 4 bytes each');
    assert.throws(() => decodeFloat32Base64('AA?A', 'x'), /x is not valid base64/);
  });
});

describe('image headers and decoding', () => {
  it('reads the size a PNG or JPEG declares, before any pixel is decoded', async () => {
    const image = grey(30, 20, [[5, 5, 10, 10]]);
    assert.deepEqual(declaredImageSize(new Uint8Array(await png(image))), { width: 30, height: 20 });
    const jpeg = await sharp(image.pixels, { raw: { width: 30, height: 20, channels: 1 } }).jpeg().toBuffer();
    assert.deepEqual(declaredImageSize(new Uint8Array(jpeg)), { width: 30, height: 20 });
    assert.equal(sniffImageFormat(new TextEncoder().encode('GIF89a')), 'GIF');
  });

  it('refuses other formats and too many pixels on the main thread', async () => {
    const image = new Uint8Array(await png(grey(30, 20, [])));
    assert.doesNotThrow(() => checkImageHeader(image, 600));
    assert.throws(() => checkImageHeader(image, 599), (e: unknown) => e instanceof ImageInputError && e.message === 'image is 30x20 (600 pixels); at most 599 pixels are allowed');
    assert.throws(() => checkImageHeader(new TextEncoder().encode('GIF89a...'), 100), (e: unknown) => e instanceof ImageInputError && e.message === 'image is a GIF file; only PNG or JPEG images are accepted');
    assert.throws(() => checkWavHeader(new TextEncoder().encode('OggS....')), /audio is not a WAV file/);
  });

  it('decodes to grey or RGB pixels, flattening transparency onto white and shrinking on request', async () => {
    const rgba = await sharp({ create: { width: 40, height: 20, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }).png().toBuffer();
    const decoded = await decodeImage(new Uint8Array(rgba), LIMITS, 'grey', 10);
    assert.deepEqual([decoded.width, decoded.height, decoded.channels], [10, 5, 1]);
    assert.ok(decoded.pixels.every((v) => v === 255), 'transparent is paper, not ink');
    const rgb = await decodeImage(new Uint8Array(rgba), LIMITS, 'rgb');
    assert.deepEqual([rgb.width, rgb.height, rgb.channels, rgb.pixels.length], [40, 20, 3, 40 * 20 * 3]);
  });

  it('refuses a corrupt file and an image over the limits with what came and what is allowed', async () => {
    const bytes = new Uint8Array(await png(grey(30, 20, [])));
    await assert.rejects(decodeImage(bytes.subarray(0, 40), LIMITS, 'grey'), /^ImageInputError: image looks like a PNG but could not be decoded \(corrupt or truncated data/);
    await assert.rejects(decodeImage(bytes, { maxBytes: 10, maxPixels: 1_000_000 }, 'grey'), /image is \d+ bytes; at most 10 bytes are allowed/);
    await assert.rejects(decodeImage(bytes, { maxBytes: 1_000_000, maxPixels: 100 }, 'grey'), /image is 30x20 \(600 pixels\); at most 100 pixels are allowed/);
  });
});

describe('MNIST normalisation', () => {
  it('turns a dark digit on light paper into a white digit centred by mass in 28x28', () => {
    const bar = grey(200, 300, [[90, 40, 20, 220]]); // a tall "1", off-centre in its canvas
    const levels = Float32Array.from(bar.pixels, (v) => v / 255);
    const out = toMnistTensor(levels, bar.width, bar.height);
    assert.equal(out.length, MNIST_SIZE * MNIST_SIZE);
    let mass = 0;
    let sx = 0;
    let sy = 0;
    let rows = 0;
    for (let y = 0; y < MNIST_SIZE; y++) {
      let inRow = false;
      for (let x = 0; x < MNIST_SIZE; x++) {
        const v = out[y * MNIST_SIZE + x]!;
        assert.ok(v >= 0 && v <= 1);
        mass += v;
        sx += v * x;
        sy += v * y;
        if (v > 0.5) inRow = true;
      }
      if (inRow) rows++;
    }
    assert.ok(Math.abs(sx / mass - 14) <= 0.5 && Math.abs(sy / mass - 14) <= 0.5, `centre of mass ${sx / mass}, ${sy / mass}`);
    assert.equal(rows, 20, 'the longer side fills the 20 px box');
  });

  it('refuses an image with no digit in it', () => {
    const blank = grey(50, 50, []);
    assert.throws(() => toMnistTensor(Float32Array.from(blank.pixels, (v) => v / 255), 50, 50), (e: unknown) => e instanceof ImageInputError && /^no digit found/.test(e.message));
  });

  it('measures stroke width as twice the area over the perimeter', () => {
    const v = new Float32Array(20 * 20);
    for (let y = 0; y < 20; y++) v.fill(1, y * 20 + 8, y * 20 + 11); // a bar 3 px wide, 20 long
    assert.ok(Math.abs(strokeWidth({ w: 20, h: 20, v }) - (2 * 60) / (2 * 20 + 2 * 3)) < 1e-9);
  });
});

describe('symbol rasterisation', () => {
  it('redraws the strokes of a drawing 8 px wide, centred, on black; an empty drawing stays black', () => {
    const blank = toSymbolTensor(grey(100, 100, []));
    assert.equal(blank.length, SYMBOL_SIZE * SYMBOL_SIZE);
    assert.ok(blank.every((v) => v === 0));
    const plus = toSymbolTensor(grey(100, 100, [[20, 48, 60, 4], [48, 20, 4, 60]]));
    const centre = SYMBOL_SIZE / 2;
    assert.equal(plus[centre * SYMBOL_SIZE + centre], 1, 'ink at the crossing, in the middle');
    assert.equal(plus[0], 0, 'black paper');
    // The horizontal stroke spans the 204-px box and is 8 px thick (plus antialiasing).
    let thick = 0;
    for (let y = 0; y < SYMBOL_SIZE; y++) if (plus[y * SYMBOL_SIZE + 30]! >= 0.5) thick++;
    assert.ok(thick >= 7 && thick <= 10, `stroke ${thick} px thick`);
  });
});

describe('OCR layout and decoding', () => {
  const rgb = (width: number, height: number, value = 255): DecodedImage => ({ width, height, channels: 3, pixels: new Uint8Array(width * height * 3).fill(value) });

  it('runs lines of one padded width together, widest first', () => {
    assert.equal(ocrContentWidth({ width: 100, height: 48 }), 100);
    assert.equal(ocrContentWidth({ width: 10_000, height: 10 }), 3200, 'squeezed to the widest the model takes');
    assert.deepEqual([100, 320, 321, 700].map(ocrPaddedWidth), [320, 320, 352, 704]);
    const groups = groupOcrLines([{ width: 100, height: 48 }, { width: 700, height: 48 }, { width: 300, height: 48 }]);
    assert.deepEqual(groups, [{ width: 704, indices: [1] }, { width: 320, indices: [0, 2] }]);
  });

  it('lays lines out as normalised BGR planes, padded with 0 to the batch width', () => {
    const line: DecodedImage = { ...rgb(2, 48), pixels: new Uint8Array(2 * 48 * 3) };
    for (let i = 0; i < 2 * 48; i++) line.pixels.set([255, 0, 51], i * 3); // R = 255, G = 0, B = 51
    const batch = prepareOcrBatch([line, rgb(96, 48, 0)]);
    assert.deepEqual(batch.dims, [2, 3, 48, 320]);
    assert.deepEqual(batch.widths, [2, 96]);
    const plane = 48 * 320;
    assert.deepEqual([batch.data[0], batch.data[plane], batch.data[2 * plane]].map((v) => Math.round(v! * 1000) / 1000), [-0.6, -1, 1], 'B, G, R planes in -1..1');
    assert.equal(batch.data[2], 0, 'the row is padded with 0 (mid-grey once normalised)');
    assert.equal(batch.data[3 * plane], -1, 'the second line is black');
  });

  it('decodes CTC greedily: repeats merged, blanks dropped, spaces trimmed, only the columns of the line', () => {
    const keys = ['', 'a', 'b', ' '];
    // One line of 6 steps: " a a _ a b" with _ the blank.
    const steps = [3, 1, 1, 0, 1, 2];
    const probs = new Float32Array(6 * 4);
    steps.forEach((k, t) => {
      probs[t * 4 + k] = 0.9;
    });
    assert.deepEqual(ctcGreedyDecode(probs, 1, 6, 4, keys), [{ text: 'aab', confidence: Math.fround(0.9) }]);
    assert.deepEqual(ctcGreedyDecode(probs, 1, 6, 4, keys, [8 * 3]), [{ text: 'a', confidence: Math.fround(0.9) }], 'three steps cover 24 columns');
    assert.throws(() => ctcGreedyDecode(probs, 1, 6, 3, keys), /24 values is not 1x6x3/);
  });
});
