/**
 * The playground and the front page in a real browser (Debian's chromium): the examples run and
 * show their answers, a digit drawn on the canvas is recognised, an uploaded text line and page are read,
 * and no request ever leaves 127.0.0.1. Screenshots go to test-artifacts/browser/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS_DIR, launchChromium } from '../helpers/browser.ts';
import { renderPage } from '../helpers/render-page.ts';
import { renderTextLine } from '../helpers/render.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

describe('in a browser', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let origin: string;
  const requested: string[] = [];

  before(async () => {
    server = await startTestServer({ CACHE_URL: 'memory://', HOST: '127.0.0.1' });
    origin = `http://127.0.0.1:${server.port}`;
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
    context.on('request', (request) => requested.push(request.url()));
  });
  after(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The JSON in GraphiQL's result pane once the run button has been pressed. */
  async function runTab(page: Page, title: string | null): Promise<any> {
    if (title !== null) await page.locator(`.graphiql-tab-button[title="${title}"]`).click();
    const answered = page.waitForResponse((r) => r.url().endsWith('/graphql') && r.request().method() === 'POST');
    await page.click('.graphiql-execute-button');
    await answered;
    // The result pane is a CodeMirror editor; wait until it shows the new answer.
    const pane = page.locator('.result-window');
    await pane.filter({ hasText: '"data"' }).or(pane.filter({ hasText: '"errors"' })).waitFor();
    return JSON.parse(await pane.locator('.CodeMirror').evaluate((el: any) => el.CodeMirror.getValue()));
  }

  it('opens the playground with an example per model and runs them', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/graphql`);
    await page.locator('.graphiql-tab').first().waitFor();
    const titles = (await page.locator('.graphiql-tab').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(titles, ['Iris', 'PromptInjection', 'Spam', 'Digits', 'Ocr', 'OcrPage', 'Symbols', 'Vad', 'BatchPromptInjection', 'SeveralModels', 'IrisTimings']);

    const iris = await runTab(page, null);
    assert.equal(iris.data.predict.label, 'setosa');
    assert.equal(iris.data.predict.classes.length, 3);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'playground-iris.png') });

    // The image example carries its PNG in the Variables pane.
    const digits = await runTab(page, 'Digits');
    assert.match(digits.data.predict.label, /^\d$/);
    const ocrPage = await runTab(page, 'OcrPage');
    assert.equal(ocrPage.data.predict.text, 'PredictQL reads pages\nline by line');

    const aliases = await runTab(page, 'SeveralModels');
    assert.deepEqual(Object.keys(aliases.data).sort(), ['iris', 'promptInjection', 'spam']);

    // The timings tab sends its header and gets the per-phase breakdown.
    const timed = await runTab(page, 'IrisTimings');
    assert.equal(timed.data.predict.label, 'setosa');
    assert.ok(timed.extensions.timings.totalMs > 0, JSON.stringify(timed.extensions));
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'playground-timings.png') });

    // The schema explorer shows the descriptions written in schema/.
    await page.click('[aria-label="Show Documentation Explorer"]');
    await page.getByText('Query', { exact: true }).first().click();
    await page.getByText('predictMany', { exact: true }).first().waitFor();
    assert.match(await page.locator('.graphiql-doc-explorer').innerText(), /predictMany/);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'playground-docs.png') });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('recognises a digit drawn on the front page, and a text line uploaded there', async () => {
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    assert.equal(await page.locator('tr[data-model]').count(), 8);
    assert.match(await page.locator('tr[data-model="iris"]').innerText(), /CLASSIFICATION\s+\w{12} \(1\.0\.0\)\s+FEATURES\s+READY/);

    // Draw a 7 with the mouse: a bar across the top, then a stroke down to the left.
    const form = page.locator('form[data-model="digits"]');
    const canvas = form.locator('canvas');
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    await page.mouse.move(box.x + 70, box.y + 60);
    await page.mouse.down();
    for (const [x, y] of [[210, 60], [190, 120], [160, 180], [135, 240]] as const) await page.mouse.move(box.x + x, box.y + y, { steps: 8 });
    await page.mouse.up();
    await form.locator('button[type=submit]').click();
    await form.locator('output .label').waitFor();
    assert.equal(await form.locator('output .label').innerText(), '7');
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'front-page-digit.png'), fullPage: true });

    // Upload a rendered line of text to the OCR form.
    const ocr = page.locator('form[data-model="ocr"]');
    const line = await renderTextLine('Hello 2026');
    await ocr.locator('input[type=file]').setInputFiles({ name: 'line.png', mimeType: 'image/png', buffer: Buffer.from(line) });
    await ocr.locator('output .label').waitFor();
    assert.equal(await ocr.locator('output .label').innerText(), '"Hello 2026"');

    // A page to the page reader: its lines, one under the other, and how many were found.
    const reader = page.locator('form[data-model="ocr-page"]');
    const letter = await renderPage(['Dear reader,', 'this page has two lines.'], { size: 28 });
    await reader.locator('input[type=file]').setInputFiles({ name: 'page.png', mimeType: 'image/png', buffer: Buffer.from(letter.bytes) });
    await reader.locator('output .label').waitFor();
    assert.equal(await reader.locator('output .label').innerText(), 'Dear reader,\nthis page has two lines.');
    assert.match(await reader.locator('output').innerText(), /2 lines found/);

    // An image the model cannot read gets the server's error message, shown in the form.
    const symbols = page.locator('form[data-model="symbols"]');
    await symbols.locator('input[type=file]').setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('not a png at all') });
    await symbols.locator('output.error').waitFor();
    assert.match(await symbols.locator('output').innerText(), /image/i);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'front-page-ocr.png'), fullPage: true });
    await page.close();
  });

  it('never sent a request anywhere but this server', () => {
    assert.ok(requested.length > 10, `the pages made requests (${requested.length})`);
    const elsewhere = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:') && !url.startsWith('blob:'));
    assert.deepEqual(elsewhere, []);
  });
});
