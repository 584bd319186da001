/**
 * Unit tests of the page-OCR processing steps (issue 18) on synthetic inputs whose answers are
 * known by construction: detector input sizes and values, DB post-processing of hand-made
 * probability maps, reading order, line crops, and the count of text lines in an image. Pure functions, no model: fast.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { dbPostprocess, pageProbabilityMap, textRegions, type ProbabilityMap } from '../../src/processing/db-postprocess.ts';
import { detectionInputSize, detectionTensor, resizeForDetection } from '../../src/processing/detection-input.ts';
import { decodeImage, type DecodedImage } from '../../src/processing/image.ts';
import { lineCrop } from '../../src/processing/line-crop.ts';
import { inkBands, textLineBands } from '../../src/processing/text-lines.ts';
import { otsuThreshold } from '../../src/processing/threshold.ts';
import { readingOrder, readingRows } from '../../src/processing/reading-order.ts';
import { renderPage } from '../helpers/render-page.ts';
import { renderTextLine } from '../helpers/render.ts';

/** A map of zeros with rectangles [x0..x1] x [y0..y1] (inclusive) set to a value. */
function mapWith(width: number, height: number, rects: Array<[x0: number, y0: number, x1: number, y1: number, value?: number]>): ProbabilityMap {
  const data = new Float32Array(width * height);
  for (const [x0, y0, x1, y1, value = 1] of rects) {
    for (let y = y0; y <= y1; y++) data.fill(value, y * width + x0, y * width + x1 + 1);
  }
  return { data, offset: 0, stride: width, width, height };
}

function solidImage(width: number, height: number, rgb: [number, number, number]): DecodedImage {
  const pixels = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) pixels.set(rgb, i * 3);
  return { width, height, channels: 3, pixels };
}

describe('detection input', () => {
  it('keeps pages up to the limit at their size, rounded to multiples of 32, and keeps the scale factors', () => {
    assert.deepEqual(detectionInputSize(721, 221), { imageWidth: 721, imageHeight: 221, width: 736, height: 224, scaleX: 721 / 736, scaleY: 221 / 224 });
    // Nearest multiple, not the next one up: 700 / 32 = 21.9 -> 704, 660 / 32 = 20.6 -> 672, 650 / 32 = 20.3 -> 640.
    assert.equal(detectionInputSize(700, 650).width, 704);
    assert.equal(detectionInputSize(660, 650).height, 640);
  });

  it('shrinks a page whose longer side exceeds the limit, never enlarges one', () => {
    // A4 at 300 dpi: 960 / 3508 of 2480 = 678.7 -> int 678 -> 21.2 x 32 = 672.
    const a4 = detectionInputSize(2480, 3508);
    assert.equal(a4.height, 960);
    assert.equal(a4.width, 672);
    assert.ok(a4.scaleX > 3.6 && a4.scaleY > 3.6);
    const wide = detectionInputSize(5000, 400, 960);
    assert.ok(Math.max(wide.width, wide.height) <= 960);
    assert.equal(detectionInputSize(300, 200).width, 288);
  });

  it('gives a tiny page the smallest input, 32 x 32', () => {
    assert.deepEqual(
      [detectionInputSize(1, 1).width, detectionInputSize(1, 1).height, detectionInputSize(10, 40).height],
      [32, 32, 32],
    );
  });

  it("rounds halves to even like Python's round()", () => {
    assert.equal(detectionInputSize(48, 48).width, 64); // 1.5 -> 2
    assert.equal(detectionInputSize(80, 80).width, 64); // 2.5 -> 2
    assert.equal(detectionInputSize(112, 112).width, 128); // 3.5 -> 4
  });

  it('refuses bad sizes and limits', () => {
    assert.throws(() => detectionInputSize(0, 10), /bad page size/);
    assert.throws(() => detectionInputSize(10, 10, 1000), /multiple of 32/);
  });

  it('normalises with ImageNet mean/std in BGR plane order, as PaddleOCR feeds OpenCV images', () => {
    const { data, dims } = detectionTensor(solidImage(64, 32, [255, 128, 0]));
    assert.deepEqual(dims, [1, 3, 32, 64]);
    const plane = 32 * 64;
    const close = (a: number, b: number) => Math.abs(a - b) < 1e-5;
    assert.ok(close(data[0]!, (0 - 0.485) / 0.229), `B plane ${data[0]}`);
    assert.ok(close(data[plane]!, (128 / 255 - 0.456) / 0.224), `G plane ${data[plane]}`);
    assert.ok(close(data[2 * plane + 100]!, (1 - 0.406) / 0.225), `R plane ${data[2 * plane + 100]}`);
    assert.throws(() => detectionTensor({ width: 2, height: 2, channels: 1, pixels: new Uint8Array(4) }), /channels/);
  });

  it('resizes the page to the detection size with libvips, keeping a flat page flat', async () => {
    const image = solidImage(721, 221, [200, 100, 50]);
    const page = detectionInputSize(image.width, image.height);
    const resized = await resizeForDetection(image, page);
    assert.deepEqual([resized.width, resized.height, resized.channels], [736, 224, 3]);
    assert.ok(resized.pixels.every((v, i) => v === [200, 100, 50][i % 3]));
    const exact = solidImage(64, 32, [1, 2, 3]);
    assert.equal(await resizeForDetection(exact, detectionInputSize(64, 32)), exact, 'already the right size: not copied');
  });
});

