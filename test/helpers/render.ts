/**
 * Renders test images with sharp's text input and the DejaVu fonts shipped in the
 * `dejavu-fonts-ttf` package, so the fixtures use the same font on any machine, including one
 * with no system fonts at all (Pango is handed the font file, not a family name to look up;
 * checked with FONTCONFIG_FILE pointing at an empty config). The pixels can still differ a
 * little between machines (fontconfig's hinting settings), so tests should compare what a
 * model reads, never image bytes or hashes.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

const require = createRequire(import.meta.url);
const FONT_DIR = join(dirname(require.resolve('dejavu-fonts-ttf/package.json')), 'ttf');

const FONTS = {
  sans: { file: 'DejaVuSans.ttf', family: 'DejaVu Sans' },
  serif: { file: 'DejaVuSerif.ttf', family: 'DejaVu Serif' },
  mono: { file: 'DejaVuSansMono.ttf', family: 'DejaVu Sans Mono' },
} as const;

export type FontName = keyof typeof FONTS;

/** Absolute path of a DejaVu font file from the package. */
export function fontPath(font: FontName = 'sans'): string {
  return join(FONT_DIR, FONTS[font].file);
}

export interface TextLineOptions {
  /** Font size in pixels (points at 72 dpi). Default 36: capitals ~26 px, text box 34 px. */
  size?: number;
  /** White margin around the text box, in pixels. Default 10, so a line is ~54 px high. */
  margin?: number;
  font?: FontName;
  /** 'png' (default) or 'jpeg' (quality 92). */
  format?: 'png' | 'jpeg';
}

/** Escapes text for Pango markup, which sharp's text input always parses. */
function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Renders the text as white coverage on black, cropped to its logical box: 1 channel. */
export async function renderCoverage(text: string, font: FontName, size: number): Promise<{ data: Buffer; width: number; height: number }> {
  const { file, family } = FONTS[font];
  const { data, info } = await sharp({
    text: { text: escapeMarkup(text), font: `${family} ${size}`, fontfile: join(FONT_DIR, file), dpi: 72 },
  })
    .toColourspace('b-w')
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/**
 * One line of black text on a white background, as PNG bytes (the shape of a text-line crop
 * the OCR recogniser expects). With the defaults a line is about 54 px high.
 */
export async function renderTextLine(text: string, opts: TextLineOptions = {}): Promise<Uint8Array> {
  const size = opts.size ?? 36;
  const margin = opts.margin ?? 10;
  const { data, width, height } = await renderCoverage(text, opts.font ?? 'sans', size);
  // Ink = 255 - coverage, done here: sharp applies negate() after extend() whatever the call
  // order, which would turn the white margin black.
  for (let i = 0; i < data.length; i++) data[i] = 255 - data[i]!;
  const image = sharp(data, { raw: { width, height, channels: 1 } })
    .extend({ top: margin, bottom: margin, left: margin, right: margin, background: '#ffffff' })
    .toColourspace('b-w');
  const bytes = opts.format === 'jpeg' ? await image.jpeg({ quality: 92 }).toBuffer() : await image.png().toBuffer();
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

export interface SymbolOptions {
  /** Square canvas side in pixels. Default 256. */
  side?: number;
  /** The glyph's larger side is scaled to this fraction of the canvas. Default 0.7. */
  fill?: number;
  font?: FontName;
}

/**
 * A single symbol ('→', '∑', '∞', 'α', ...) black on white, centred on a square canvas (256 px
 * by default), as PNG bytes. The glyph is rendered large, cropped to its ink and scaled so its
 * larger side fills `fill` of the canvas, so every symbol comes out the same size whatever its
 * natural extent in the font.
 */
export async function renderSymbolPng(char: string, opts: SymbolOptions = {}): Promise<Uint8Array> {
  const side = opts.side ?? 256;
  const target = Math.round(side * (opts.fill ?? 0.7));
  const { data, width, height } = await renderCoverage(char, opts.font ?? 'sans', 200);
  // Crop to the ink (coverage > 0): the logical box includes ascender/descender space.
  let x0 = width, y0 = height, x1 = -1, y1 = -1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      if (data[y * width + x]! > 0) {
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    }
  }
  if (x1 < 0) throw new Error(`renderSymbolPng: ${JSON.stringify(char)} rendered no ink with DejaVu ${opts.font ?? 'sans'}`);
  const inkW = x1 - x0 + 1;
  const inkH = y1 - y0 + 1;
  const scale = target / Math.max(inkW, inkH);
  const w = Math.max(1, Math.round(inkW * scale));
  const h = Math.max(1, Math.round(inkH * scale));
  const { data: glyph, info } = await sharp(data, { raw: { width, height, channels: 1 } })
    .extract({ left: x0, top: y0, width: inkW, height: inkH })
    .resize(w, h, { fit: 'fill' })
    .toColourspace('b-w') // sharp's default output colourspace is sRGB: 3 channels
    .raw()
    .toBuffer({ resolveWithObject: true });
  if (info.channels !== 1 || glyph.length !== w * h) throw new Error(`renderSymbolPng: expected ${w}x${h}x1, got ${info.width}x${info.height}x${info.channels}`);
  for (let i = 0; i < glyph.length; i++) glyph[i] = 255 - glyph[i]!;
  const left = Math.floor((side - w) / 2);
  const top = Math.floor((side - h) / 2);
  const png = await sharp(glyph, { raw: { width: w, height: h, channels: 1 } })
    .extend({ top, bottom: side - h - top, left, right: side - w - left, background: '#ffffff' })
    .toColourspace('b-w')
    .png()
    .toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

/** A pen stroke: points in pixels on the canvas, joined by straight lines. */
export type Stroke = ReadonlyArray<readonly [x: number, y: number]>;

export interface StrokesOptions {
  /** Square canvas side in pixels. Default 256. */
  side?: number;
  /** Pen width in pixels. Default 6. */
  pen?: number;
}

/**
 * Strokes drawn with a round pen, black on white, as PNG bytes: what a user's drawing pad sends,
 * and the kind of input detypify's model was trained on (it was trained on strokes, not font
 * glyphs). Rendered from SVG by sharp's librsvg, so no font is involved.
 */
export async function renderStrokesPng(strokes: readonly Stroke[], opts: StrokesOptions = {}): Promise<Uint8Array> {
  const side = opts.side ?? 256;
  const pen = opts.pen ?? 6;
  const paths = strokes
    .map((stroke) => stroke.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${x.toFixed(1)} ${y.toFixed(1)}`).join(' '))
    .map((d) => `<path d="${d}"/>`)
    .join('');
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${side}" height="${side}">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<g fill="none" stroke="#000" stroke-width="${pen}" stroke-linecap="round" stroke-linejoin="round">${paths}</g></svg>`;
  const png = await sharp(Buffer.from(svg)).toColourspace('b-w').png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}
