/**
 * Limits on what a request sends and on the main-thread work it asks for (issue 15, item 1):
 *
 * - the query text (MAX_QUERY_BYTES) is refused before it is hashed, parsed, cached or
 *   registered as a persisted query, and the documents Apollo keeps are bounded by the memory
 *   they hold, source text included (DOCUMENT_CACHE_MAX_BYTES): a flood of unique padded queries,
 *   sent gzip-compressed, used to exhaust the heap;
 * - variables nested too deep or too large (MAX_VARIABLES_DEPTH, MAX_VARIABLES_BYTES) are refused
 *   before GraphQL coerces them;
 * - the request cost counts an image's decoded pixels, not its compressed bytes, and the values
 *   an answer writes by the fields selected.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { request } from './helpers/client.ts';
import { startCli, type CliServer } from './helpers/cli.ts';
import { IRIS_QUERY, startTestServer, type TestServer } from './helpers/server.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Resident memory of a process, in MB (Linux). */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!;
  return Math.round(Number(/(\d+)/.exec(line)![1]) / 1024);
}

/**
 * Unique queries of `bytes` + 24 bytes each (a comment pads them), as gzip bodies. The padding is
 * compressed once: a gzip stream may hold several members, and the server inflates them all,
 * so each body is the shared member followed by a small unique one.
 */
function paddedQueryBodies(count: number, bytes: number): Buffer[] {
  const padding = gzipSync(`{"query":"#${'x'.repeat(bytes)}\\n{ __typename } #`);
  return Array.from({ length: count }, (_, i) => Buffer.concat([padding, gzipSync(`${String(i).padStart(6, '0')}"}`)]));
}

async function postGzip(url: string, body: Buffer) {
  const res = await request(`${url}/graphql`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
  return { status: res.status, json: (await res.json()) as { data?: any; errors?: Array<{ message: string; extensions: Record<string, unknown> }> } };
}

/** Sends `bodies`, `concurrency` at a time, and returns every answer. */
async function flood(url: string, bodies: Buffer[], concurrency: number) {
  const answers: Array<Awaited<ReturnType<typeof postGzip>>> = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bodies.length) answers.push(await postGzip(url, bodies[next++]!));
    }),
  );
  return answers;
}

describe('a flood of padded queries', () => {
  let server: CliServer;
  before(async () => {
    // A 192 MB heap: on a server that keeps every padded document, a dozen 15 MB queries fill it.
    server = await startCli(['--cache-url', 'memory://', '--workers', '1'], {
      MAX_QUERY_BYTES: '2000000',
      DOCUMENT_CACHE_MAX_BYTES: String(16 * 1024 * 1024),
      NODE_OPTIONS: '--max-old-space-size=192',
    });
  });
  after(() => {
    server.child.kill('SIGKILL');
  });

  it('refuses query text over MAX_QUERY_BYTES unparsed, and bounds the documents it keeps by their size', async (t) => {
    const pid = server.child.pid!;
    const iris = async () => (await request(`${server.url}/graphql`, { method: 'POST', body: JSON.stringify({ query: IRIS_QUERY, variables: { features: [5.1, 3.5, 1.4, 0.2] } }), headers: { 'content-type': 'application/json' } })).json() as Promise<any>;
    assert.equal((await iris()).data.predict.label, 'setosa');
    const rssBefore = rssMb(pid);

    // 40 unique queries of 15 MB (13 KB each once compressed): each refused before it is parsed.
    const padded = await flood(server.url, paddedQueryBodies(40, 15_000_000), 2);
    for (const answer of padded) {
      assert.equal(answer.status, 400);
      assert.deepEqual(answer.json.errors![0]!.extensions, { code: 'QUERY_LIMIT_EXCEEDED', setting: 'MAX_QUERY_BYTES', limit: 2_000_000, found: 15_000_024 });
      assert.match(answer.json.errors![0]!.message, /15000024 bytes, over the limit of 2000000 \(MAX_QUERY_BYTES\).*variables/);
    }
    const rssAfterRefused = rssMb(pid);

    // 150 unique queries just under the limit: answered, and their documents (285 MB of text
    // together) kept only up to DOCUMENT_CACHE_MAX_BYTES.
    const allowed = await flood(server.url, paddedQueryBodies(150, 1_900_000), 2);
    for (const answer of allowed) assert.deepEqual(answer.json, { data: { __typename: 'Query' } });
    const rssAfterAllowed = rssMb(pid);

    assert.equal(server.child.exitCode, null, 'the server is still running');
    assert.equal((await iris()).data.predict.label, 'setosa');
    t.diagnostic(`RSS ${rssBefore} MB before, ${rssAfterRefused} MB after 40 refused 15 MB queries, ${rssAfterAllowed} MB after 150 accepted 1.9 MB ones`);
    assert.ok(rssAfterAllowed - rssBefore < 250, `RSS grew from ${rssBefore} to ${rssAfterAllowed} MB`);
  });
});

