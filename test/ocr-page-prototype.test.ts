/**
 * Page OCR end to end, before the server has a multi-stage model kind (issue 18, phase 1): the
 * real PP-OCRv4 detector and recogniser, run in-process by onnxruntime-node, joined by the
 * processing steps of src/processing/ (test/helpers/read-page.ts), on pages rendered here with
 * three DejaVu fonts. Every line must read exactly, in reading order, with its box inside the
 * page and on its ink.
 *
 * The lines are ones the line recogniser reads exactly when each is rendered alone: what the
 * recogniser cannot read on its own (a DejaVu Sans Mono "O" read as "0", "Reference: AB" losing
 * its space) is not the page pipeline's to fix, and is reported by scripts/ocr-page-measure.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeImage } from '../src/processing/image.ts';
import { openPageReader, type PageReader, type PageReading } from './helpers/read-page.ts';
import { renderBlankPage, renderLetterheadPages, renderPage, type BoxTruth, type RenderedPage } from './helpers/render-page.ts';
import type { FontName } from './helpers/render.ts';

const LINES = [
  'Invoice number 2024-0173',
  'The quick brown fox jumps over the lazy dog.',
  'Total due: 1234.56 EUR',
  'Thank you for your business',
  'Meeting moved to Tuesday at 10:30',
  'Please reply before 15 March 2025',
  'PredictQL reads whole pages now',
  'Contact: support@example.com',
  'Delivery takes 3 to 5 working days',
  'Page 2 of 5',
];

const FONTS: FontName[] = ['sans', 'serif', 'mono'];

/** The pages of the matrix: 1, 4 and 10 lines, each at its own size, spacing and margins. */
const LAYOUTS = [
  { lines: 1, size: 36, lineSpacing: 1.5, margin: 60 },
  { lines: 4, size: 28, lineSpacing: 1.5, margin: 40, indent: true },
  { lines: 10, size: 20, lineSpacing: 1.0, margin: { top: 30, right: 50, bottom: 70, left: 25 } }, // single-spaced
];

function area(box: BoxTruth): number {
  return box.width * box.height;
}

function intersection(a: BoxTruth, b: BoxTruth): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Every line read exactly and in order; every box inside the page and on its line's ink. */
function assertReadsPage(reading: PageReading, page: RenderedPage, what: string): void {
  assert.deepEqual(reading.lines.map((line) => line.text), page.lines.map((line) => line.text), what);
  reading.lines.forEach((line, i) => {
    const { box } = line;
    const ink = page.lines[i]!.box;
    const where = `${what}, line ${i + 1} box ${JSON.stringify(box)} ink ${JSON.stringify(ink)}`;
    assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= page.width && box.y + box.height <= page.height, `inside the page: ${where}`);
    // The box is the ink the crop found: the rendered ink up to antialiasing too faint to count.
    const overlap = intersection(box, ink);
    assert.ok(overlap >= 0.9 * area(ink) && overlap >= 0.9 * area(box), `box on its ink: ${where}`);
    assert.ok(line.confidence > 0.8 && line.confidence <= 1, `confidence ${line.confidence}: ${where}`);
  });
}

