/**
 * Renders whole text pages for the page-OCR tests: lines of black text on white, in the DejaVu
 * fonts of the `dejavu-fonts-ttf` package (see render.ts: no system fonts needed), with a known
 * truth for every line: its text and the bounding box of its ink in the page's pixels.
 *
 * Each line is rendered on its own by sharp's text input (Pango) and laid onto the page in
 * TypeScript, so the layout (margins, spacing, indents, a letterhead and footer shared between
 * pages) is exact and the truth boxes are measured, not guessed. As with render.ts, pixels may
 * differ a little between machines: compare what a model reads, never bytes.
 */
import sharp from 'sharp';
import { renderCoverage, type FontName } from './render.ts';

export interface BoxTruth {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PageLine {
  text: string;
  /** Defaults to the page's font and size. */
  font?: FontName;
  size?: number;
  /** Extra left offset in pixels (a paragraph indent). Default 0. */
  indent?: number;
}

export interface PageOptions {
  /** Default font and size for lines that name none. Defaults: 'sans', 28 px. */
  font?: FontName;
  size?: number;
  /**
   * Distance from one line's top to the next one's, as a multiple of the line height (the font's
   * ascent + descent, about 1.17 x the size for DejaVu, rounded up to whole pixels). 1 = single
   * spacing as a word processor sets it: one line's descenders and the next one's ascenders are
   * then about 0.15 x the size apart. Default 1.5.
   */
  lineSpacing?: number;
  /** White margin around the text, in pixels. Default 40. */
  margin?: number | { top: number; right: number; bottom: number; left: number };
  /** Page width; default: the widest line plus the margins. Must fit the lines. */
  width?: number;
  /** Page height; default: the lines plus the margins. Must fit the lines (the footer goes at the bottom). */
  height?: number;
  /** A first line set above the others (a letterhead); same font options as a line. */
  header?: PageLine;
  /** A last line set at the bottom margin of the page. */
  footer?: PageLine;
  format?: 'png' | 'jpeg';
}

export interface RenderedPage {
  /** Encoded page (PNG by default). */
  bytes: Uint8Array;
  width: number;
  height: number;
  /** Every line in reading order (header first, footer last), with the box of its ink. */
  lines: Array<{ text: string; box: BoxTruth }>;
}

interface InkLine {
  text: string;
  coverage: Uint8Array;
  width: number;
  height: number;
  indent: number;
  ink: BoxTruth;
}

/**
 * Renders one line on its full line box. sharp's text input crops its output to the ink, which
 * would put every line's baseline somewhere else (a line without descenders is shorter); so the
 * line is rendered after a strut, U+2502 (a box-drawing bar that DejaVu draws over the whole line
 * height, ascent to descent, so that bars join up), whose columns are then blanked. Every line of
 * one font and size thus has the same height and baseline, as in a typeset page.
 */
async function renderLine(line: PageLine, defaults: { font: FontName; size: number }): Promise<InkLine> {
  const font = line.font ?? defaults.font;
  const size = line.size ?? defaults.size;
  const strut = await renderCoverage(STRUT, font, size);
  const { data, width, height } = await renderCoverage(STRUT + line.text, font, size);
  if (height !== strut.height) throw new Error(`renderPage: ${JSON.stringify(line.text)} reaches beyond the line box of DejaVu ${font} ${size}`);
  for (let y = 0; y < height; y++) data.fill(0, y * width, y * width + strut.width);
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
  if (x1 < 0) throw new Error(`renderPage: ${JSON.stringify(line.text)} rendered no ink`);
  // Keep the full line height, but start at the text's first ink column (so margins are exact).
  const inkWidth = x1 - x0 + 1;
  const coverage = new Uint8Array(inkWidth * height);
  for (let y = 0; y < height; y++) coverage.set(data.subarray(y * width + x0, y * width + x1 + 1), y * inkWidth);
  return { text: line.text, coverage, width: inkWidth, height, indent: line.indent ?? 0, ink: { x: 0, y: y0, width: inkWidth, height: y1 - y0 + 1 } };
}

/** A bar over the whole line height in DejaVu fonts, used to find each line's box (renderLine). */
const STRUT = '\u2502';

function margins(margin: PageOptions['margin']): { top: number; right: number; bottom: number; left: number } {
  if (margin === undefined) return { top: 40, right: 40, bottom: 40, left: 40 };
  if (typeof margin === 'number') return { top: margin, right: margin, bottom: margin, left: margin };
  return margin;
}

/** Encodes a grey canvas as PNG (or JPEG, quality 92). */
async function encode(canvas: Uint8Array, width: number, height: number, format: 'png' | 'jpeg' = 'png'): Promise<Uint8Array> {
  const image = sharp(canvas, { raw: { width, height, channels: 1 } }).toColourspace('b-w');
  const bytes = format === 'jpeg' ? await image.jpeg({ quality: 92 }).toBuffer() : await image.png().toBuffer();
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

/**
 * A page of text lines: optional header, the lines top to bottom `lineSpacing` apart, optional
 * footer at the bottom margin. With no `lines` and no header/footer, use `renderBlankPage`.
 */
export async function renderPage(lines: ReadonlyArray<string | PageLine>, opts: PageOptions = {}): Promise<RenderedPage> {
  const defaults = { font: opts.font ?? 'sans', size: opts.size ?? 28 };
  const spacing = opts.lineSpacing ?? 1.5;
  if (!(spacing > 0)) throw new Error(`renderPage: lineSpacing must be positive, got ${spacing}`);
  const m = margins(opts.margin);
  const asLine = (line: string | PageLine): PageLine => (typeof line === 'string' ? { text: line } : line);
  const body = await Promise.all(lines.map((line) => renderLine(asLine(line), defaults)));
  const header = opts.header ? await renderLine(opts.header, defaults) : undefined;
  const footer = opts.footer ? await renderLine(opts.footer, defaults) : undefined;
  const stack = header ? [header, ...body] : body;
  if (stack.length === 0 && !footer) throw new Error('renderPage: no lines; use renderBlankPage for an empty page');

  // Top of each stacked line, then the footer's at the bottom margin.
  const tops: number[] = [];
  let cursor = m.top;
  for (const line of stack) {
    tops.push(cursor);
    cursor += Math.round(line.height * spacing);
  }
  const stackBottom = stack.length > 0 ? tops.at(-1)! + stack.at(-1)!.height : m.top;
  const all = footer ? [...stack, footer] : stack;
  const widest = Math.max(...all.map((line) => line.indent + line.width));
  const width = opts.width ?? m.left + widest + m.right;
  const minHeight = stackBottom + (footer ? Math.round(footer.height * (spacing - 1)) + footer.height : 0) + m.bottom;
  const height = opts.height ?? minHeight;
  if (width < m.left + widest + m.right) throw new Error(`renderPage: width ${width} is less than the widest line ${widest} plus margins`);
  if (height < minHeight) throw new Error(`renderPage: height ${height} is less than the ${minHeight} px the lines need`);
  if (footer) tops.push(height - m.bottom - footer.height);

  const canvas = new Uint8Array(width * height).fill(255);
  const truth: RenderedPage['lines'] = [];
  all.forEach((line, i) => {
    const left = m.left + line.indent;
    const top = tops[i]!;
    for (let y = 0; y < line.height; y++) {
      const row = (top + y) * width + left;
      for (let x = 0; x < line.width; x++) {
        const ink = 255 - line.coverage[y * line.width + x]!;
        if (ink < canvas[row + x]!) canvas[row + x] = ink;
      }
    }
    truth.push({ text: line.text, box: { x: left + line.ink.x, y: top + line.ink.y, width: line.ink.width, height: line.ink.height } });
  });
  return { bytes: await encode(canvas, width, height, opts.format), width, height, lines: truth };
}

/** A white page with no text at all. */
export async function renderBlankPage(width: number, height: number, format: 'png' | 'jpeg' = 'png'): Promise<RenderedPage> {
  return { bytes: await encode(new Uint8Array(width * height).fill(255), width, height, format), width, height, lines: [] };
}

/**
 * Pages that share a letterhead and a footer line (same text, font, size and place on every
 * page, and the same page size), each with its own body: the case where a per-line cache should
 * read the shared lines once.
 */
export async function renderLetterheadPages(
  bodies: ReadonlyArray<ReadonlyArray<string | PageLine>>,
  shared: { header: PageLine; footer: PageLine },
  opts: Omit<PageOptions, 'header' | 'footer'> = {},
): Promise<RenderedPage[]> {
  // Lay every page out once to find a common size, then render them all at it.
  const natural = await Promise.all(bodies.map((lines) => renderPage(lines, { ...opts, ...shared })));
  const width = opts.width ?? Math.max(...natural.map((page) => page.width));
  const height = opts.height ?? Math.max(...natural.map((page) => page.height));
  return Promise.all(bodies.map((lines) => renderPage(lines, { ...opts, ...shared, width, height })));
}