describe('DB post-processing', () => {
  const page = (w: number, h: number) => ({ imageWidth: w, imageHeight: h });

  it('finds a rectangle, grows it by area * 1.5 / perimeter and maps it to the page', () => {
    // Columns 10..49, rows 20..29: 39 x 9 between pixel centres; d = 39 * 9 * 1.5 / 96 = 5.48.
    const map = mapWith(100, 60, [[10, 20, 49, 29]]);
    const { boxes, regions, truncated } = dbPostprocess(map, page(100, 60));
    assert.deepEqual([regions, truncated], [1, false]);
    assert.equal(boxes.length, 1);
    assert.deepEqual({ ...boxes[0]!, score: undefined }, { x: 5, y: 15, width: 49, height: 19, score: undefined });
    assert.equal(boxes[0]!.score, 1);
    // The same map for a page twice as large: coordinates scale before rounding.
    const [scaled] = dbPostprocess(map, page(200, 120)).boxes;
    assert.deepEqual([scaled!.x, scaled!.y, scaled!.x + scaled!.width, scaled!.y + scaled!.height], [9, 29, 109, 69]);
  });

  it('binarises above the threshold', () => {
    assert.equal(dbPostprocess(mapWith(40, 40, [[5, 5, 30, 20, 0.29]]), page(40, 40), { boxThreshold: 0 }).regions, 0);
    assert.equal(dbPostprocess(mapWith(40, 40, [[5, 5, 30, 20, 0.5]]), page(40, 40), { threshold: 0.5, boxThreshold: 0 }).regions, 0, 'equal is not above');
    assert.equal(dbPostprocess(mapWith(40, 40, [[5, 5, 30, 20, 0.31]]), page(40, 40), { boxThreshold: 0 }).boxes.length, 1);
  });

  it('drops a region whose mean probability in its box is under the box threshold', () => {
    assert.equal(dbPostprocess(mapWith(60, 40, [[5, 5, 40, 20, 0.55]]), page(60, 40)).boxes.length, 0);
    // An L shape: the box also covers the empty corner, so the mean is lower than the ink's.
    const l = mapWith(60, 60, [[0, 0, 9, 39], [10, 30, 39, 39]]); // 400 + 300 ones in a 40 x 40 box
    const [box] = dbPostprocess(l, page(60, 60), { boxThreshold: 0 }).boxes;
    assert.ok(Math.abs(box!.score - 700 / 1600) < 1e-9, `score ${box!.score}`);
    assert.equal(dbPostprocess(l, page(60, 60)).boxes.length, 0, '0.44 < 0.6');
  });

  it('drops specks whose shorter side (between pixel centres) is under min size', () => {
    const map = mapWith(80, 40, [[5, 5, 60, 7], [5, 20, 60, 23]]); // 2 and 3 between centres
    const { boxes, regions } = dbPostprocess(map, page(80, 40));
    assert.equal(regions, 2);
    assert.equal(boxes.length, 1);
    assert.ok(boxes[0]!.y > 10);
  });

  it('joins pixels that touch diagonally (8-connectivity) and labels that meet later (a U shape)', () => {
    const diagonal = mapWith(40, 40, [[2, 2, 11, 11], [12, 12, 21, 21]]);
    assert.deepEqual(textRegions(diagonal, 0.3), [{ x0: 2, x1: 21, y0: 2, y1: 21 }]);
    const u = mapWith(40, 40, [[2, 2, 5, 20], [20, 2, 23, 20], [2, 21, 23, 24]]);
    assert.deepEqual(textRegions(u, 0.3), [{ x0: 2, x1: 23, y0: 2, y1: 24 }]);
    const apart = mapWith(40, 40, [[2, 2, 5, 5], [7, 2, 10, 5]]);
    assert.equal(textRegions(apart, 0.3).length, 2);
  });

  it('returns regions in raster order of their first pixel', () => {
    const map = mapWith(60, 60, [[30, 40, 50, 50], [40, 5, 55, 15], [2, 5, 20, 15]]);
    assert.deepEqual(textRegions(map, 0.3).map((r) => [r.x0, r.y0]), [[2, 5], [40, 5], [30, 40]]);
  });

  it('clips boxes to the page', () => {
    const [box] = dbPostprocess(mapWith(50, 30, [[0, 0, 30, 10]]), page(50, 30)).boxes;
    assert.deepEqual([box!.x, box!.y], [0, 0]);
    const [edge] = dbPostprocess(mapWith(50, 30, [[20, 15, 49, 29]]), page(50, 30)).boxes;
    assert.deepEqual([edge!.x + edge!.width, edge!.y + edge!.height], [50, 30]);
  });

  it('looks at max candidates regions at most, and says it stopped', () => {
    const specks = mapWith(100, 20, [[0, 0, 9, 9], [20, 0, 29, 9], [40, 0, 49, 9], [60, 0, 69, 9], [80, 0, 89, 9]]);
    const result = dbPostprocess(specks, page(100, 20), { maxCandidates: 2 });
    assert.deepEqual([result.regions, result.truncated, result.boxes.length], [5, true, 2]);
    assert.equal(result.boxes[1]!.x < 40, true, 'the first two in raster order');
  });

  it("reads one page's region of a batch output", () => {
    // Two pages in a [2, 1, 4, 6] output; page 1 is 3 x 2 at its top left.
    const data = new Float32Array(2 * 4 * 6);
    data[24 + 0] = 1;
    data[24 + 6 + 2] = 1;
    data[24 + 5] = 1; // padding column of page 1: outside its region
    const map = pageProbabilityMap(data, [2, 1, 4, 6], 1, { width: 3, height: 2 });
    assert.deepEqual([map.offset, map.stride, map.width, map.height], [24, 6, 3, 2]);
    assert.deepEqual(textRegions(map, 0.3), [{ x0: 0, x1: 0, y0: 0, y1: 0 }, { x0: 2, x1: 2, y0: 1, y1: 1 }]);
    assert.throws(() => pageProbabilityMap(data, [2, 1, 4, 6], 2, { width: 3, height: 2 }), /page 2 of 2/);
    assert.throws(() => pageProbabilityMap(data, [2, 1, 4, 6], 0, { width: 7, height: 2 }), /larger than the map/);
  });

  it('finds nothing on an empty map', () => {
    assert.deepEqual(dbPostprocess(mapWith(32, 32, []), page(32, 32)), { boxes: [], regions: 0, truncated: false });
  });
});