describe('request limits before parsing', () => {
  let server: TestServer;
  before(async () => {
    // MAX_BODY_JSON_VALUES raised so that the variables walk, not the body scan before it (test/json-body.test.ts), meets the 4 million numbers.
    server = await startTestServer({ CACHE_URL: 'memory://', MAX_QUERY_BYTES: '2048', MAX_VARIABLES_DEPTH: '8', MAX_VARIABLES_BYTES: '1000000', MAX_BODY_JSON_VALUES: '10000000', PLAYGROUND: 'false' });
  });
  after(() => server.close());

  it('does not register an oversized query as a persisted query', async () => {
    const query = `{ __typename } #${'x'.repeat(3000)}`;
    const extensions = { persistedQuery: { version: 1, sha256Hash: sha256(query) } };
    const sent = await server.graphql(query, undefined);
    assert.equal(sent.status, 400);
    assert.equal(sent.errors![0]!.extensions!.setting, 'MAX_QUERY_BYTES');
    const registered = await postJson(server, { query, extensions });
    assert.equal(registered.errors[0].extensions.code, 'QUERY_LIMIT_EXCEEDED');
    const byHash = await postJson(server, { extensions });
    assert.equal(byHash.errors[0].extensions.code, 'PERSISTED_QUERY_NOT_FOUND');
    // Counted in UTF-8 bytes: 700 three-byte characters are 2100 bytes.
    const wide = await server.graphql(`{ __typename } #${'€'.repeat(700)}`);
    assert.equal(wide.errors![0]!.extensions!.found, 2100 + '{ __typename } #'.length);
  });

  it('refuses variables nested deeper than MAX_VARIABLES_DEPTH or larger than MAX_VARIABLES_BYTES before coercing them', async () => {
    const deep = await postRawJson(server, `{"query":${JSON.stringify(IRIS_QUERY)},"variables":{"features":${'['.repeat(20_000)}${']'.repeat(20_000)}}}`);
    assert.equal(deep.status, 400);
    assert.deepEqual(deep.json.errors[0].extensions, { code: 'VARIABLES_LIMIT_EXCEEDED', setting: 'MAX_VARIABLES_DEPTH', limit: 8 });
    assert.match(deep.json.errors[0].message, /deeper than 8 levels \(MAX_VARIABLES_DEPTH\)/);
    // 4 million numbers: 8 MB of JSON, 32 MB as counted.
    const huge = await postRawJson(server, `{"query":${JSON.stringify(IRIS_QUERY)},"variables":{"features":[${'1,'.repeat(3_999_999)}1]}}`);
    assert.equal(huge.status, 400);
    assert.deepEqual(huge.json.errors[0].extensions, { code: 'VARIABLES_LIMIT_EXCEEDED', setting: 'MAX_VARIABLES_BYTES', limit: 1_000_000 });
    const wideObjects = await postRawJson(server, `{"query":${JSON.stringify(IRIS_QUERY)},"variables":{"features":[${'[[[0]]],'.repeat(400_000)}0]}}`);
    assert.equal(wideObjects.json.errors[0].extensions.setting, 'MAX_VARIABLES_BYTES');
    // Within the limits, the same variables work.
    const ok = await server.graphql(IRIS_QUERY, { features: [5.1, 3.5, 1.4, 0.2] });
    assert.equal(ok.data.predict.label, 'setosa');
    assert.equal(await server.metric('predictql_queries_refused_total', { limit: 'MAX_VARIABLES_BYTES' }), 2);
  });
});

