/**
 * A frontend on another origin, in a real browser (Debian's chromium): a page served from a second
 * server (another port, so another origin) calls PredictQL with fetch the way the README's Apollo
 * Client example does (HttpLink's POST with JSON and its Accept header, behind the automatic
 * persisted query link: the hash first, the query text once the server asks), and gets a
 * prediction and its request id. A page on an origin CORS_ORIGINS does not list gets nothing: the
 * browser refuses it the answer.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

/** A server for the frontend's page: any path gets an empty HTML page. */
async function pageServer(): Promise<{ server: Server; origin: string }> {
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end('<!doctype html><html><head><title>frontend</title></head><body>frontend</body></html>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

/** Runs in the page: an iris prediction as Apollo Client's persisted-query link and HttpLink send it. */
type PageOutcome = { label?: string; code?: string; requestId: string | null; calls: number; failed?: undefined } | { failed: string };

async function predictFromPage(endpoint: string): Promise<PageOutcome> {
  const query = 'query Iris($features: [Float!]!) { predict(model: "iris", input: { features: $features }) { ... on Classification { label } } }';
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(query)));
  const sha256Hash = [...digest].map((b) => b.toString(16).padStart(2, '0')).join('');
  const headers = { 'content-type': 'application/json', accept: 'application/graphql-response+json,application/json;q=0.9' };
  const base = { operationName: 'Iris', variables: { features: [5.1, 3.5, 1.4, 0.2] }, extensions: { persistedQuery: { version: 1, sha256Hash } } };
  try {
    let calls = 1;
    let res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify(base) });
    let body = (await res.json()) as { data?: { predict?: { label?: string } }; errors?: Array<{ extensions?: { code?: string } }> };
    if (body.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND') {
      calls++;
      res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ ...base, query }) });
      body = (await res.json()) as typeof body;
    }
    return { label: body.data?.predict?.label, code: body.errors?.[0]?.extensions?.code, requestId: res.headers.get('x-request-id'), calls };
  } catch (error) {
    return { failed: String(error) };
  }
}

describe('a frontend on another origin, in a browser', () => {
  let api: TestServer;
  let listed: { server: Server; origin: string };
  let unlisted: { server: Server; origin: string };
  let browser: Browser;

  before(async () => {
    listed = await pageServer();
    unlisted = await pageServer();
    api = await startTestServer({ CACHE_URL: 'memory://', HOST: '127.0.0.1', CORS_ORIGINS: listed.origin });
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    await api?.close();
    listed?.server.close();
    unlisted?.server.close();
  });

  it('gets a prediction and its request id from a listed origin, persisted query included', async () => {
    const page = await browser.newPage();
    await page.goto(`${listed.origin}/app`);
    const first = await page.evaluate(predictFromPage, `${api.url}/graphql`);
    assert.ok(first.failed === undefined, JSON.stringify(first));
    assert.equal(first.label, 'setosa');
    assert.equal(first.calls, 2, 'the hash alone first, then the text');
    assert.match(first.requestId ?? '', /^[\w.:-]+$/, 'x-request-id is exposed to the page');
    const again = await page.evaluate(predictFromPage, `${api.url}/graphql`);
    assert.ok(again.failed === undefined, JSON.stringify(again));
    assert.deepEqual({ label: again.label, calls: again.calls }, { label: 'setosa', calls: 1 }, 'the server knows the hash now');
    await page.close();
  });

  it('refuses the answer to a page on an origin that is not listed', async () => {
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push(message.text());
    });
    await page.goto(`${unlisted.origin}/app`);
    const result = await page.evaluate(predictFromPage, `${api.url}/graphql`);
    assert.match(result.failed ?? JSON.stringify(result), /TypeError: Failed to fetch/);
    assert.ok(consoleErrors.some((text) => /CORS policy/.test(text)), consoleErrors.join('\n'));
    await page.close();
  });
});