describe('reading order', () => {
  const box = (name: string, x: number, y: number, width: number, height: number) => ({ name, x, y, width, height });

  it('reads rows top to bottom and boxes in a row left to right, whatever the input order', () => {
    const boxes = [
      box('row2-right', 300, 62, 100, 22),
      box('row1-left', 10, 10, 200, 24),
      box('row3', 10, 100, 380, 24),
      box('row1-right', 250, 14, 120, 18), // starts lower than row1-left, same row
      box('row2-left', 10, 60, 200, 24),
    ];
    assert.deepEqual(readingOrder(boxes).map((b) => b.name), ['row1-left', 'row1-right', 'row2-left', 'row2-right', 'row3']);
    assert.deepEqual(readingRows(boxes).map((row) => row.length), [2, 2, 1]);
  });

  it('keeps consecutive lines apart although their grown boxes overlap a little', () => {
    // Boxes 30 high, 26 apart: 4 rows of overlap (13% of a height).
    const lines = [box('a', 10, 10, 300, 30), box('b', 12, 36, 280, 30), box('c', 8, 62, 310, 30)];
    assert.deepEqual(readingRows(lines).map((row) => row.map((b) => b.name)), [['a'], ['b'], ['c']]);
  });

  it('puts a small box that overlaps a tall one by half its own height in the same row', () => {
    const rows = readingRows([box('title', 10, 10, 300, 60), box('page-number', 500, 40, 30, 20), box('next', 10, 80, 300, 20)]);
    assert.deepEqual(rows.map((row) => row.map((b) => b.name)), [['title', 'page-number'], ['next']]);
  });

  it('handles no boxes and refuses a bad overlap fraction', () => {
    assert.deepEqual(readingOrder([]), []);
    assert.throws(() => readingRows([], 0), /sameRowOverlap/);
  });
});

