/**
 * The JSON body scan on POST /graphql (issue 15, "bounded everything"): a body of more than
 * MAX_BODY_JSON_VALUES values, or nesting deeper than MAX_VARIABLES_DEPTH allows, is refused
 * from its bytes before JSON.parse builds it (src/http/json-body.ts), gzip-compressed or not,
 * while big legitimate batches and strings full of brackets, quotes and escapes pass.
 */
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { scanJson } from '../src/http/json-body.ts';
import { request } from './helpers/client.ts';
import { IRIS_QUERY, startTestServer, type TestServer } from './helpers/server.ts';

const scan = (text: string, maxValues = 1e9, maxDepth = 1e9) => scanJson(Buffer.from(text), maxValues, maxDepth);

describe('scanJson', () => {
  it('counts every value once (keys not) and the deepest nesting', () => {
    assert.deepEqual(scan('{"query":"{ __typename }"}'), { values: 2, depth: 1 });
    assert.deepEqual(scan('[[0,1],[0,1]]'), { values: 7, depth: 2 });
    assert.deepEqual(scan(' { "a" : [ ] , "b" : { } , "c" : [ [ ] ] } '), { values: 5, depth: 3 });
    assert.deepEqual(scan('[true,false,null,-1.5e3,"x"]'), { values: 6, depth: 1 });
    assert.deepEqual(scan('5'), { values: 1, depth: 0 });
    assert.deepEqual(scan(' \n'), { values: 0, depth: 0 });
    for (const value of [[], {}, [[], {}], { a: [1, { b: [[]] }], c: 'd' }, [[[[[0]]]]]]) {
      const text = JSON.stringify(value);
      assert.equal((scan(text) as { values: number }).values, countValues(value), text);
    }
  });

  it('is not fooled by brackets, commas, quotes and escapes inside strings', () => {
    const tricky = ['[[[{{{,,,]]]}}}', 'a\\"b', '\\\\', '\\\\\\"[', '\\"]', '\u20ac[\u00e9,', 'x'.repeat(100) + '\\",[' + 'y'.repeat(100)];
    for (const inner of tricky) {
      // `inner` is written as it appears in the JSON text (escapes included): one string value.
      const text = `{"query":"${inner}","variables":{"k[,":"${inner}"}}`;
      JSON.parse(text); // valid JSON
      assert.deepEqual(scan(text), { values: 4, depth: 2 }, text);
    }
    // A string ending in an escaped backslash ends there: the bracket after it counts.
    assert.deepEqual(scan('["a\\\\",[1]]'), { values: 4, depth: 2 });
    // Long strings (searched natively) with escaped quotes and brackets.
    const long = `["${'\\"['.repeat(10_000)}",${'"]],",'.repeat(3)}0]`;
    assert.deepEqual(scan(long), { values: 6, depth: 1 });
  });

  it('stops at the first limit passed', () => {
    assert.deepEqual(scan('[0,1,2]', 4), { values: 4, depth: 1 });
    assert.deepEqual(scan('[0,1,2]', 3), { over: 'values', limit: 3 });
    assert.deepEqual(scan('[[],[],[]]', 4), { values: 4, depth: 2 });
    assert.deepEqual(scan('[[],[],[]]', 3), { over: 'values', limit: 3 });
    assert.deepEqual(scan('[[[]]]', 1e9, 3), { values: 3, depth: 3 });
    assert.deepEqual(scan('[[[[]]]]', 1e9, 3), { over: 'depth', limit: 3 });
    assert.deepEqual(scan(`${'['.repeat(100_000)}`, 1e9, 22), { over: 'depth', limit: 22 });
    assert.deepEqual(scan(`[${'[0,1],'.repeat(1_000_000)}[0,1]]`, 2_000_000), { over: 'values', limit: 2_000_000 });
  });
});

function countValues(value: unknown): number {
  if (Array.isArray(value)) return 1 + value.reduce((sum: number, item) => sum + countValues(item), 0);
  if (value !== null && typeof value === 'object') return 1 + Object.values(value).reduce((sum: number, item) => sum + countValues(item), 0);
  return 1;
}