describe('page OCR prototype (real PP-OCRv4 detector + recogniser, in-process)', () => {
  let reader: PageReader;
  before(async () => {
    reader = await openPageReader({ threads: 1 });
  });
  after(async () => {
    await reader.close();
  });

  for (const font of FONTS) {
    for (const layout of LAYOUTS) {
      it(`${font}: ${layout.lines} line(s) at ${layout.size} px, spacing ${layout.lineSpacing}`, async () => {
        const lines = LINES.slice(0, layout.lines).map((text, i) => ({ text, indent: layout.indent && i % 2 === 1 ? 48 : 0 }));
        const page = await renderPage(lines, { font, size: layout.size, lineSpacing: layout.lineSpacing, margin: layout.margin });
        const { pages } = await reader.read([page.bytes]);
        assertReadsPage(pages[0]!, page, `${font} ${layout.lines} lines`);
      });
    }
  }

  it('reads pages of different sizes, fonts and line counts detected together in one padded batch', async () => {
    const pages = await Promise.all([
      renderPage(LINES.slice(0, 3), { font: 'serif', size: 24 }),
      renderPage(LINES.slice(3, 9), { font: 'mono', size: 22, lineSpacing: 1.2 }),
      renderPage(LINES.slice(9), { font: 'sans', size: 40, margin: 90 }),
    ]);
    const together = await reader.read(pages.map((page) => page.bytes));
    together.pages.forEach((reading, i) => assertReadsPage(reading, pages[i]!, `page ${i + 1} of the batch`));
    // Alone, each page reads the same text from the same crop pixels, with the same boxes: the
    // padding nudges the detector's boxes by a pixel or two, but crops and boxes come from the ink.
    for (const [i, page] of pages.entries()) {
      const alone = (await reader.read([page.bytes])).pages[0]!;
      alone.lines.forEach((line, k) => {
        const batched = together.pages[i]!.lines[k]!;
        assert.equal(line.text, batched.text);
        assert.equal(Buffer.compare(line.crop.pixels, batched.crop.pixels), 0, `page ${i + 1} line ${k + 1}: same crop`);
        assert.deepEqual(line.box, batched.box, `page ${i + 1} line ${k + 1}: same box`);
      });
    }
  });

  it('pages sharing a letterhead and a footer: the shared lines crop to the same pixels on every page', async () => {
    const bodies = [['Dear customer,', 'your order has shipped.'], LINES.slice(4, 7), ['PredictQL reads whole pages now']];
    const pages = await renderLetterheadPages(bodies, { header: { text: 'ACME Trading Company Ltd', size: 36 }, footer: { text: 'Registered in Utopia No. 0042', size: 20, font: 'serif' } }, { size: 28 });
    const { pages: readings } = await reader.read(pages.map((page) => page.bytes));
    readings.forEach((reading, i) => assertReadsPage(reading, pages[i]!, `letter ${i + 1}`));
    for (const which of ['header', 'footer'] as const) {
      const crops = readings.map((reading) => (which === 'header' ? reading.lines[0]! : reading.lines.at(-1)!).crop);
      for (const crop of crops.slice(1)) {
        assert.deepEqual([crop.width, crop.height], [crops[0]!.width, crops[0]!.height], which);
        assert.equal(Buffer.compare(crop.pixels, crops[0]!.pixels), 0, `${which}: same pixels`);
      }
    }
  });

  it('a blank page, a tiny image and a one-pixel image have no lines', async () => {
    const blank = await renderBlankPage(800, 1000);
    const tiny = await renderBlankPage(12, 7, 'jpeg');
    const dot = await renderBlankPage(1, 1);
    const { pages } = await reader.read([blank.bytes, tiny.bytes, dot.bytes]);
    assert.deepEqual(pages.map((page) => [page.lines.length, page.regions]), [[0, 0], [0, 0], [0, 0]]);
    assert.deepEqual([pages[1]!.page.width, pages[1]!.page.height], [32, 32]);
  });

  it('a 300 dpi A4 page (2480 x 3508), shrunk to 960 px for detection, reads exactly from full-resolution crops', async () => {
    // 12 pt at 300 dpi is 50 px; the detector sees it at 960 / 3508 of that, about 14 px.
    const page = await renderPage(LINES.slice(0, 6), { size: 50, lineSpacing: 1.5, width: 2480, height: 3508, margin: 300 });
    const reading = (await reader.read([page.bytes])).pages[0]!;
    assert.deepEqual([reading.page.width, reading.page.height], [672, 960]);
    assertReadsPage(reading, page, 'A4 page');
    const image = await decodeImage(page.bytes, { maxBytes: 50_000_000, maxPixels: 50_000_000 }, 'rgb');
    assert.ok(reading.lines.every((line) => line.crop.height > 50 && line.crop.height < 2 * 50 * 1.3), 'crops are cut from the full-resolution page');
    assert.equal(image.width, 2480);
  });
});
