/**
 * `ocr-page`, the multi-stage page reader, through a real server and the real PP-OCRv4 detector
 * and recogniser: pages rendered here in three DejaVu fonts with 1 to 10 lines read exactly, in
 * reading order, with every box inside the page and on its line's ink; a page without text, bad
 * images, the limit of lines per page, the work budget; a line shared by pages read once (the
 * `ocr` model's own counters say so); the `ocr` line model refusing a page; per-stage timings.
 *
 * The server reads a copy of the bundled `ocr` and `ocr-page` folders, plus `ocr-page-short`:
 * the same chain with at most 3 lines per page, for the truncation flag.
 *
 * The lines are ones the line recogniser reads exactly when each is rendered alone: what it
 * cannot read on its own (a DejaVu Sans Mono "O" read as "0") is not the page chain's to fix
 * (docs/multi-stage-models.md).
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { renderBlankPage, renderLetterheadPages, renderPage, type BoxTruth, type RenderedPage } from './helpers/render-page.ts';
import type { FontName } from './helpers/render.ts';
import { startTestServer, tempDir, type GraphQLResponse, type TestServer } from './helpers/server.ts';

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

/** 1, 4 and 10 lines, each at its own size, spacing and margins (10 lines single-spaced). */
const LAYOUTS = [
  { lines: 1, size: 36, lineSpacing: 1.5, margin: 60 },
  { lines: 4, size: 28, lineSpacing: 1.5, margin: 40, indent: true },
  { lines: 10, size: 20, lineSpacing: 1.0, margin: { top: 30, right: 50, bottom: 70, left: 25 } },
];

const READ_PAGE = `query ($image: String!, $model: String! = "ocr-page") {
  predict(model: $model, input: { image: $image }) {
    cached cacheSource
    ... on DocumentText { text detectedLines truncated lines { text confidence box { x y width height } } }
  }
}`;

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

interface TextLine {
  text: string;
  confidence: number;
  box: BoxTruth;
}

