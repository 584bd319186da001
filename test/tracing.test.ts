/**
 * Traces: with OTEL_EXPORTER_OTLP_ENDPOINT set, a GraphQL request becomes one trace, continued from
 * the caller's W3C traceparent and exported over OTLP/HTTP to a receiver this test runs: a server
 * span, GraphQL's phases under it, the prediction's phases under execution. Without an endpoint,
 * nothing is created.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createTracing } from '../src/observability/tracing.ts';
import { post } from './helpers/client.ts';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from './helpers/otlp-receiver.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const GRAPHQL_PHASES = ['graphql.parse', 'graphql.validate', 'graphql.execute'];
const PREDICTION_PHASES = ['cache.lookup', 'queue.wait', 'preprocess', 'inference', 'postprocess', 'cache.write'];
const SERVER = 2;

const hasAll = (names: string[]) => (spans: ReceivedSpan[]) => names.every((name) => spans.some((s) => s.name === name)) && spans.some((s) => s.kind === SERVER);

describe('traces over OTLP/HTTP', () => {
  let receiver: OtlpReceiver;
  let server: TestServer;
  before(async () => {
    receiver = await startOtlpReceiver();
    server = await startTestServer({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_SERVICE_NAME: 'predictql-under-test', OTEL_BSP_SCHEDULE_DELAY: '20' });
  });
  after(async () => {
    await server?.close();
    await receiver?.close();
  });

  it("continues the caller's traceparent with a span per phase, each under the right parent", async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpanId = randomBytes(8).toString('hex');
    const query = '{ predict(model: "iris", input: { features: [6.1, 2.8, 4.7, 1.2] }) { ... on Classification { label } } }';
    const res = await post(server.url, { query }, { headers: { traceparent: `00-${traceId}-${callerSpanId}-01` } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as any).data.predict.label, 'versicolor');

    const spans = await receiver.waitFor(traceId, hasAll([...GRAPHQL_PHASES, ...PREDICTION_PHASES]));
    assert.ok(receiver.paths.every((p) => p === '/v1/traces'), `posted to ${receiver.paths.join(', ')}`);
    const byName = (name: string) => {
      const found = spans.filter((s) => s.name === name);
      assert.equal(found.length, 1, `one ${name} span, got ${found.length}`);
      return found[0]!;
    };
    const root = spans.find((s) => s.kind === SERVER)!;
    assert.equal(root.name, 'POST /graphql');
    assert.equal(root.parentSpanId, callerSpanId, "the server span's parent is the caller's span");
    assert.equal(root.attributes['http.response.status_code'], 200);
    assert.equal(root.resource['service.name'], 'predictql-under-test');
    for (const name of GRAPHQL_PHASES) assert.equal(byName(name).parentSpanId, root.spanId, `${name} under the request`);
    const execute = byName('graphql.execute');
    for (const name of PREDICTION_PHASES) {
      // A miss is looked up twice: in memory first (in the resolver's turn), then in the store.
      const found = spans.filter((s) => s.name === name);
      if (name !== 'cache.lookup') assert.equal(found.length, 1, `one ${name} span, got ${found.length}`);
      for (const span of found) {
        assert.equal(span.parentSpanId, execute.spanId, `${name} under graphql.execute`);
        assert.equal(span.attributes['predictql.model'], 'iris');
      }
    }
    assert.equal(byName('inference').attributes['predictql.batch_size'], 1);
    // Made after the fact from measured times: each span lies within the request's.
    for (const span of spans) {
      assert.ok(span.startNs >= root.startNs && span.endNs <= root.endNs && span.startNs <= span.endNs, `${span.name} within the request`);
    }
    const order = ['queue.wait', 'preprocess', 'inference', 'postprocess'].map((name) => byName(name));
    for (let i = 1; i < order.length; i++) assert.ok(order[i]!.startNs >= order[i - 1]!.endNs, `${order[i]!.name} after ${order[i - 1]!.name}`);
  });

  it('starts a new trace for a request without traceparent, and answers from the cache without worker phases', async () => {
    const query = '{ predict(model: "iris", input: { features: [6.1, 2.8, 4.7, 1.2] }) { cached } }';
    const seen = new Set(receiver.spans.map((s) => s.traceId));
    const res = await post(server.url, { query });
    assert.equal(((await res.json()) as any).data.predict.cached, true);
    const deadline = Date.now() + 15_000;
    let root: ReceivedSpan | undefined;
    while (!root && Date.now() < deadline) {
      root = receiver.spans.find((s) => s.kind === SERVER && !seen.has(s.traceId));
      if (!root) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.ok(root, 'a server span of a new trace');
    assert.equal(root.parentSpanId, '');
    const spans = await receiver.waitFor(root.traceId, hasAll(['graphql.execute', 'cache.lookup']));
    assert.deepEqual(spans.filter((s) => ['queue.wait', 'inference', 'cache.write'].includes(s.name)), [], 'a cache hit runs no model');
  });

  it('samples by OTEL_TRACES_SAMPLER_ARG: at 0 it traces only requests whose caller sampled them', async () => {
    const sampled = await startTestServer({ OTEL_EXPORTER_OTLP_ENDPOINT: receiver.url, OTEL_BSP_SCHEDULE_DELAY: '20', OTEL_TRACES_SAMPLER_ARG: '0' });
    try {
      const query = '{ predict(model: "iris", input: { features: [5.9, 3.0, 5.1, 1.8] }) { ... on Classification { label } } }';
      const ids = (flags: string) => ({ traceId: randomBytes(16).toString('hex'), spanId: randomBytes(8).toString('hex'), flags });
      const [followed, declined] = [ids('01'), ids('00')];
      for (const { traceId, spanId, flags } of [declined, followed]) {
        const res = await post(sampled.url, { query }, { headers: { traceparent: `00-${traceId}-${spanId}-${flags}` } });
        assert.equal(((await res.json()) as any).data.predict.label, 'virginica');
      }
      // Ten requests of their own: none traced at ratio 0.
      const before = receiver.spans.length;
      for (let i = 0; i < 10; i++) await post(sampled.url, { query });
      // The caller's sampled flag is followed: that trace arrives with its phases.
      await receiver.waitFor(followed.traceId, hasAll(['graphql.execute', 'cache.lookup']));
      // The spans of the declined request, or of the ten, would have been sent in the same batches.
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.deepEqual(receiver.spans.filter((s) => s.traceId === declined.traceId), []);
      assert.deepEqual(receiver.spans.slice(before).filter((s) => s.traceId !== followed.traceId), [], 'no trace of the requests without a caller decision');
    } finally {
      await sampled.close();
    }
  });

  it('creates nothing without an endpoint', () => {
    assert.equal(createTracing({ serviceName: 'x', scheduleDelayMs: 10 }), undefined);
    assert.equal(createTracing({ endpoint: '', serviceName: 'x', scheduleDelayMs: 10 }), undefined);
  });
});
