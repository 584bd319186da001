/** The HTTP surface around /graphql: probes, metrics and the offline playground. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { request } from './helpers/client.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('http', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('answers /healthz and /readyz once models are loaded', async () => {
    const health = await server.get('/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'ok' });
    const ready = await server.get('/readyz');
    assert.equal(ready.status, 200);
    const body = (await ready.json()) as { status: string; models: Record<string, { state: string }> };
    assert.equal(body.status, 'ready');
    assert.equal(body.models.iris?.state, 'READY');
  });

  it('serves the GraphiQL playground from this server only, with nothing from outside', async () => {
    const page = await server.get('/graphql', { accept: 'text/html' });
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /text\/html/);
    const html = await page.text();
    assert.match(html, /GraphiQL/);
    assert.doesNotMatch(html, /https?:\/\//, 'the page references no other host');
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!).filter((url) => !url.startsWith('data:'));
    assert.deepEqual(assets.sort(), ['/playground/graphiql.css', '/playground/graphiql.js', '/playground/react-dom.js', '/playground/react.js']);
    for (const asset of assets) {
      const res = await server.get(asset);
      assert.equal(res.status, 200, asset);
      const text = await res.text();
      assert.ok(text.length > 1000, `${asset} has content`);
    }
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    // One example tab per model, then a batch, one with aliases and one with the timings header.
    const tabs = JSON.parse(html.match(/<script id="examples" type="application\/json">(.*?)<\/script>/s)![1]!) as Array<{ query: string; variables?: string; headers?: string }>;
    const operations = tabs.map((t) => t.query.match(/^(?:query) (\w+)/m)![1]);
    assert.deepEqual(operations, ['Iris', 'PromptInjection', 'Spam', 'Digits', 'Ocr', 'OcrPage', 'Symbols', 'Vad', 'BatchPromptInjection', 'SeveralModels', 'IrisTimings']);
    assert.deepEqual(JSON.parse(tabs.at(-1)!.headers!), { 'x-predictql-timings': '1' });
    // Every example runs as it is and answers without errors.
    for (const tab of tabs) {
      const res = await server.graphql(tab.query, tab.variables ? JSON.parse(tab.variables) : undefined);
      assert.equal(res.errors, undefined, `${tab.query.split('\n').find((l) => l.startsWith('query'))}: ${JSON.stringify(res.errors)}`);
    }
    // A GraphQL GET request (not a browser page load) still reaches Apollo.
    const query = await server.get(`/graphql?query=${encodeURIComponent('{ model(name: "iris") { name } }')}`, { 'apollo-require-preflight': 'true' });
    assert.deepEqual(await query.json(), { data: { model: { name: 'iris' } } });
  });

  it('introduces the server at /: its models, links, and a form per image model', async () => {
    const res = await server.get('/');
    assert.equal(res.status, 200);
    const html = await res.text();
    for (const name of ['iris', 'spam', 'prompt-injection', 'digits', 'symbols', 'ocr', 'ocr-page', 'vad']) assert.match(html, new RegExp(`<tr data-model="${name}">`));
    const digits = (await server.graphql('{ model(name: "digits") { version versionName } }')).data.model;
    assert.match(html, new RegExp(`<tr data-model="digits">[\\s\\S]*?CLASSIFICATION[\\s\\S]*?${digits.version} \\(${digits.versionName}\\)[\\s\\S]*?IMAGE[\\s\\S]*?READY`));
    assert.match(html, /href="\/graphql"/);
    assert.match(html, /href="\/metrics"/);
    const forms = [...html.matchAll(/<form class="try" data-model="([^"]+)"/g)].map((m) => m[1]);
    assert.deepEqual(forms, ['digits', 'ocr', 'ocr-page', 'symbols']);
    assert.doesNotMatch(html, /(?:src|href)="(?!\/|data:)/, 'nothing is loaded from another host');
  });

  it('reads gzip and br request bodies, ignores a trailing slash, and matches paths case-sensitively', async () => {
    const body = JSON.stringify({ query: '{ predict(model: "iris", input: { features: [5.1, 3.5, 1.4, 0.2] }) { ... on Classification { label } } }' });
    for (const [encoding, bytes] of [['gzip', gzipSync(body)], ['br', brotliCompressSync(body)]] as const) {
      const res = await request(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-encoding': encoding }, body: bytes });
      assert.deepEqual(await res.json(), { data: { predict: { label: 'setosa' } } }, encoding);
    }
    const slash = await request(`${server.url}/graphql/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(slash.status, 200);
    const upper = await request(`${server.url}/GraphQL`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal(upper.status, 404);
    // Every answer says which process gave it and under which request id.
    const health = await server.get('/healthz', { 'x-request-id': 'probe-1' });
    assert.equal(health.headers.get('x-request-id'), 'probe-1');
    assert.equal(health.headers.get('x-predictql-process'), String(process.pid));
  });

  it('exposes Prometheus metrics with prediction counts', async () => {
    await server.graphql(`{ predict(model: "iris", input: {features: [5.0, 3.6, 1.4, 0.2]}) { cached } }`);
    const res = await server.get('/metrics');
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /predictql_predictions_total\{model="iris",outcome="ok",cached="false"\} \d+/);
    assert.match(text, /predictql_batch_size_bucket/);
    assert.match(text, /predictql_model_load_seconds_count\{model="iris"\} 1/);
  });
});

describe('playground off', () => {
  it('does not serve the IDE and refuses introspection', async () => {
    const server = await startTestServer({ PLAYGROUND: 'false' });
    try {
      const page = await server.get('/graphql', { accept: 'text/html' });
      assert.doesNotMatch(await page.text(), /GraphiQL/);
      const landing = await (await server.get('/')).text();
      assert.doesNotMatch(landing, /href="\/graphql"/, 'the front page does not link to a playground that is off');
      const res = await server.graphql('{ __schema { queryType { name } } }');
      assert.equal(res.errors?.[0]?.extensions?.code, 'GRAPHQL_VALIDATION_FAILED');
      assert.match(res.errors![0]!.message, /introspection/i);
    } finally {
      await server.close();
    }
  });
});
