/**
 * CORS over real HTTP: preflights from listed and unlisted origins, credentials on and off, `*`,
 * and none of it by default. Sent through node:http, which sends an Origin header as given (the
 * browser's side is test/browser/cors.test.ts). Also the README's GET request through curl: what
 * a GET needs to pass Apollo's CSRF prevention.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { request } from './helpers/client.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const APP = 'http://app.example.test:8080';
const OTHER = 'https://evil.example.test';
const QUERY = JSON.stringify({ query: '{ predict(model: "iris", input: { features: [5.1, 3.5, 1.4, 0.2] }) { ... on Classification { label } } }' });

function preflight(server: TestServer, origin: string, requestHeaders = 'content-type,x-request-id') {
  return request(`${server.url}/graphql`, {
    method: 'OPTIONS',
    agent: false,
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': requestHeaders },
  });
}

function postFrom(server: TestServer, origin: string | undefined) {
  return request(`${server.url}/graphql`, {
    method: 'POST',
    agent: false,
    headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
    body: QUERY,
  });
}

const list = (value: string | null) => (value ?? '').split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);

describe('CORS with a list of origins', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ CACHE_URL: 'memory://', CORS_ORIGINS: `${APP},https://second.example.test` });
  });
  after(() => server.close());

  it('answers a preflight from a listed origin with what a page may send', async () => {
    const res = await preflight(server, APP, 'content-type,authorization,x-request-id,x-predictql-timings,apollo-require-preflight');
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(res.headers.get('access-control-allow-credentials'), null, 'no credentials unless CORS_CREDENTIALS');
    assert.ok(list(res.headers.get('access-control-allow-methods')).includes('post'));
    const allowed = list(res.headers.get('access-control-allow-headers'));
    for (const header of ['content-type', 'authorization', 'x-request-id', 'x-predictql-timings', 'apollo-require-preflight']) assert.ok(allowed.includes(header), header);
    assert.ok(list(res.headers.get('vary')).includes('origin'), 'caches keep answers per origin');
  });

  it('lets a listed origin read the answer and its request id', async () => {
    const res = await postFrom(server, APP);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.ok(list(res.headers.get('access-control-expose-headers')).includes('x-request-id'));
    assert.deepEqual(await res.json(), { data: { predict: { label: 'setosa' } } });
    const second = await postFrom(server, 'https://second.example.test');
    assert.equal(second.headers.get('access-control-allow-origin'), 'https://second.example.test');
  });

  it('gives an unlisted origin no Access-Control-Allow-Origin, so its browser withholds the answer', async () => {
    const res = await preflight(server, OTHER);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const post = await postFrom(server, OTHER);
    assert.equal(post.headers.get('access-control-allow-origin'), null);
    // A listed host on another port or scheme is another origin.
    assert.equal((await preflight(server, 'http://app.example.test:8081')).headers.get('access-control-allow-origin'), null);
    assert.equal((await preflight(server, 'https://app.example.test:8080')).headers.get('access-control-allow-origin'), null);
  });

  it('still answers same-origin and non-browser clients, which send no Origin', async () => {
    const res = await postFrom(server, undefined);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });
});

describe('CORS with credentials', () => {
  it('sends Access-Control-Allow-Credentials to listed origins', async () => {
    const server = await startTestServer({ CACHE_URL: 'memory://', CORS_ORIGINS: APP, CORS_CREDENTIALS: 'true' });
    try {
      const res = await preflight(server, APP, 'content-type,authorization');
      assert.equal(res.status, 204);
      assert.equal(res.headers.get('access-control-allow-origin'), APP, 'the origin itself: browsers refuse * with credentials');
      assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
      const post = await postFrom(server, APP);
      assert.equal(post.headers.get('access-control-allow-credentials'), 'true');
      assert.equal((await preflight(server, OTHER)).headers.get('access-control-allow-origin'), null);
    } finally {
      await server.close();
    }
  });
});

describe('CORS_ORIGINS=*', () => {
  it('lets any origin call, without credentials', async () => {
    const server = await startTestServer({ CACHE_URL: 'memory://', CORS_ORIGINS: '*' });
    try {
      for (const origin of [APP, OTHER]) {
        const res = await preflight(server, origin);
        assert.equal(res.status, 204);
        assert.equal(res.headers.get('access-control-allow-origin'), '*');
        assert.equal(res.headers.get('access-control-allow-credentials'), null);
        const post = await postFrom(server, origin);
        assert.equal(post.headers.get('access-control-allow-origin'), '*');
        assert.deepEqual(await post.json(), { data: { predict: { label: 'setosa' } } });
      }
    } finally {
      await server.close();
    }
  });
});

describe('no CORS_ORIGINS (the default)', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ CACHE_URL: 'memory://' });
  });
  after(() => server.close());

  it('sends no CORS headers and answers no preflight', async () => {
    const res = await preflight(server, APP);
    assert.equal(res.status, 404);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    const post = await postFrom(server, APP);
    assert.equal(post.status, 200);
    assert.equal(post.headers.get('access-control-allow-origin'), null);
    assert.equal(post.headers.get('access-control-expose-headers'), null);
  });

  it("runs the README's GET request through curl; without a preflight header a GET is refused (CSRF prevention)", async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const line = readme.split('\n').find((l) => l.startsWith("curl -G 'http://127.0.0.1:4000/graphql'"));
    assert.ok(line, 'the README has the GET example');
    const args = [...line.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!).slice(1).map((arg) => arg.replace('http://127.0.0.1:4000', server.url));
    const { stdout } = await promisify(execFile)('curl', ['-sS', ...args]);
    assert.deepEqual(JSON.parse(stdout), { data: { predict: { label: 'setosa' } } });
    // The same GET with no header that forces a preflight is what a cross-site <img> or link sends.
    const query = args.find((a) => a.startsWith('query='))!.slice('query='.length);
    const url = `${server.url}/graphql?query=${encodeURIComponent(query)}`;
    const plain = await request(url);
    assert.equal(plain.status, 400);
    assert.match(await plain.text(), /Cross-Site Request Forgery/);
    const named = await request(url, { headers: { 'x-apollo-operation-name': 'Iris' } });
    assert.equal(named.status, 200);
  });
});