describe('crops', () => {
  it("Otsu's threshold falls between the two modes of a bimodal histogram", () => {
    const histogram = new Array<number>(256).fill(0);
    histogram[20] = 300;
    histogram[30] = 200;
    histogram[220] = 2000;
    histogram[240] = 1500;
    const t = otsuThreshold(histogram);
    assert.ok(t >= 30 && t < 220, `threshold ${t}`);
  });

  /** A page of `background` grey with dark (10) blocks [x0..x1] x [y0..y1]. */
  function blockPage(width: number, height: number, background: number, blocks: Array<[number, number, number, number]>): DecodedImage {
    const pixels = new Uint8Array(width * height * 3).fill(background);
    for (const [x0, y0, x1, y1] of blocks) {
      for (let y = y0; y <= y1; y++) pixels.fill(10, (y * width + x0) * 3, (y * width + x1 + 1) * 3);
    }
    return { width, height, channels: 3, pixels };
  }

  it("line crop: the line's own ink plus the margin, neighbours' ink painted with the paper colour", () => {
    const page = blockPage(120, 80, 200, [
      [20, 30, 29, 41], // own glyph
      [40, 30, 49, 45], // own glyph with a "descender" below the box (the box ends at row 42)
      [30, 10, 39, 25], // the line above: its "descender" reaches row 25, inside the crop
      [25, 47, 34, 60], // the line below: its "ascender" starts at row 47, inside the crop
    ]);
    const line = { x: 18, y: 29, width: 34, height: 14 };
    const above = { x: 28, y: 6, width: 14, height: 18 };
    const below = { x: 23, y: 48, width: 14, height: 14 };
    const { image: crop, ink } = lineCrop(page, line, [above, line, below], { margin: 0.5, minMargin: 0 });
    // Own ink spans columns 20..49 and rows 30..45 (16 high): margin 8 on every side.
    assert.deepEqual([crop.width, crop.height, crop.channels], [46, 32, 3]);
    assert.deepEqual(ink, { x: 20, y: 30, width: 30, height: 16 });
    const at = (px: number, py: number) => crop.pixels[((py - 22) * crop.width + (px - 12)) * 3]!;
    assert.equal(at(25, 35), 10, 'own glyph kept');
    assert.equal(at(45, 45), 10, 'own glyph kept below the box');
    assert.equal(at(35, 24), 200, 'line above painted');
    assert.equal(at(30, 50), 200, 'line below painted');
    assert.equal(at(13, 23), 200, 'margin');
    // The same ink found from a box a pixel off gives the same pixels (what a crop cache needs).
    const moved = lineCrop(page, { x: 19, y: 28, width: 35, height: 15 }, [above, below], { margin: 0.5, minMargin: 0 }).image;
    assert.deepEqual([moved.width, moved.height, Buffer.compare(moved.pixels, crop.pixels)], [46, 32, 0]);
  });

  it('line crop: a neighbour glyph outside every box goes to the nearest box, not to the line it happens to overlap', () => {
    // A full stop ending the line above, right of that line's box but above this line's box.
    const page = blockPage(120, 60, 255, [[10, 30, 59, 41], [64, 20, 66, 22], [10, 10, 59, 22]]);
    const line = { x: 8, y: 28, width: 70, height: 16 };
    const above = { x: 8, y: 8, width: 54, height: 16 };
    const crop = lineCrop(page, line, [above], { margin: 0.25, minMargin: 0 }).image; // ink 12 high: margin 3
    assert.deepEqual([crop.width, crop.height], [56, 18]);
    assert.ok(crop.pixels.every((v, i) => v === 255 || (Math.floor(i / 3) % 56 >= 3 && Math.floor(i / 3) % 56 < 53)), 'only the own bar is ink');
  });

  it('line crop: beyond the page is paper; margin 0 is the ink box; no ink falls back to the box', () => {
    const page = blockPage(40, 30, 255, [[0, 10, 9, 19]]);
    const edge = lineCrop(page, { x: 0, y: 10, width: 10, height: 10 }, [], { margin: 0.5, minMargin: 0 }).image;
    assert.deepEqual([edge.width, edge.height], [20, 20]);
    assert.equal(edge.pixels[0], 255, 'left of and above the page: paper');
    assert.equal(edge.pixels[(5 * 20 + 5) * 3], 10, 'ink');
    const tight = lineCrop(page, { x: 0, y: 9, width: 12, height: 12 }, [], { margin: 0, minMargin: 0 }).image;
    assert.deepEqual([tight.width, tight.height], [10, 10]);
    assert.ok(tight.pixels.every((v) => v === 10));
    const blank = lineCrop(blockPage(40, 30, 255, []), { x: 5, y: 5, width: 10, height: 8 }, [], { margin: 0.5, minMargin: 0 });
    assert.deepEqual([blank.image.width, blank.image.height], [18, 16]);
    assert.deepEqual(blank.ink, { x: 5, y: 5, width: 10, height: 8 });
    // Small ink gets at least minMargin pixels (8 by default): 10 high x 0.4 = 4 -> 8.
    assert.deepEqual([lineCrop(page, { x: 0, y: 10, width: 10, height: 10 }, []).image.height], [26]);
    assert.throws(() => lineCrop(page, { x: 0, y: 0, width: 10, height: 10 }, [], { margin: -1 }), /margin/);
    assert.throws(() => lineCrop(page, { x: 0, y: 0, width: 10, height: 10 }, [], { minMargin: 1.5 }), /minMargin/);
  });
});

