/**
 * Operations: /metrics behind a bearer token and on a port of its own, admin refusals answered
 * with HTTP 401, and ONNX Runtime execution providers falling back to CPU (no GPU here).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli } from './helpers/cli.ts';
import { post, request } from './helpers/client.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

const IRIS = '{ predict(model: "iris", input: { features: [5.1, 3.5, 1.4, 0.2] }) { ... on Classification { label } } }';

/** A model repository holding iris alone: a server that starts in a second. */
function irisOnly(): string {
  const dir = tempDir('predictql-models-');
  cpSync(join(import.meta.dirname, '..', 'models', 'iris'), join(dir, 'iris'), { recursive: true });
  return dir;
}

describe('operations', () => {
  let server: TestServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = irisOnly();
    server = await startTestServer({ MODELS_DIR: modelsDir, ADMIN_TOKEN: 'ops-admin', METRICS_TOKEN: 'ops-scraper', METRICS_PORT: '0', WORKERS: '1' });
  });
  after(async () => {
    await server?.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('answers an admin operation without the right token with 401 and WWW-Authenticate', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong' }, { authorization: 'Basic b3BzLWFkbWlu' }] as Array<Record<string, string>>) {
      const res = await post(server.url, { query: 'mutation { clearCache { removed } }' }, { headers });
      assert.equal(res.status, 401, JSON.stringify(headers));
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
      const body = (await res.json()) as { errors: Array<{ extensions: { code: string } }> };
      assert.equal(body.errors[0]!.extensions.code, 'UNAUTHENTICATED');
    }
    const ok = await post(server.url, { query: 'mutation { clearCache { removed } }' }, { headers: { authorization: 'Bearer ops-admin' } });
    assert.equal(ok.status, 200);
    assert.equal(typeof ((await ok.json()) as any).data.clearCache.removed, 'number');
  });

  it('serves /metrics on its own port, behind the metrics token, and not on the main port', async () => {
    assert.ok(server.metricsUrl, 'the server reports its metrics URL');
    assert.notEqual(new URL(server.metricsUrl).port, String(server.port));
    await post(server.url, { query: IRIS });
    const denied = await request(server.metricsUrl);
    assert.equal(denied.status, 401);
    assert.match(denied.headers.get('www-authenticate') ?? '', /^Bearer realm=/);
    assert.doesNotMatch(await denied.text(), /predictql_/);
    const wrong = await request(server.metricsUrl, { headers: { authorization: 'Bearer ops-admin' } });
    assert.equal(wrong.status, 401, 'the admin token is not the metrics token');
    const scraped = await request(server.metricsUrl, { headers: { authorization: 'Bearer ops-scraper' } });
    assert.equal(scraped.status, 200);
    assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain/);
    assert.match(await scraped.text(), /predictql_predictions_total\{model="iris",outcome="ok",cached="(true|false)"\} [1-9]/);
    const onMain = await request(`${server.url}/metrics`, { headers: { authorization: 'Bearer ops-scraper' } });
    assert.equal(onMain.status, 404, 'with METRICS_PORT, /metrics is not on the main port');
    assert.equal((await request(new URL('/graphql', server.metricsUrl).href)).status, 404, 'the metrics port serves nothing else');
    const front = await request(`${server.url}/`);
    assert.equal(front.status, 200);
    assert.doesNotMatch(await front.text(), /href="\/metrics"/, 'the front page does not link to a /metrics the main port does not serve');
  });

  it('keeps /metrics open on the main port when neither is set', async () => {
    const plain = await startTestServer({ MODELS_DIR: modelsDir, WORKERS: '1' });
    try {
      assert.equal(plain.metricsUrl, undefined);
      const res = await plain.get('/metrics');
      assert.equal(res.status, 200);
      assert.match(await res.text(), /predictql_/);
      assert.match(await (await plain.get('/')).text(), /href="\/metrics"/, 'the front page links to it');
    } finally {
      await plain.close();
    }
  });
});

describe('EXECUTION_PROVIDERS', () => {
  it('falls back from CUDA to CPU where CUDA cannot load, logs it, and serves', async () => {
    const modelsDir = irisOnly();
    const cacheDir = tempDir();
    const server = await startCli(['--execution-providers', 'cuda,cpu', '--models-dir', modelsDir, '--workers', '1', '--cache-url', `lmdb://${cacheDir}`, '--watch-models', 'false']);
    try {
      const fallback = server.logs.find((l) => l.msg === 'execution provider unavailable; the session fell back to the next one');
      assert.ok(fallback, 'the fallback is logged');
      assert.equal(fallback.executionProvider, 'cuda');
      assert.equal(fallback.using, 'cpu');
      assert.match(String(fallback.reason), /cuda|shared library/i);
      const loaded = server.logs.find((l) => l.msg === 'model loaded');
      assert.deepEqual(Object.values(loaded!.executionProviders as Record<string, string>), ['cpu']);
      const res = await post(server.url, { query: IRIS });
      assert.deepEqual(await res.json(), { data: { predict: { label: 'setosa' } } });
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
      rmSync(modelsDir, { recursive: true, force: true });
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('logs the provider every session got with the default, CPU', async () => {
    const modelsDir = irisOnly();
    const cacheDir = tempDir();
    const server = await startCli(['--models-dir', modelsDir, '--workers', '1', '--cache-url', `lmdb://${cacheDir}`, '--watch-models', 'false']);
    try {
      assert.equal(server.logs.find((l) => l.msg === 'execution provider unavailable; the session fell back to the next one'), undefined);
      const loaded = server.logs.find((l) => l.msg === 'model loaded');
      assert.deepEqual(Object.values(loaded!.executionProviders as Record<string, string>), ['cpu']);
    } finally {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
      rmSync(modelsDir, { recursive: true, force: true });
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });
});