function intersection(a: BoxTruth, b: BoxTruth): number {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** Every line read exactly and in order; every box inside the page and on its line's ink. */
function assertReadsPage(res: GraphQLResponse, page: RenderedPage, what: string): void {
  assert.equal(res.errors, undefined, `${what}: ${JSON.stringify(res.errors)}`);
  const answer = res.data.predict;
  const lines = answer.lines as TextLine[];
  assert.deepEqual(lines.map((line) => line.text), page.lines.map((line) => line.text), what);
  assert.equal(answer.text, page.lines.map((line) => line.text).join('\n'));
  assert.equal(answer.detectedLines, page.lines.length);
  assert.equal(answer.truncated, false);
  lines.forEach((line, i) => {
    const { box } = line;
    const ink = page.lines[i]!.box;
    const where = `${what}, line ${i + 1} box ${JSON.stringify(box)} ink ${JSON.stringify(ink)}`;
    assert.ok(box.x >= 0 && box.y >= 0 && box.x + box.width <= page.width && box.y + box.height <= page.height, `inside the page: ${where}`);
    // The box is the ink the crop found: the rendered ink, up to antialiasing too faint to count.
    const overlap = intersection(box, ink);
    assert.ok(overlap >= 0.9 * ink.width * ink.height && overlap >= 0.9 * box.width * box.height, `box on its ink: ${where}`);
    assert.ok(line.confidence > 0.8 && line.confidence <= 1, `confidence ${line.confidence}: ${where}`);
  });
}

describe('ocr-page: a page read line by line (detection, crops, the ocr model on every line)', () => {
  let server: TestServer;
  let modelsDir: string;

  before(async () => {
    modelsDir = tempDir('predictql-ocr-page-');
    for (const name of ['ocr', 'ocr-page']) cpSync(join('models', name), join(modelsDir, name), { recursive: true });
    const manifest = JSON.parse(readFileSync(join('models', 'ocr-page', 'manifest.json'), 'utf8'));
    manifest.name = 'ocr-page-short';
    manifest.stages[1].options.maxLines = 3;
    cpSync(join('models', 'ocr-page'), join(modelsDir, 'ocr-page-short'), { recursive: true });
    writeFileSync(join(modelsDir, 'ocr-page-short', 'manifest.json'), JSON.stringify(manifest));
    server = await startTestServer({ MODELS_DIR: modelsDir, WATCH_MODELS: 'false' });
  });

  after(async () => {
    await server?.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  for (const font of FONTS) {
    for (const layout of LAYOUTS) {
      it(`${font}: ${layout.lines} line(s) at ${layout.size} px, spacing ${layout.lineSpacing}: every line exact, in order, boxes on the ink`, async () => {
        const lines = LINES.slice(0, layout.lines).map((text, i) => ({ text, indent: layout.indent && i % 2 === 1 ? 48 : 0 }));
        const page = await renderPage(lines, { font, size: layout.size, lineSpacing: layout.lineSpacing, margin: layout.margin });
        assertReadsPage(await server.graphql(READ_PAGE, { image: b64(page.bytes) }), page, `${font} ${layout.lines} lines`);
      });
    }
  }

  it('an A4 scan at 300 dpi (2480 x 3508, detected at 672 x 960) reads exactly from full-resolution crops', async () => {
    // 12 pt at 300 dpi is 50 px; the detector sees it at 960 / 3508 of that, about 14 px.
    const page = await renderPage(LINES.slice(0, 6), { size: 50, lineSpacing: 1.5, width: 2480, height: 3508, margin: 300, format: 'jpeg' });
    assertReadsPage(await server.graphql(READ_PAGE, { image: b64(page.bytes) }), page, 'A4 page');
  });

  it('a page without text answers no lines and an empty text', async () => {
    const res = await server.graphql(READ_PAGE, { image: b64((await renderBlankPage(800, 1000)).bytes) });
    assert.equal(res.errors, undefined);
    assert.deepEqual(res.data.predict, { cached: false, cacheSource: 'NONE', text: '', detectedLines: 0, truncated: false, lines: [] });
  });

  it('a query for the text alone gets it; the same page again comes from the cache', async () => {
    const page = await renderPage(['Only the text, please', 'no boxes needed'], { font: 'serif', size: 26 });
    const query = 'query ($image: String!) { predict(model: "ocr-page", input: { image: $image }) { cached ... on DocumentText { text } } }';
    const first = await server.graphql(query, { image: b64(page.bytes) });
    assert.deepEqual(first.data, { predict: { cached: false, text: 'Only the text, please\nno boxes needed' } });
    // One cached answer serves every selection: this one asks for the boxes too.
    const again = await server.graphql(READ_PAGE, { image: b64(page.bytes) });
    assert.equal(again.data.predict.cached, true);
    assertReadsPage(again, page, 'cached page');
  });

  it('pages sharing a letterhead and a footer: the shared lines are recognised once (counted by the ocr model)', async () => {
    const bodies = [['Dear customer,', 'your order has shipped.'], LINES.slice(4, 6), ['PredictQL reads whole pages now', 'Page 2 of 5']];
    const shared = { header: { text: 'ACME Trading Company Ltd', size: 36 }, footer: { text: 'Registered in Utopia No. 0042', size: 20, font: 'serif' as const } };
    const pages = await renderLetterheadPages(bodies, shared, { size: 28 });
    const inputsBefore = await server.metric('predictql_batch_size_sum', { model: 'ocr' });
    const fromCacheBefore = await server.metric('predictql_stage_item_sources_total', { model: 'ocr-page', stage: 'recognise', source: 'cache' });
    // The first letter alone, then the other two at once: their shared lines come from the
    // cache, and their own lines join the ocr model's batches together.
    assertReadsPage(await server.graphql(READ_PAGE, { image: b64(pages[0]!.bytes) }), pages[0]!, 'letter 1');
    const [second, third] = await Promise.all(pages.slice(1).map((page) => server.graphql(READ_PAGE, { image: b64(page.bytes) })));
    assertReadsPage(second!, pages[1]!, 'letter 2');
    assertReadsPage(third!, pages[2]!, 'letter 3');
    // 12 lines on the three pages, 8 of them distinct: the ocr model read 8.
    assert.equal((await server.metric('predictql_batch_size_sum', { model: 'ocr' })) - inputsBefore, 8);
    assert.equal((await server.metric('predictql_stage_item_sources_total', { model: 'ocr-page', stage: 'recognise', source: 'cache' })) - fromCacheBefore, 4);
  });

  it('the same page twice at once runs its stages once', async () => {
    const page = await renderPage(['Sent twice at the same time'], { font: 'mono', size: 30 });
    const pagesBefore = await server.metric('predictql_batch_size_sum', { model: 'ocr-page' });
    const answers = await Promise.all([1, 2].map(() => server.graphql(READ_PAGE, { image: b64(page.bytes) })));
    for (const res of answers) assertReadsPage(res, page, 'page sent twice');
    // The second joined the first's worker task in flight (or, had the first finished, hit the cache).
    assert.equal((await server.metric('predictql_batch_size_sum', { model: 'ocr-page' })) - pagesBefore, 1);
  });

  it('more lines than the model reads per page: the first in reading order, with the flag and the count', async () => {
    const page = await renderPage(LINES.slice(0, 5), { size: 24 });
    const res = await server.graphql(READ_PAGE, { image: b64(page.bytes), model: 'ocr-page-short' });
    assert.equal(res.errors, undefined);
    const answer = res.data.predict;
    assert.deepEqual(answer.lines.map((line: TextLine) => line.text), LINES.slice(0, 3));
    assert.deepEqual([answer.detectedLines, answer.truncated], [5, true]);
    assert.equal(await server.metric('predictql_stage_truncated_total', { model: 'ocr-page-short', value: 'lines' }), 1);
  });

  it('bad pages get clear errors: empty, corrupt, too small, too large, not an image', async () => {
    const page = await renderPage(['A page that will be cut short'], { size: 28 });
    const huge = await sharp({ create: { width: 8000, height: 6000, channels: 3, background: '#ffffff' } }).png({ compressionLevel: 1 }).toBuffer();
    const cases: Array<[string, string, RegExp]> = [
      ['empty', '', /input.image is empty; send the file's bytes as base64/],
      ['truncated', b64(page.bytes.subarray(0, Math.floor(page.bytes.length / 2))), /image looks like a PNG but could not be decoded/],
      ['tiny', b64((await renderBlankPage(12, 7, 'jpeg')).bytes), /image is 12x7; a page must be at least 16 px on each side to hold a line of text/],
      ['huge', b64(huge), /image is 8000x6000 \(48000000 pixels\); at most 40000000 pixels are allowed/],
      ['a GIF', Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;').toString('base64'), /image is a GIF file; only PNG or JPEG images are accepted/],
    ];
    for (const [what, image, message] of cases) {
      const res = await server.graphql(READ_PAGE, { image });
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT', `${what}: ${JSON.stringify(res.errors)}`);
      assert.match(res.errors![0]!.message, message, what);
    }
  });

  it('a request of more pages than the work budget allows is refused before anything runs', async () => {
    // Each page may cost 40 per 100 kB of image plus its 200 lines at the ocr model's 25 each: 5040;
    // twelve of them are more than MAX_REQUEST_COST (60000).
    const tiny = b64((await renderBlankPage(20, 20)).bytes);
    const query = 'query ($pages: [PredictionInput!]!) { predictMany(model: "ocr-page", inputs: $pages) { ... on DocumentText { text } } }';
    const res = await server.graphql(query, { pages: Array.from({ length: 12 }, () => ({ image: tiny })) });
    assert.equal(res.errors?.[0]?.extensions?.code, 'COST_LIMIT_EXCEEDED');
    assert.match(res.errors![0]!.message, /cost 60480 units of work, over the limit of 60000 \(MAX_REQUEST_COST\).*predictMany \(ocr-page, 12 inputs\): 60480/);
    const eleven = await server.graphql(query, { pages: Array.from({ length: 11 }, () => ({ image: tiny })) });
    assert.equal(eleven.errors, undefined);
    assert.deepEqual(eleven.data.predictMany.map((p: { text: string }) => p.text), Array(11).fill(''));
  });

  it('the ocr line model, given a page of several lines, says so and points to ocr-page', async () => {
    const page = await renderPage(LINES.slice(0, 3), { size: 24 });
    const res = await server.graphql('query ($image: String!) { predict(model: "ocr", input: { image: $image }) { ... on TextRecognition { text } } }', { image: b64(page.bytes) });
    assert.equal(res.errors?.[0]?.extensions?.code, 'MULTIPLE_TEXT_LINES');
    assert.match(res.errors![0]!.message, /^the image holds 3 lines of text \(rows \d+-\d+, \d+-\d+, \d+-\d+ of \d+\); this model reads one line: .*"ocr-page"/);
  });

  it('reports each stage: extensions.timings.stages and predictql_stage_seconds', async () => {
    const page = await renderPage(['Where does the time go?', 'Stage by stage'], { size: 26 });
    const res = await server.graphql(READ_PAGE, { image: b64(page.bytes) }, { headers: { 'x-predictql-timings': '1' } });
    assert.equal(res.errors, undefined);
    const stages = res.extensions!.timings.stages as Record<string, number>;
    assert.deepEqual(Object.keys(stages).sort(), ['crops', 'decode', 'detect', 'recognise']);
    for (const ms of Object.values(stages)) assert.ok(ms > 0 && ms < res.extensions!.timings.totalMs);
    for (const stage of ['decode', 'detect', 'crops', 'recognise']) {
      assert.ok((await server.metric('predictql_stage_seconds_count', { model: 'ocr-page', stage })) >= 1, stage);
    }
    assert.ok((await server.metric('predictql_stage_items_count', { model: 'ocr-page', value: 'lines' })) >= 1);
  });

  it('describes its stages in the schema', async () => {
    const res = await server.graphql('{ model(name: "ocr-page") { task input { kind } stages { name kind takes passes step model } } }');
    assert.deepEqual(res.data.model, {
      task: 'DOCUMENT_TEXT',
      input: { kind: 'IMAGE' },
      stages: [
        { name: 'detect', kind: 'MODEL', takes: ['page'], passes: 'boxes', step: 'detection-input -> db-boxes', model: null },
        { name: 'crops', kind: 'STEP', takes: ['page', 'boxes'], passes: 'lines', step: 'line-crops', model: null },
        { name: 'recognise', kind: 'CALL', takes: ['lines'], passes: 'texts', step: null, model: 'ocr' },
      ],
    });
  });
});
