// Test helpers that make images of digits the way users send them, so tests and the evaluation can
// go through the whole path: PNG bytes -> decodeImage -> toMnistTensor -> model.
//
//   renderDigitPng(7, { font: 'DejaVu Serif', weight: 'bold' })  // a printed 7, black on white
//   drawDigitPng(7, { strokeWidth: 6 })                          // a 7 drawn with a round pen
//   mnistDigitPng(pixels, { scale: 10, invert: true })           // an MNIST digit as a PNG
//
// Text and strokes are SVG rendered by sharp (librsvg, fonts through fontconfig). The DejaVu
// fonts come with Debian's fontconfig; where a family is missing, fontconfig substitutes another
// font, so a printed digit is always drawn, but maybe not in the font asked for.

import sharp from 'sharp';

export interface RenderOptions {
  /** Canvas width and height in pixels (default 200). */
  size?: number;
  /** Height of the digit in pixels (default 70% of the canvas). */
  height?: number;
  /** Offset of the digit's centre from the canvas centre, in pixels (default 0, 0). */
  dx?: number;
  dy?: number;
  /** Clockwise rotation about the digit's centre, in degrees (default 0). */
  rotate?: number;
  /** CSS colours of the digit and of the background (default black on white). */
  ink?: string;
  paper?: string;
  /** Encoding (default PNG). JPEG is written at quality 85. */
  format?: 'png' | 'jpeg';
}

export interface FontOptions extends RenderOptions {
  /** Font family (default 'DejaVu Sans'). */
  font?: string;
  weight?: 'normal' | 'bold' | number;
  style?: 'normal' | 'italic' | 'oblique';
}

export interface PenOptions extends RenderOptions {
  /** Width of the pen in canvas pixels (default 8% of the digit's height). */
  strokeWidth?: number;
}

/** Fonts on this Debian machine (fc-list) used by the evaluation: sans, serif, mono, bold, italic, light. */
export const EVAL_FONTS: readonly FontOptions[] = [
  { font: 'DejaVu Sans' },
  { font: 'DejaVu Sans', weight: 'bold' },
  { font: 'DejaVu Sans', style: 'oblique' },
  { font: 'DejaVu Sans', weight: 200 }, // DejaVu Sans ExtraLight
  { font: 'DejaVu Sans Condensed' },
  { font: 'DejaVu Sans Mono' },
  { font: 'DejaVu Sans Mono', weight: 'bold' },
  { font: 'DejaVu Serif' },
  { font: 'DejaVu Serif', weight: 'bold' },
  { font: 'DejaVu Serif', style: 'italic' },
];

// DejaVu's digits are 0.729 em tall, standing on the baseline.
const DIGIT_EM = 0.729;

function checkDigit(digit: number): void {
  if (!Number.isInteger(digit) || digit < 0 || digit > 9) throw new RangeError(`digit must be an integer 0..9, got ${digit}`);
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Frame {
  size: number;
  height: number;
  cx: number;
  cy: number;
}

function frame(o: RenderOptions): Frame {
  const size = o.size ?? 200;
  if (!Number.isInteger(size) || size < 8 || size > 8192) throw new RangeError(`size must be an integer 8..8192, got ${size}`);
  return { size, height: o.height ?? 0.7 * size, cx: size / 2 + (o.dx ?? 0), cy: size / 2 + (o.dy ?? 0) };
}

async function encode(svg: string, o: RenderOptions): Promise<Buffer> {
  const image = sharp(Buffer.from(svg)).flatten({ background: o.paper ?? '#ffffff' });
  return o.format === 'jpeg' ? image.jpeg({ quality: 85 }).toBuffer() : image.png().toBuffer();
}

function svgDocument(f: Frame, o: RenderOptions, body: string): string {
  const paper = escapeXml(o.paper ?? '#ffffff');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.size}" height="${f.size}" viewBox="0 0 ${f.size} ${f.size}">` +
    `<rect width="${f.size}" height="${f.size}" fill="${paper}"/>` +
    `<g transform="rotate(${o.rotate ?? 0} ${f.cx} ${f.cy})">${body}</g></svg>`
  );
}

/** A printed digit: text in a font, centred on the canvas (black on white by default). */
export async function renderDigitPng(digit: number, options: FontOptions = {}): Promise<Buffer> {
  checkDigit(digit);
  const f = frame(options);
  const fontSize = f.height / DIGIT_EM;
  const text =
    `<text x="${f.cx}" y="${f.cy + f.height / 2}" font-family="${escapeXml(options.font ?? 'DejaVu Sans')}" ` +
    `font-weight="${options.weight ?? 'normal'}" font-style="${options.style ?? 'normal'}" font-size="${fontSize}" ` +
    `text-anchor="middle" fill="${escapeXml(options.ink ?? '#000000')}">${digit}</text>`;
  return encode(svgDocument(f, options, text), options);
}

// Pen strokes of each digit as a person draws them, in a 100 x 140 box (y down).
const STROKES: readonly string[] = [
  'M50,6 C96,6 96,134 50,134 C4,134 4,6 50,6',
  'M30,32 L56,6 L56,134',
  'M14,38 C14,-2 90,-2 86,38 C82,70 30,100 10,134 L92,134',
  'M14,22 C38,-2 90,4 86,34 C83,60 56,68 40,68 C62,68 92,78 88,106 C84,142 28,140 10,116',
  'M66,134 L66,6 L8,96 L94,96',
  'M86,6 L26,6 L18,62 C40,48 90,52 90,94 C90,142 28,140 10,118',
  'M80,12 C40,-2 10,50 12,92 C14,142 88,142 88,96 C88,54 30,54 14,90',
  'M8,6 L92,6 L40,134',
  'M50,68 C10,60 14,6 50,6 C86,6 90,60 50,68 C6,76 8,134 50,134 C92,134 94,76 50,68',
  'M86,42 C86,2 14,2 14,42 C14,80 86,80 86,42 L84,134',
];

/** A digit drawn with a round pen (black on white by default), like a canvas drawing. */
export async function drawDigitPng(digit: number, options: PenOptions = {}): Promise<Buffer> {
  checkDigit(digit);
  const f = frame(options);
  const scale = f.height / 140;
  const strokeWidth = options.strokeWidth ?? 0.08 * f.height;
  const path =
    `<path d="${STROKES[digit]}" transform="translate(${f.cx - 50 * scale} ${f.cy - 70 * scale}) scale(${scale})" ` +
    `fill="none" stroke="${escapeXml(options.ink ?? '#000000')}" stroke-width="${strokeWidth / scale}" ` +
    `stroke-linecap="round" stroke-linejoin="round"/>`;
  return encode(svgDocument(f, options, path), options);
}

/**
 * An MNIST digit (784 values in 0..1, white on black) as a greyscale PNG, `scale` times larger
 * (nearest neighbour, default 1), black on white if `invert`.
 */
export async function mnistDigitPng(pixels: ArrayLike<number>, options: { scale?: number; invert?: boolean } = {}): Promise<Buffer> {
  if (pixels.length !== 784) throw new RangeError(`expected 784 pixels, got ${pixels.length}`);
  const scale = options.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1 || scale > 64) throw new RangeError(`scale must be an integer 1..64, got ${scale}`);
  const side = 28 * scale;
  const raw = Buffer.alloc(side * side);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = Math.min(1, Math.max(0, pixels[Math.floor(y / scale) * 28 + Math.floor(x / scale)]!));
      raw[y * side + x] = Math.round((options.invert === true ? 1 - v : v) * 255);
    }
  }
  return sharp(raw, { raw: { width: side, height: side, channels: 1 } }).png().toBuffer();
}
