/** The HTTP surface around /graphql: probes, metrics, the offline playground and the front page. */
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { brotliCompressSync, gzipSync } from 'node:zlib';
import { post, request } from './helpers/client.ts';
import { collect, wsClient } from './helpers/streams.ts';
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
    // The page's own files, and a link back to the front page.
    assert.deepEqual(assets.sort(), ['/', '/playground/graphiql.css', '/playground/graphiql.js', '/playground/graphql-ws.js', '/playground/react-dom.js', '/playground/react.js']);
    for (const asset of assets) {
      const res = await server.get(asset);
      assert.equal(res.status, 200, asset);
      const text = await res.text();
      assert.ok(text.length > 1000, `${asset} has content`);
    }
    assert.match(page.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    // One example tab per model, then a batch, one with aliases and one with the timings header.
    const tabs = JSON.parse(html.match(/<script id="examples" type="application\/json">(.*?)<\/script>/s)![1]!) as Array<{ query: string; variables?: string; headers?: string }>;
    const operations = tabs.map((t) => t.query.match(/^(?:query|mutation|subscription) (\w+)/m)![1]);
    assert.deepEqual(operations, ['Iris', 'PromptInjection', 'Spam', 'Digits', 'Ocr', 'OcrPage', 'Symbols', 'Vad', 'BatchPromptInjection', 'StreamOcr', 'SeveralModels', 'Jobs', 'IrisTimings']);
    assert.deepEqual(JSON.parse(tabs.at(-1)!.headers!), { 'x-predictql-timings': '1' });
    // The Jobs tab: submit, then follow the job by the id it returned, then cancel it.
    const jobsTab = tabs.find((t) => t.query.includes('mutation Jobs'))!;
    const run = async (operationName: string, variables?: Record<string, unknown>) => (await (await post(server.url, { query: jobsTab.query, operationName, variables })).json()) as any;
    const submitted = await run('Jobs');
    assert.equal(submitted.errors, undefined, JSON.stringify(submitted.errors));
    const progress = await run('JobProgress', { id: submitted.data.submitPredictionJob.id });
    assert.equal(progress.errors, undefined, JSON.stringify(progress.errors));
    assert.equal(progress.data.predictionJob.total, 2);
    assert.equal((await run('CancelJob', { id: submitted.data.submitPredictionJob.id })).errors, undefined);
    // Every other example runs as it is and answers without errors.
    for (const tab of tabs.filter((t) => t !== jobsTab)) {
      if (tab.query.includes('subscription StreamOcr')) {
        // Over graphql-ws, as the playground's fetcher sends it: three events, the page refused.
        const client = wsClient(server.url);
        const { results } = await collect<{ predictStream: { index: number; prediction: { text: string } | null; error: { code: string } | null } }>(client.iterate({ query: tab.query, variables: JSON.parse(tab.variables!) }));
        await client.dispose();
        const events = results.map((r) => r.data!.predictStream).sort((a, b) => a.index - b.index);
        assert.equal(events.length, 3);
        assert.equal(events[0]!.prediction!.text, events[1]!.prediction!.text);
        assert.equal(events[2]!.error!.code, 'MULTIPLE_TEXT_LINES');
        continue;
      }
      const res = await server.graphql(tab.query, tab.variables ? JSON.parse(tab.variables) : undefined);
      assert.equal(res.errors, undefined, `${tab.query.split('\n').find((l) => l.startsWith('query'))}: ${JSON.stringify(res.errors)}`);
    }
    // A GraphQL GET request (not a browser page load) still reaches Apollo.
    const query = await server.get(`/graphql?query=${encodeURIComponent('{ model(name: "iris") { name } }')}`, { 'apollo-require-preflight': 'true' });
    assert.deepEqual(await query.json(), { data: { model: { name: 'iris' } } });
  });

  it('introduces the server at /: a page built from the models, their samples, and the live panel', async () => {
    const res = await server.get('/');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy')!, /default-src 'self'/);
    const html = await res.text();
    assert.match(html, /href="\/graphql"/);
    assert.match(html, /href="\/live"/);
    assert.match(html, /href="\/metrics"/);
    assert.doesNotMatch(html, /(?:src|href)="(?!\/|data:)/, 'nothing is loaded from another host');
    for (const asset of [...html.matchAll(/(?:src|href)="(\/front\/[^"]+)"/g)].map((m) => m[1]!)) {
      const file = await server.get(asset);
      assert.equal(file.status, 200, asset);
      assert.match(file.headers.get('content-type')!, /^text\/(javascript|css)/);
    }
    // What the page builds its forms from: every model, with the manifest's feature names and samples.
    const { tag, models } = (await (await server.get('/front/models.json')).json()) as { tag: string; models: Array<Record<string, any>> };
    assert.match(tag, /^[0-9a-f]{16}$/);
    assert.deepEqual(models.map((m) => [m.name, m.input, m.state]), [
      ['digits', 'image', 'READY'], ['iris', 'features', 'READY'], ['ocr', 'image', 'READY'], ['ocr-page', 'image', 'READY'],
      ['prompt-injection', 'text', 'READY'], ['spam', 'text', 'READY'], ['symbols', 'image', 'READY'], ['vad', 'audio', 'READY'],
    ]);
    const iris = models.find((m) => m.name === 'iris')!;
    assert.deepEqual(iris.features, [
      { name: 'sepal_length_cm', example: 5.1 }, { name: 'sepal_width_cm', example: 3.5 }, { name: 'petal_length_cm', example: 1.4 }, { name: 'petal_width_cm', example: 0.2 },
    ]);
    assert.deepEqual(models.filter((m) => m.drawable).map((m) => m.name), ['digits', 'symbols']);
    const wav = await fetch(`${server.url}/front/samples/vad`);
    assert.equal(wav.headers.get('content-type'), 'audio/wav');
    assert.deepEqual(Buffer.from(await wav.arrayBuffer()), readFileSync('models/vad/sample.wav'));
    assert.equal((await server.get('/front/samples/iris')).status, 404);
    assert.equal((await server.get('/front/nothing.js')).status, 404);

    // The live panel: the first read starts the sampler; a second later there are points that count requests.
    await server.get('/live/stats.json');
    for (let i = 0; i < 10; i++) await server.graphql(`{ predict(model: "iris", input: {features: [5.0, 3.6, 1.4, ${i / 10}]}) { cached } }`);
    let points: Array<Record<string, number | null>> = [];
    for (let tries = 0; tries < 50 && !points.some((p) => (p.requestsPerSecond as number) > 0); tries++) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      points = ((await (await server.get('/live/stats.json')).json()) as { points: typeof points }).points;
    }
    const busy = points.find((p) => (p.requestsPerSecond as number) > 0)!;
    assert.ok(busy, JSON.stringify(points));
    assert.ok((busy.p99Ms as number) >= (busy.p50Ms as number) && (busy.p50Ms as number) > 0, JSON.stringify(busy));
    assert.equal(typeof busy.cacheHitRatio, 'number', 'cache lookups are counted');
    assert.ok((busy.meanBatchSize as number) >= 1 && (busy.workerUtilisation as number) >= 0 && (busy.workerUtilisation as number) <= 1, JSON.stringify(busy));
    const last = points.at(-1)!.t as number;
    assert.deepEqual(((await (await server.get(`/live/stats.json?since=${last}`)).json()) as { points: unknown[] }).points.filter((p) => (p as { t: number }).t <= last), []);
    const live = await server.get('/live');
    assert.equal(live.status, 200);
    assert.match(await live.text(), /id="live-tiles"/);
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
