/** Where the time goes: per-phase timings in the response, Prometheus histograms, request ids. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { post as postTo } from './helpers/client.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const PHASES = ['httpBodyParse', 'graphqlParse', 'graphqlValidate', 'cacheLookup', 'queueWait', 'preprocess', 'inference', 'postprocess', 'cacheWrite', 'execution', 'serialization'];

describe('observability', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  const post = (body: unknown, headers: Record<string, string> = {}) => postTo(server.url, body, { headers });

  it('reports every phase in extensions when the client asks, and only then', async () => {
    const query = '{ predict(model: "iris", input: { features: [5.3, 3.7, 1.5, 0.2] }) { ... on Classification { label score } } }';
    const res = await post({ query }, { 'x-predictql-timings': '1', 'x-request-id': 'test-request-42' });
    assert.equal(res.headers.get('x-request-id'), 'test-request-42');
    const body = (await res.json()) as { data: unknown; extensions: { timings: Record<string, number>; requestId: string } };
    assert.equal(body.extensions.requestId, 'test-request-42');
    const { timings } = body.extensions;
    for (const phase of PHASES) assert.equal(typeof timings[`${phase}Ms`], 'number', `${phase} reported`);
    // The model ran for this request: its phases were measured, not left at zero.
    for (const phase of ['graphqlParse', 'execution', 'inference', 'serialization']) assert.ok(timings[`${phase}Ms`]! > 0, `${phase} > 0`);
    assert.ok(timings.totalMs! >= timings.executionMs!);
    const plain = (await (await post({ query })).json()) as { extensions?: unknown };
    assert.equal(plain.extensions, undefined);
    // Without a sane id of the client's, the server makes one: its process prefix and a counter.
    const made = (await Promise.all([post({ query }), post({ query }, { 'x-request-id': 'not a sane id!' })])).map((r) => r.headers.get('x-request-id') ?? '');
    for (const id of made) assert.match(id, /^[0-9a-f]{12}-[0-9a-z]+$/);
    assert.notEqual(made[0], made[1]);
    assert.equal(made[0]!.split('-')[0], made[1]!.split('-')[0], 'one prefix per process');
  });

  it('counts requests, phases, batches and cache lookups in /metrics after known traffic', async () => {
    const before = {
      parse: await server.metric('predictql_request_phase_seconds_count', { phase: 'execution' }),
      inference: await server.metric('predictql_request_phase_seconds_count', { phase: 'inference' }),
      ok: await server.metric('predictql_predictions_total', { model: 'iris', outcome: 'ok', cached: 'false' }),
      hits: await server.metric('predictql_cache_lookups_total', { model: 'iris', result: 'hit_l1' }),
      bad: await server.metric('predictql_predictions_total', { model: 'iris', outcome: 'BAD_USER_INPUT', cached: 'false' }),
    };
    const distinct = [4.6, 4.7, 4.8].map((v) => ({ query: `{ predict(model: "iris", input: { features: [${v}, 3.1, 1.5, 0.2] }) { ... on Classification { label } } }` }));
    for (const body of distinct) await post(body);
    await post(distinct[0]); // a cache hit
    const after = {
      parse: await server.metric('predictql_request_phase_seconds_count', { phase: 'execution' }),
      inference: await server.metric('predictql_request_phase_seconds_count', { phase: 'inference' }),
      ok: await server.metric('predictql_predictions_total', { model: 'iris', outcome: 'ok', cached: 'false' }),
      hits: await server.metric('predictql_cache_lookups_total', { model: 'iris', result: 'hit_l1' }),
    };
    assert.equal(after.parse - before.parse, 4, 'four requests executed (Apollo parses a repeated document once)');
    assert.equal(after.inference - before.inference, 3);
    assert.equal(after.ok - before.ok, 3);
    assert.equal(after.hits - before.hits, 1);
    const text = await (await server.get('/metrics')).text();
    for (const name of ['predictql_batch_size_bucket', 'predictql_queue_seconds_bucket', 'predictql_queue_depth', 'predictql_batch_phase_seconds_bucket', 'predictql_model_load_seconds_count', 'predictql_model_memory_bytes', 'predictql_nodejs_eventloop_lag_p99_seconds', 'predictql_outputs_fetched_total', 'predictql_pool_workers 2', 'predictql_pool_busy_workers', 'predictql_pool_waiting_batches']) {
      assert.ok(text.includes(name), `${name} exposed`);
    }
    assert.equal(before.bad >= 0, true);
  });
});