type Answer = { status: number; json: { data?: any; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };

async function post(server: TestServer, body: string | Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await request(`${server.url}/graphql`, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, json: (await res.json()) as Answer['json'] };
}

describe('JSON bodies over a real server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ CACHE_URL: 'memory://', PLAYGROUND: 'false' });
  });
  after(() => server.close());

  /** 2.1 million values of `[0,1]` pairs, 4.2 MB: under MAX_BODY_BYTES, over MAX_BODY_JSON_VALUES (2000000). */
  const pairs = `{"query":${JSON.stringify(IRIS_QUERY)},"variables":{"features":[${'[0,1],'.repeat(700_000)}[0,1]]}}`;

  async function stillAnswers() {
    assert.equal((await server.get('/healthz')).status, 200);
    const ok = await server.graphql(IRIS_QUERY, { features: [5.1, 3.5, 1.4, 0.2] });
    assert.equal(ok.data.predict.label, 'setosa');
  }

  it('refuses a body of more than MAX_BODY_JSON_VALUES values before parsing it, plain or gzip-compressed', async () => {
    for (const [body, headers] of [[pairs, {}], [gzipSync(pairs), { 'content-encoding': 'gzip' }]] as const) {
      const refused = await post(server, body, headers);
      assert.equal(refused.status, 400);
      assert.deepEqual(refused.json.errors![0]!.extensions, { code: 'VARIABLES_LIMIT_EXCEEDED', setting: 'MAX_BODY_JSON_VALUES', limit: 2_000_000 });
      assert.match(refused.json.errors![0]!.message, /more than 2000000 JSON values \(MAX_BODY_JSON_VALUES/);
      assert.equal(refused.json.data, undefined);
      await stillAnswers();
    }
    assert.equal(await server.metric('predictql_queries_refused_total', { limit: 'MAX_BODY_JSON_VALUES' }), 2);
  });

  it('refuses a body nesting deeper than MAX_VARIABLES_DEPTH allows, and nothing the variables walk would take', async () => {
    const nested = (levels: number) => `{"query":${JSON.stringify(IRIS_QUERY)},"variables":{"features":${'['.repeat(levels)}${']'.repeat(levels)}}}`;
    for (const body of [nested(21), nested(100_000), gzipSync(nested(100_000))]) {
      const refused = await post(server, body, Buffer.isBuffer(body) ? { 'content-encoding': 'gzip' } : {});
      assert.equal(refused.status, 400);
      assert.deepEqual(refused.json.errors![0]!.extensions, { code: 'VARIABLES_LIMIT_EXCEEDED', setting: 'MAX_VARIABLES_DEPTH', limit: 20 });
      assert.match(refused.json.errors![0]!.message, /deeper than 20 levels \(MAX_VARIABLES_DEPTH\).*before it was parsed/);
    }
    // 20 levels of variables: within MAX_VARIABLES_DEPTH, so parsed, and refused by GraphQL as not a [Float!]!.
    const within = await post(server, nested(20));
    assert.equal(within.json.errors![0]!.extensions.code, 'BAD_USER_INPUT');
    await stillAnswers();
  });

  it('reads strings full of brackets, quotes and escapes as strings', async () => {
    const query = `${IRIS_QUERY} # ${'[{'.repeat(5000)} \\" ${',['.repeat(5000)} "`;
    const ok = await server.graphql(query, { features: [5.1, 3.5, 1.4, 0.2] });
    assert.equal(ok.data.predict.label, 'setosa');
    // Still JSON-parsed by Fastify's secure parser: a __proto__ key is refused.
    const poisoned = await post(server, `{"query":"{ __typename }","variables":{"__proto__":{"x":1}}}`);
    assert.equal(poisoned.status, 400);
    assert.equal(poisoned.json.errors![0]!.extensions.code, 'BAD_REQUEST');
  });

  it('takes a 100,000-row job (600,000 values), the largest documented batch', async () => {
    const inputs = Array.from({ length: 100_000 }, (_, i) => ({ features: [5.1, 3.5, 1.4, (i % 25) / 10] }));
    const submitted = await server.graphql('mutation ($inputs: [PredictionInput!]!) { submitPredictionJob(model: "iris", inputs: $inputs) { id total } }', { inputs });
    assert.equal(submitted.errors, undefined, JSON.stringify(submitted.errors));
    assert.equal(submitted.data.submitPredictionJob.total, 100_000);
    await server.graphql('mutation ($id: ID!) { cancelPredictionJob(id: $id) { state } }', { id: submitted.data.submitPredictionJob.id });
  });
});
