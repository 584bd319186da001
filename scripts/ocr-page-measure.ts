/**
 * Issue 18, phase 1: what page OCR reads and what each stage costs, before it is a served model.
 * Run it under the exclusive CPU lock (it times things):
 *
 *   flock -x /tmp/predictql-cpu.lock node --import tsx scripts/ocr-page-measure.ts [accuracy] [timings] [naive]
 *
 * - accuracy: 480 rendered lines (3 DejaVu fonts x 4 sizes x single and 1.5 spacing x 2 texts of
 *   10 lines) read by the prototype page reader (test/helpers/read-page.ts) with its line crops,
 *   with the detector's bare boxes as crops, and each line rendered alone and read by the
 *   recogniser (what the `ocr` line model would say: the recogniser's own ceiling); then
 *   @gutenye/ocr-node on the same pages. MARGINS=0.3,0.5/0 adds columns for other line-crop
 *   margins (fraction of the ink height, optionally /smallest margin in px).
 * - timings: per-stage milliseconds with one ONNX Runtime thread on typical pages, detection alone
 *   at fixed sizes, and recognition with and without batching the lines.
 * - naive: pages/s of @gutenye/ocr-node (the same PP-OCRv4 models, everything on the calling
 *   thread) with ONNX Runtime's default threads and with one, against the prototype reader, on
 *   the same pages, and whether each reads them right.
 *
 * Prints markdown tables (docs/multi-stage-models.md quotes them). Numbers drift between runs on
 * this shared machine; compare within one run.
 */
import Ocr from '@gutenye/ocr-node';
import * as ort from 'onnxruntime-node';
import { prepareDetectionBatch } from '../src/processing/detection-input.ts';
import { decodeImage } from '../src/processing/image.ts';
import { ctcGreedyDecode, loadOcrKeys, prepareOcrBatch } from '../src/processing/ocr.ts';
import { DETECTOR_PATH, KEYS_PATH, openPageReader, RECOGNISER_PATH, type PageReader, type StageTimings } from '../test/helpers/read-page.ts';
import { renderLetterheadPages, renderPage, type RenderedPage } from '../test/helpers/render-page.ts';
import { renderTextLine, type FontName } from '../test/helpers/render.ts';

const TEXTS = {
  invoice: [
    'Invoice number 2024-0173', 'The quick brown fox jumps over the lazy dog.', 'Total due: 1234.56 EUR', 'Thank you for your business',
    'Meeting moved to Tuesday at 10:30', 'Please reply before 15 March 2025', 'PredictQL reads whole pages now', 'Contact: support@example.com',
    'Order 7731 shipped in 3 boxes', 'Page 2 of 5',
  ],
  letter: [
    'Dear Ms. Fischer,', 'We received your letter of 2 June.', 'Your account balance is 98.40 USD', 'Delivery takes 3 to 5 working days',
    'Call us on +44 20 7946 0958', 'Keep this receipt for your records', 'Room 214, second floor, east wing', 'All prices include 20% VAT',
    'Yours sincerely, John Miller', 'Reference: AB-55/2025',
  ],
};
const FONTS: FontName[] = ['sans', 'serif', 'mono'];
const SIZES = [16, 20, 28, 36];
const SPACINGS = [1.0, 1.5];
const LIMITS = { maxBytes: 100_000_000, maxPixels: 100_000_000 };

type Tally = Map<string, { ok: number; total: number }>;