describe('main-thread work in the request cost', () => {
  let server: TestServer;
  before(async () => {
    // An OCR line costs 25; 10,000 iris rows 10,000 plus what their answers and variables add.
    server = await startTestServer({ CACHE_URL: 'memory://', MAX_REQUEST_COST: '10200', PLAYGROUND: 'false' });
  });
  after(() => server.close());

  it('prices an image by the pixels its header declares, not by its compressed bytes', async () => {
    // A 1-bit 5000x5000 PNG: 3 KB, 25 megapixels to decode.
    const side = 5000;
    const raw = Buffer.alloc(side * side, 255);
    for (let y = 100; y < 140; y++) raw.fill(0, y * side + 100, y * side + 900);
    const png = await sharp(raw, { raw: { width: side, height: side, channels: 1 } }).png({ palette: true, colours: 2, compressionLevel: 9 }).toBuffer();
    assert.ok(png.length < 10_000, `${png.length} bytes`);
    const query = `query ($image: String!) { predict(model: "ocr", input: { image: $image }) { ... on TextRecognition { text } } }`;
    const sample = await server.graphql(query, { image: readFileSync(new URL('../models/ocr/sample.png', import.meta.url)).toString('base64') });
    assert.equal(sample.errors, undefined);
    // 25 units of a megapixel at ocr's 25 per unit: over a budget of 600.
    const low = await startTestServer({ CACHE_URL: 'off', MAX_REQUEST_COST: '600', PLAYGROUND: 'false' });
    try {
      const big = await low.graphql(query, { image: png.toString('base64') });
      assert.equal(big.status, 400);
      assert.deepEqual([big.errors![0]!.extensions!.code, big.errors![0]!.extensions!.cost], ['COST_LIMIT_EXCEEDED', 625]);
      // As a data URL too.
      const dataUrl = await low.graphql(query, { image: `data:image/png;base64,${png.toString('base64')}` });
      assert.equal(dataUrl.errors![0]!.extensions!.cost, 625);
    } finally {
      await low.close();
    }
  });

  it('prices a 10,000-row predictMany by the fields its answers write', async () => {
    const inputs = Array.from({ length: 10_000 }, (_, i) => ({ features: [4.5 + (i % 30) / 10, 3.4, 1.5 + (i % 50) / 10, 0.2 + (i % 20) / 10] }));
    const rows = (selection: string) => server.graphql(`query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { ${selection} } }`, { inputs });
    const label = await rows('... on Classification { label }');
    assert.equal(label.errors, undefined);
    assert.equal(label.data.predictMany.length, 10_000);
    // Cached now; every field of each row is still work for the main thread.
    const every = await rows('cached cacheSource model { name version } ... on Classification { label score classes { label score } probabilities }');
    assert.equal(every.status, 400);
    const error = every.errors![0]!;
    assert.equal(error.extensions!.code, 'COST_LIMIT_EXCEEDED');
    // Rows: 10,000 at iris's 1. Answers: 10,000 x (4 + 3 classes x 2 + 3 probabilities + 2 model
    // fields) = 150,000 values, at 100 a unit (`label` alone: 100 units). Variables: 60,001 values, at 2000 a unit.
    assert.equal(error.extensions!.cost, 10_000 + 1500 + 30);
    assert.match(error.message, /predictMany \(iris, 10000 inputs\): 11500/);
  });
});

async function postJson(server: TestServer, body: unknown) {
  const res = await request(`${server.url}/graphql`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return (await res.json()) as any;
}

async function postRawJson(server: TestServer, body: string) {
  const res = await request(`${server.url}/graphql`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  return { status: res.status, json: (await res.json()) as any };
}
