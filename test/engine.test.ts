/**
 * The inference engine through the HTTP API: batches across requests, in-flight dedup, the
 * bounded queue, deadlines, cancellation, worker crashes and fixed-batch models. A deliberately
 * slow model keeps the single worker busy so that queues form; no assertion is about time.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { drawDigitPng } from '../training/digits/render.ts';
import { modelsDirWithSlowModel } from './helpers/fixture-models.ts';
import { post } from './helpers/client.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const SLOW_MANY = 'query ($inputs: [PredictionInput!]!, $options: PredictOptions) { predictMany(model: "slow", inputs: $inputs, options: $options) { ... on Classification { label } } }';
const SLOW_ONE = 'query ($features: [Float!]!, $options: PredictOptions) { predict(model: "slow", input: { features: $features }, options: $options) { ... on Classification { label } } }';

/** A request whose 64 distinct rows keep the one worker busy for a while. */
function occupyWorker(server: TestServer, seed: number) {
  const inputs = Array.from({ length: 64 }, (_, i) => ({ features: [seed, i, 0, 0] }));
  return server.graphql(SLOW_MANY, { inputs });
}

/** Waits until the metric reaches `value` (the server updates it when a batch finishes). */
async function metricReaches(server: TestServer, name: string, labels: Record<string, string>, value: number): Promise<number> {
  for (let i = 0; i < 200; i++) {
    const current = await server.metric(name, labels);
    if (current >= value) return current;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return server.metric(name, labels);
}

describe('engine', () => {
  let server: TestServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = modelsDirWithSlowModel(200, { batching: { maxBatchSize: 64, maxDelayMs: 2, maxQueue: 100 } }, ['iris', 'digits']);
    server = await startTestServer({ MODELS_DIR: modelsDir, WORKERS: '1', CACHE_URL: 'off' });
  });
  after(async () => {
    await server.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('merges inputs of concurrent requests into one batch', async () => {
    const batchesBefore = await server.metric('predictql_batch_size_count', { model: 'slow' });
    const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'slow' });
    const busy = occupyWorker(server, 1);
    // Twenty separate HTTP requests while the worker is busy: they wait in one queue.
    const singles = Array.from({ length: 20 }, (_, i) => server.graphql(SLOW_ONE, { features: [2, i, 0, 0] }));
    const results = await Promise.all([busy, ...singles]);
    for (const res of results) assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const batches = (await server.metric('predictql_batch_size_count', { model: 'slow' })) - batchesBefore;
    const rows = (await server.metric('predictql_batch_size_sum', { model: 'slow' })) - rowsBefore;
    assert.equal(rows, 64 + 20);
    assert.ok(batches < 1 + 20, `64 + 20 inputs from 21 requests ran in ${batches} batches`);
  });

  it('computes an input pending for several requests once', async () => {
    const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'slow' });
    const busy = occupyWorker(server, 3);
    const same = Array.from({ length: 8 }, () => server.graphql(SLOW_ONE, { features: [4, 4, 4, 4] }));
    const results = await Promise.all([busy, ...same]);
    for (const res of results) assert.equal(res.errors, undefined);
    const labels = new Set(results.slice(1).map((r) => r.data.predict.label));
    assert.equal(labels.size, 1);
    assert.equal((await server.metric('predictql_batch_size_sum', { model: 'slow' })) - rowsBefore, 64 + 1);
  });

  it('refuses inputs past the queue limit with OVERLOADED, HTTP 503 and Retry-After', async () => {
    const busy = occupyWorker(server, 5);
    await new Promise((resolve) => setTimeout(resolve, 50));
    // 150 new inputs against a queue of 100 while the worker is busy.
    const inputs = Array.from({ length: 150 }, (_, i) => ({ features: [6, i, 0, 0] }));
    const res = await post(server.url, { query: SLOW_MANY, variables: { inputs } });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '1');
    const body = (await res.json()) as { errors: Array<{ message: string; extensions: { code: string } }> };
    assert.equal(body.errors[0]!.extensions.code, 'OVERLOADED');
    // Refused whole (nothing of it queued): more inputs than MAX_QUEUE while the model is busy.
    assert.match(body.errors[0]!.message, /model "slow" has \d+ inputs queued and \d+ running; this request's 150 more would pass its limit of 100 \(MAX_QUEUE\), so none was queued\. A request of more inputs than that is taken only while the model is idle/);
    assert.ok((await server.metric('predictql_rejected_total', { model: 'slow', reason: 'OVERLOADED' })) >= 1);
    assert.equal((await busy).errors, undefined);
    // Once the queue has drained, the same request is accepted.
    const retry = await server.graphql(SLOW_MANY, { inputs: inputs.slice(0, 10) });
    assert.equal(retry.errors, undefined);
  });

  it('answers DEADLINE_EXCEEDED and drops the input before it runs', async () => {
    const droppedBefore = await server.metric('predictql_dropped_total', { model: 'slow', reason: 'DEADLINE_EXCEEDED' });
    const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'slow' });
    const busy = occupyWorker(server, 7);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const late = await server.graphql(SLOW_ONE, { features: [8, 8, 8, 8], options: { deadlineMs: 30 } });
    assert.equal(late.errors?.[0]?.extensions?.code, 'DEADLINE_EXCEEDED');
    assert.match(late.errors![0]!.message, /did not finish within its deadline of 30 ms \(queue time included\)/);
    assert.equal((await busy).errors, undefined);
    assert.equal(await metricReaches(server, 'predictql_dropped_total', { model: 'slow', reason: 'DEADLINE_EXCEEDED' }, droppedBefore + 1), droppedBefore + 1);
    assert.equal((await server.metric('predictql_batch_size_sum', { model: 'slow' })) - rowsBefore, 64, 'the expired input never ran');
  });

  it('rejects a deadline out of range', async () => {
    const res = await server.graphql(SLOW_ONE, { features: [1, 1, 1, 1], options: { deadlineMs: 0 } });
    assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(res.errors![0]!.message, /options.deadlineMs is 0; it must be a whole number of milliseconds from 1 to 600000/);
  });

  it('drops the queued inputs of a client that disconnects', async () => {
    const cancelledBefore = await server.metric('predictql_dropped_total', { model: 'slow', reason: 'CANCELLED' });
    const busy = occupyWorker(server, 9);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const controller = new AbortController();
    const inputs = Array.from({ length: 5 }, (_, i) => ({ features: [10, i, 0, 0] }));
    const gone = post(server.url, { query: SLOW_MANY, variables: { inputs } }, { signal: controller.signal }).catch((error: Error) => error);
    await new Promise((resolve) => setTimeout(resolve, 50));
    controller.abort();
    assert.ok((await gone) instanceof Error);
    assert.equal((await busy).errors, undefined);
    assert.equal(await metricReaches(server, 'predictql_dropped_total', { model: 'slow', reason: 'CANCELLED' }, cancelledBefore + 5), cancelledBefore + 5);
  });

  it('fails only the batch that ONNX Runtime fails on, and keeps serving', async () => {
    const query = 'query ($f: [Float!]!) { predict(model: "fragile", input: { features: $f }) { ... on Classification { label } } }';
    const bad = await server.graphql(query, { f: [5, 5, 0, 0] });
    assert.equal(bad.errors?.[0]?.extensions?.code, 'INFERENCE_FAILED');
    assert.match(bad.errors![0]!.message, /model "fragile" failed to run: .*Reshape/i);
    const good = await server.graphql(query, { f: [-1, 3, 0, 0] });
    assert.equal(good.errors, undefined);
    // A failure is never cached: the same bad input fails again, computed again.
    const again = await server.graphql(query, { f: [5, 5, 0, 0] });
    assert.equal(again.errors?.[0]?.extensions?.code, 'INFERENCE_FAILED');
  });

  it('fails only the input that cannot be processed, not its batch-mates', async () => {
    const batchesBefore = await server.metric('predictql_batch_size_count', { model: 'digits' });
    const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'digits' });
    const busy = occupyWorker(server, 13);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const query = 'query ($image: String!) { predict(model: "digits", input: { image: $image }) { ... on Classification { label } } }';
    const three = Buffer.from(await drawDigitPng(3)).toString('base64');
    const seven = Buffer.from(await drawDigitPng(7)).toString('base64');
    const corrupt = Buffer.from(await drawDigitPng(5)).subarray(0, 200).toString('base64');
    const [, a, bad, b] = await Promise.all([busy, server.graphql(query, { image: three }), server.graphql(query, { image: corrupt }), server.graphql(query, { image: seven })]);
    assert.equal(a.data.predict.label, '3');
    assert.equal(b.data.predict.label, '7');
    assert.equal(bad.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(bad.errors![0]!.message, /image looks like a PNG but could not be decoded/);
    assert.equal((await server.metric('predictql_batch_size_count', { model: 'digits' })) - batchesBefore, 1, 'the three inputs ran as one batch');
    assert.equal((await server.metric('predictql_batch_size_sum', { model: 'digits' })) - rowsBefore, 3);
  });

  it('feeds a model whose graph fixes the batch at 1 one input per run', async () => {
    const info = await server.graphql('{ model(name: "fixed") { batching { maxBatchSize } } }');
    assert.equal(info.data.model.batching.maxBatchSize, 1);
    const batchesBefore = await server.metric('predictql_batch_size_count', { model: 'fixed' });
    const ones = await server.metric('predictql_batch_size_bucket', { model: 'fixed', le: '1' });
    const inputs = Array.from({ length: 10 }, (_, i) => ({ features: [i, 1, 2, 3] }));
    const res = await server.graphql('query ($inputs: [PredictionInput!]!) { predictMany(model: "fixed", inputs: $inputs) { ... on Classification { label } } }', { inputs });
    assert.equal(res.errors, undefined);
    assert.equal(res.data.predictMany.length, 10);
    assert.equal((await server.metric('predictql_batch_size_count', { model: 'fixed' })) - batchesBefore, 10);
    assert.equal((await server.metric('predictql_batch_size_bucket', { model: 'fixed', le: '1' })) - ones, 10, 'every batch had one input');
  });
});