function count(tally: Tally, keys: string[], ok: boolean): void {
  for (const key of keys) {
    const entry = tally.get(key) ?? { ok: 0, total: 0 };
    entry.total++;
    if (ok) entry.ok++;
    tally.set(key, entry);
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms.toFixed(1));

interface GutenyeLine {
  text: string;
  mean: number;
}
type Gutenye = { detect(image: string): Promise<GutenyeLine[]> };

function openGutenye(threads?: number): Promise<Gutenye> {
  return Ocr.create(threads ? { onnxOptions: { intraOpNumThreads: threads, interOpNumThreads: 1 } } : {}) as Promise<Gutenye>;
}

/** @gutenye/ocr-node takes a path; sharp, which it opens the image with, takes bytes too. */
function gutenyeRead(ocr: Gutenye, page: RenderedPage): Promise<GutenyeLine[]> {
  return ocr.detect(Buffer.from(page.bytes) as unknown as string);
}

/** The recogniser alone on one line rendered by itself: the `ocr` line model's view. */
async function openLineRecogniser(): Promise<(text: string, font: FontName, size: number) => Promise<string>> {
  const session = await ort.InferenceSession.create(RECOGNISER_PATH, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const keys = loadOcrKeys(KEYS_PATH);
  return async (text, font, size) => {
    const image = await decodeImage(await renderTextLine(text, { font, size }), LIMITS, 'rgb');
    const batch = prepareOcrBatch([image], { height: 48, maxWidth: 3200 });
    const output = (await session.run({ x: new ort.Tensor('float32', batch.data, batch.dims) }))['softmax_11.tmp_0']!;
    const [n, t, c] = output.dims as [number, number, number];
    return ctcGreedyDecode(output.data as Float32Array, n, t, c, keys, batch.widths)[0]!.text;
  };
}

function tallyTable(title: string, columns: Array<[string, Tally]>, keys: string[]): string {
  const head = `| ${title} | ${columns.map(([name]) => name).join(' | ')} |\n|---|${columns.map(() => '---').join('|')}|\n`;
  return (
    head +
    keys
      .map((key) => `| ${key} | ${columns.map(([, tally]) => { const e = tally.get(key); return e ? `${e.ok}/${e.total}` : '-'; }).join(' | ')} |`)
      .join('\n')
  );
}

async function accuracy(): Promise<void> {
  const pages: Array<{ font: FontName; size: number; spacing: number; page: RenderedPage }> = [];
  for (const spacing of SPACINGS) {
    for (const font of FONTS) {
      for (const size of SIZES) {
        for (const lines of Object.values(TEXTS)) pages.push({ font, size, spacing, page: await renderPage(lines, { font, size, lineSpacing: spacing }) });
      }
    }
  }
  const lineCrops = await openPageReader();
  const boxCrops = await openPageReader({ crop: 'box' });
  const margins = (process.env.MARGINS ?? '').split(',').filter(Boolean);
  const otherMargins = await Promise.all(
    margins.map(async (margin) => {
      const [fraction, min] = margin.split('/').map(Number);
      return { margin, reader: await openPageReader({ cropMargin: fraction, ...(min === undefined ? {} : { cropMinMargin: min }) }), tally: new Map() as Tally };
    }),
  );
  const alone = await openLineRecogniser();
  const gutenye = await openGutenye(1);
  const tallies = { line: new Map(), box: new Map(), alone: new Map(), pipeline: new Map(), gutenye: new Map() } satisfies Record<string, Tally>;
  const failures: string[] = [];
  for (const { font, size, spacing, page } of pages) {
    const keys = [font, `${size} px`, `spacing ${spacing}`, 'all'];
    const [byLine, byBox, byGutenye] = [
      (await lineCrops.read([page.bytes])).pages[0]!.lines.map((l) => l.text),
      (await boxCrops.read([page.bytes])).pages[0]!.lines.map((l) => l.text),
      (await gutenyeRead(gutenye, page)).map((l) => l.text),
    ];
    for (const other of otherMargins) {
      const texts = (await other.reader.read([page.bytes])).pages[0]!.lines.map((l) => l.text);
      page.lines.forEach((line, i) => count(other.tally, keys, texts[i] === line.text));
    }
    for (const [i, { text }] of page.lines.entries()) {
      const standalone = (await alone(text, font, size)) === text;
      count(tallies.line, keys, byLine[i] === text);
      count(tallies.box, keys, byBox[i] === text);
      count(tallies.alone, keys, standalone);
      if (standalone) count(tallies.pipeline, keys, byLine[i] === text);
      count(tallies.gutenye, keys, byGutenye[i] === text);
      if (byLine[i] !== text) failures.push(`${font} ${size} px, spacing ${spacing}: ${JSON.stringify(byLine[i])} for ${JSON.stringify(text)}${standalone ? '' : ' (alone too)'}`);
    }
    if (byLine.length !== page.lines.length) failures.push(`${font} ${size} px, spacing ${spacing}: ${byLine.length} lines found, ${page.lines.length} set`);
  }
  await Promise.all([lineCrops.close(), boxCrops.close(), ...otherMargins.map((other) => other.reader.close())]);
  console.log('\n### Lines read exactly\n');
  console.log(
    tallyTable(
      'pages',
      [
        ['line crops (prototype)', tallies.line],
        ...otherMargins.map(({ margin, tally }): [string, Tally] => [`line crops, margin ${margin}`, tally]),
        ['bare detector boxes', tallies.box],
        ['each line alone (recogniser ceiling)', tallies.alone],
        ['line crops, of lines read alone', tallies.pipeline],
        ['@gutenye/ocr-node', tallies.gutenye],
      ],
      ['all', ...FONTS, ...SIZES.map((s) => `${s} px`), ...SPACINGS.map((s) => `spacing ${s}`)],
    ),
  );
  console.log(`\nPrototype misreads (${failures.length}):\n\n${failures.map((f) => `- ${f}`).join('\n')}`);
}

function sumStages(t: StageTimings): number {
  return Object.values(t).reduce((a, b) => a + b, 0);
}

async function typicalPages(): Promise<Array<{ name: string; page: RenderedPage }>> {
  const body = [...TEXTS.invoice, ...TEXTS.letter];
  return [
    { name: '4 lines, 28 px (~720x240)', page: await renderPage(TEXTS.invoice.slice(0, 4), { size: 28 }) },
    { name: '10 lines, 20 px, single-spaced (~530x320)', page: await renderPage(TEXTS.letter, { size: 20, lineSpacing: 1 }) },
    { name: 'letter at 150 dpi, 30 lines, 22 px (1275x1650)', page: await renderPage([...body, ...TEXTS.invoice], { size: 22, lineSpacing: 1.6, width: 1275, height: 1650, margin: 150 }) },
    { name: 'A4 at 300 dpi, 40 lines, 42 px (2480x3508)', page: await renderPage([...body, ...body], { size: 42, lineSpacing: 1.45, width: 2480, height: 3508, margin: 250 }) },
  ];
}

async function timings(): Promise<void> {
  const reader = await openPageReader({ threads: 1 });
  const pages = await typicalPages();
  for (const { page } of pages) await reader.read([page.bytes]); // warm-up: JIT, first-run allocations
  console.log('\n### Per-stage time, one ONNX Runtime thread (median of 3 runs after a warm-up, ms)\n');
  console.log('| page | lines | decode | detect: prepare | detect: run | DB post-process | crops | recognise: prepare | recognise: run | CTC decode | total | recognition per line |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { name, page } of pages) {
    const runs: StageTimings[] = [];
    let lines = 0;
    for (let r = 0; r < 3; r++) {
      const result = await reader.read([page.bytes]);
      runs.push(result.timings);
      lines = result.pages[0]!.lines.length;
    }
    const stage = (key: keyof StageTimings) => median(runs.map((t) => t[key]));
    const perLine = median(runs.map((t) => (t.recognisePrepareMs + t.recogniseRunMs + t.ctcDecodeMs) / Math.max(1, lines)));
    const keys: Array<keyof StageTimings> = ['decodeMs', 'detectPrepareMs', 'detectRunMs', 'postprocessMs', 'cropMs', 'recognisePrepareMs', 'recogniseRunMs', 'ctcDecodeMs'];
    console.log(`| ${name} | ${lines}/${page.lines.length} | ${keys.map((k) => fmt(stage(k))).join(' | ')} | ${fmt(median(runs.map(sumStages)))} | ${fmt(perLine)} |`);
  }

  // Detection alone at fixed input sizes, and batched: one session, one thread.
  const detector = await ort.InferenceSession.create(DETECTOR_PATH, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
  console.log('\n### Detector alone, one thread (median of 5 runs, ms)\n');
  console.log('| input | batch 1 | batch 4 | batch 4, per page |\n|---|---|---|---|');
  for (const [w, h] of [[320, 320], [640, 480], [736, 256], [672, 960], [960, 960]] as const) {
    const image = { width: w, height: h, channels: 3 as const, pixels: new Uint8Array(w * h * 3).fill(255) };
    const row: number[] = [];
    for (const n of [1, 4]) {
      const batch = prepareDetectionBatch(Array.from({ length: n }, () => image));
      const tensor = new ort.Tensor('float32', batch.data, batch.dims);
      await detector.run({ x: tensor });
      const times: number[] = [];
      for (let r = 0; r < 5; r++) {
        const start = performance.now();
        await detector.run({ x: tensor });
        times.push(performance.now() - start);
      }
      row.push(median(times));
    }
    console.log(`| ${w}x${h} | ${fmt(row[0]!)} | ${fmt(row[1]!)} | ${fmt(row[1]! / 4)} |`);
  }
  await detector.release();

  // Recognition of one page's lines one by one against in batches of a padded width.
  const page = pages[2]!.page;
  console.log('\n### Recognition of the 30 lines of the 150 dpi letter, one thread (median of 3 runs, ms)\n');
  console.log('| lines per run | recognise: prepare + run + decode | per line |\n|---|---|---|');
  for (const maxLineBatch of [1, 4, 16]) {
    const batched = await openPageReader({ threads: 1, maxLineBatch });
    const times: number[] = [];
    for (let r = 0; r < 3; r++) {
      const { timings: t } = await batched.read([page.bytes]);
      times.push(t.recognisePrepareMs + t.recogniseRunMs + t.ctcDecodeMs);
    }
    await batched.close();
    console.log(`| ${maxLineBatch} | ${fmt(median(times))} | ${fmt(median(times) / page.lines.length)} |`);
  }
  await reader.close();
}

async function naive(): Promise<void> {
  const pages: RenderedPage[] = [];
  for (const font of FONTS) {
    for (const [n, size, spacing] of [[1, 36, 1.5], [4, 28, 1.5], [10, 20, 1]] as const) {
      pages.push(await renderPage(TEXTS.invoice.filter((t) => !t.startsWith('Order')).slice(0, n), { font, size, lineSpacing: spacing }));
    }
  }
  pages.push(...(await renderLetterheadPages([TEXTS.letter.slice(1, 4), TEXTS.invoice.slice(4, 7)], { header: { text: 'ACME Trading Company Ltd', size: 36 }, footer: { text: 'Registered in Utopia No. 0042', size: 20 } }, { size: 28 })));
  const lines = pages.reduce((sum, page) => sum + page.lines.length, 0);
  const readers: Array<[string, (page: RenderedPage) => Promise<string[]>, () => Promise<void>]> = [];
  for (const threads of [undefined, 1]) {
    const ocr = await openGutenye(threads);
    readers.push([`@gutenye/ocr-node, ${threads ? '1 thread' : 'default threads'}`, async (page) => (await gutenyeRead(ocr, page)).map((l) => l.text), async () => {}]);
  }
  for (const threads of [2, 1]) {
    const reader: PageReader = await openPageReader({ threads });
    readers.push([`prototype, ${threads} thread${threads > 1 ? 's' : ''}`, async (page) => (await reader.read([page.bytes])).pages[0]!.lines.map((l) => l.text), () => reader.close()]);
  }
  console.log(`\n### Naive reference: ${pages.length} pages, ${lines} lines, read one after another (best of 2 passes)\n`);
  console.log('| reader | pages/s | ms per page | lines read exactly |\n|---|---|---|---|');
  for (const [name, read, close] of readers) {
    await read(pages[0]!); // warm-up: sessions, first-run allocations
    let best = Infinity;
    let exact = 0;
    for (let pass = 0; pass < 2; pass++) {
      exact = 0;
      const start = performance.now();
      for (const page of pages) {
        const texts = await read(page);
        page.lines.forEach((line, i) => (exact += texts[i] === line.text ? 1 : 0));
      }
      best = Math.min(best, performance.now() - start);
    }
    console.log(`| ${name} | ${((pages.length * 1000) / best).toFixed(2)} | ${fmt(best / pages.length)} | ${exact}/${lines} |`);
    await close();
  }
}

const parts = process.argv.slice(2);
const all = parts.length === 0;
if (all || parts.includes('accuracy')) await accuracy();
if (all || parts.includes('timings')) await timings();
if (all || parts.includes('naive')) await naive();
