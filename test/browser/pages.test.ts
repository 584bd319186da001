/**
 * The playground in a real browser (Debian's chromium): the examples run and show their answers,
 * a file goes into a variable without pasting base64, a returning browser gets new example tabs
 * when the models changed, and no request ever leaves 127.0.0.1. Screenshots go to
 * test-artifacts/browser/. The front page has its own file (front.test.ts).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS_DIR, launchChromium } from '../helpers/browser.ts';
import { renderTextLine } from '../helpers/render.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// Functions passed to page.evaluate run in the browser, where this exists.
declare const localStorage: any;

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
    const sockets: string[] = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(`${origin}/graphql`);
    await page.locator('.graphiql-tab').first().waitFor();
    const titles = (await page.locator('.graphiql-tab').allInnerTexts()).map((t) => t.trim());
    assert.deepEqual(titles, ['Iris', 'PromptInjection', 'Spam', 'Digits', 'Ocr', 'OcrPage', 'Symbols', 'Vad', 'BatchPromptInjection', 'StreamOcr', 'SeveralModels', 'Jobs', 'IrisTimings']);

    const iris = await runTab(page, null);
    assert.equal(iris.data.predict.label, 'setosa');
    assert.equal(iris.data.predict.classes.length, 3);
    await page.screenshot({ path: join(ARTIFACTS_DIR, 'playground-iris.png') });

    // The image example carries its PNG in the Variables pane.
    const digits = await runTab(page, 'Digits');
    assert.match(digits.data.predict.label, /^\d$/);
    const ocrPage = await runTab(page, 'OcrPage');
    assert.equal(ocrPage.data.predict.text, 'PredictQL reads pages\nline by line');

    // The subscription tab streams over WebSocket: the pane shows each event as it comes,
    // ending with the third (two lines read, the page refused with an error event).
    await page.locator('.graphiql-tab-button[title="StreamOcr"]').click();
    await page.click('.graphiql-execute-button');
    const pane = page.locator('.result-window');
    await pane.filter({ hasText: '"done": 3' }).waitFor();
    const lastEvent = JSON.parse(await pane.locator('.CodeMirror').evaluate((el: any) => el.CodeMirror.getValue()));
    assert.equal(lastEvent.data.predictStream.total, 3);
    assert.deepEqual(sockets, [`${origin.replace('http', 'ws')}/graphql`], 'the subscription went over WebSocket, to this server');

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

  it('puts a file into a variable without pasting base64, and answers the VAD example with speech', async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${origin}/graphql`);
    await page.locator('.graphiql-tab').first().waitFor();
    // The VAD example's sample is speech: it finds a segment.
    const vad = await runTab(page, 'Vad');
    assert.equal(vad.data.predict.segments.length, 1, JSON.stringify(vad.data.predict));
    assert.ok(vad.data.predict.speechRatio > 0.5);
    // The aliases example asks each model about an input made for it.
    const aliases = await runTab(page, 'SeveralModels');
    assert.deepEqual(
      Object.fromEntries(Object.entries(aliases.data).map(([k, v]) => [k, (v as { label: string }).label])),
      { iris: 'setosa', promptInjection: 'injection', spam: 'spam' },
    );
    // A rendered line chosen as a file becomes $image of the Ocr tab, and the query reads it.
    await page.locator('.graphiql-tab-button[title="Ocr"]').click();
    const line = await renderTextLine('File to variable');
    await page.locator('#var-file').setInputFiles({ name: 'line.png', mimeType: 'image/png', buffer: Buffer.from(line) });
    await page.locator('#var-status').filter({ hasText: '$image' }).waitFor();
    const ocr = await runTab(page, null);
    assert.equal(ocr.data.predict.text, 'File to variable');
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('gives a returning browser the new example tabs once the models changed', async () => {
    const page = await context.newPage();
    // What GraphiQL saved for this browser, as if the server had served other models last time;
    // written from a page of this origin without GraphiQL on it, so nothing overwrites it.
    await page.goto(`${origin}/front/models.json`);
    await page.evaluate(() => {
      localStorage.setItem('graphiql:tabState', JSON.stringify({ activeTabIndex: 0, tabs: [{ id: 'old', hash: 'old', title: 'OldModel', query: 'query OldModel { models { name } }', variables: null, headers: null, operationName: 'OldModel', response: null }] }));
      localStorage.setItem('predictql:examples', 'an-older-set-of-examples');
    });
    await page.goto(`${origin}/graphql`);
    await page.locator('.graphiql-tab').first().waitFor();
    const titles = (await page.locator('.graphiql-tab').allInnerTexts()).map((t) => t.trim());
    assert.equal(titles[0], 'Iris');
    assert.ok(!titles.includes('OldModel'), titles.join(', '));
    // The same examples as last time: the browser's own edits stay.
    await page.locator('.graphiql-query-editor .CodeMirror').evaluate((el: any) => el.CodeMirror.setValue('query MyEditedTab { models { name } }'));
    await page.waitForFunction(() => (localStorage.getItem('graphiql:tabState') ?? '').includes('MyEditedTab'));
    await page.reload();
    await page.locator('.graphiql-tab').first().waitFor();
    assert.equal((await page.locator('.graphiql-tab').first().innerText()).trim(), 'MyEditedTab');
    await page.close();
  });

  it('never sent a request anywhere but this server', () => {
    assert.ok(requested.length > 10, `the pages made requests (${requested.length})`);
    const elsewhere = requested.filter((url) => !url.startsWith(`${origin}/`) && !url.startsWith('data:') && !url.startsWith('blob:'));
    assert.deepEqual(elsewhere, []);
  });
});