describe('text lines in an image (the ocr model refusing a page)', () => {
  /** A white image with dark bars [x0, y0, width, height]: stand-ins for lines and marks. */
  const bars = (width: number, height: number, rects: Array<[number, number, number, number]>, paper = 255, ink = 20) => {
    const pixels = new Uint8Array(width * height).fill(paper);
    for (const [x0, y0, w, h] of rects) for (let y = y0; y < y0 + h; y++) pixels.fill(ink, y * width + x0, y * width + x0 + w);
    return { width, height, channels: 1 as const, pixels };
  };

  it('finds each line of a page as a band of inked rows, top to bottom', () => {
    const page = bars(300, 120, [[10, 10, 200, 20], [10, 45, 150, 22], [10, 90, 250, 20]]);
    assert.deepEqual(textLineBands(page), [
      { top: 10, bottom: 29, left: 10, right: 209 },
      { top: 45, bottom: 66, left: 10, right: 159 },
      { top: 90, bottom: 109, left: 10, right: 259 },
    ]);
  });

  it('does not count what sits on rows of its own above or below one line: accents, dots, an underline, specks', () => {
    // A line 24 px high, an accent row of 4 px above it, an underline of 2 px below, a speck.
    const line = bars(300, 80, [[20, 20, 200, 24], [60, 12, 10, 4], [20, 50, 200, 2], [280, 70, 3, 3]]);
    assert.equal(inkBands(line).length, 4);
    assert.equal(textLineBands(line).length, 1);
    // A lone ':' (two dots as tall as they are wide): not two lines.
    assert.equal(textLineBands(bars(40, 60, [[15, 10, 10, 10], [15, 40, 10, 10]])).length, 0);
  });

  it('reads light text on a dark background too, and finds nothing on a blank or low-contrast image', () => {
    assert.equal(textLineBands(bars(300, 100, [[10, 10, 200, 20], [10, 60, 200, 20]], 30, 230)).length, 2);
    assert.deepEqual(textLineBands(bars(100, 50, [])), []);
    assert.deepEqual(textLineBands(bars(100, 50, [[10, 10, 80, 30]], 200, 180)), []);
  });

  it('reads RGB images by their luminance', () => {
    const grey = bars(200, 80, [[10, 10, 150, 16], [10, 50, 150, 16]]);
    const rgb = { width: 200, height: 80, channels: 3 as const, pixels: new Uint8Array(200 * 80 * 3) };
    grey.pixels.forEach((v, i) => rgb.pixels.set([v, v, v], i * 3));
    assert.deepEqual(textLineBands(rgb), textLineBands(grey));
  });
});

describe('text lines in rendered images', () => {
  // Single lines that have parts on rows of their own (accents, dots, underscores, descenders),
  // in three fonts from small to large: none may count as several lines.
  const SINGLE = ['Hello World 2024', 'ÉTÉ À PARIS', 'Ünïcödé jig', 'a_b under_score', 'gjpqy', 'iii', ':', ';', '"quoted"', '...', 'Invoice 10007: total 0.00 EUR'];

  it('calls no single rendered line several lines, and finds every line of rendered pages', async () => {
    const limits = { maxBytes: 10_000_000, maxPixels: 10_000_000 };
    for (const font of ['sans', 'serif', 'mono'] as const) {
      for (const size of [12, 20, 36, 64]) {
        for (const text of SINGLE) {
          const image = await decodeImage(await renderTextLine(text, { font, size }), limits, 'rgb');
          assert.ok(textLineBands(image).length <= 1, `${font} ${size} px ${JSON.stringify(text)}: ${JSON.stringify(inkBands(image))}`);
        }
        const page = await renderPage(['Invoice number 2024-0173', 'Total due: 1234.56 EUR', 'Thank you'], { font, size, lineSpacing: 1.0 });
        assert.equal(textLineBands(await decodeImage(page.bytes, limits, 'rgb')).length, 3, `${font} ${size} px page`);
      }
    }
  });
});
