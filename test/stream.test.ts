/**
 * predictStream over real sockets with the real clients: graphql-ws (+ ws) and graphql-sse in
 * both its modes. Answers against predictMany's, errors per input, limits before any work.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { graphql } from './helpers/client.ts';
import { modelsDirWithSlowModel } from './helpers/fixture-models.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { collect, irisRows, PREDICT_STREAM, sseClient, wsClient, wsUrl, type StreamResult } from './helpers/streams.ts';
import WebSocket from 'ws';

interface Event {
  index: number;
  done: number;
  total: number;
  prediction: { cached: boolean; label?: string } | null;
  error: { code: string; message: string } | null;
}

/** Checks the events of a whole stream: each index once, `done` counting to `total`. */
function eventsOf(results: StreamResult<{ predictStream: Event }>[], total: number): Event[] {
  const events = results.map((r) => {
    assert.equal(r.errors, undefined, JSON.stringify(r.errors));
    return r.data!.predictStream;
  });
  assert.equal(events.length, total);
  assert.deepEqual(
    events.map((e) => e.done),
    Array.from({ length: total }, (_, i) => i + 1),
  );
  assert.ok(events.every((e) => e.total === total));
  assert.deepEqual(
    events.map((e) => e.index).sort((a, b) => a - b),
    Array.from({ length: total }, (_, i) => i),
  );
  return events;
}

describe('predictStream', () => {
  let server: TestServer;
  // iris, ocr, and `slow` (one input per batch here, so a stream of it stays open a while).
  const modelsDir = modelsDirWithSlowModel(40, { batching: { maxBatchSize: 1, maxDelayMs: 0 } }, ['iris', 'ocr']);
  before(async () => {
    server = await startTestServer({ MODELS_DIR: modelsDir, MAX_STREAMS: '4', STREAM_BUFFER_EVENTS: '64', MAX_REQUEST_COST: '5000', MAX_QUERY_BYTES: '4096' });
  });
  after(async () => {
    await server.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  const predictMany = async (rows: number[][]) => {
    const res = await server.graphql('query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs, options: { cache: REFRESH }) { ... on Classification { label } } }', {
      inputs: rows.map((features) => ({ features })),
    });
    assert.equal(res.errors, undefined);
    return (res.data.predictMany as Array<{ label: string }>).map((p) => p.label);
  };

  it('streams 300 distinct iris rows over graphql-ws: 300 events, each index once, the labels of predictMany', async () => {
    const rows = irisRows(300);
    const expected = await predictMany(rows);
    const client = wsClient(server.url);
    try {
      const { results, failure } = await collect<{ predictStream: Event }>(client.iterate({ query: PREDICT_STREAM, variables: { model: 'iris', inputs: rows.map((features) => ({ features })), options: { cache: 'BYPASS' } } }));
      assert.equal(failure, undefined);
      const events = eventsOf(results, 300);
      for (const event of events) {
        assert.equal(event.error, null);
        assert.equal(event.prediction!.label, expected[event.index], `input ${event.index}`);
      }
      assert.ok(new Set(expected).size > 1, 'the rows cover more than one species');
    } finally {
      await client.dispose();
    }
    assert.equal(await server.metric('predictql_streams_open'), 0);
    assert.ok((await server.metric('predictql_stream_events_total')) >= 300);
  });

  it('streams the same rows over graphql-sse, distinct connections and single connection: cache hits now', async () => {
    const rows = irisRows(300);
    const expected = await predictMany(rows);
    for (const single of [false, true]) {
      const client = sseClient(server.url, single);
      try {
        const { results, failure } = await collect<{ predictStream: Event }>(client.iterate({ query: PREDICT_STREAM, variables: { model: 'iris', inputs: rows.map((features) => ({ features })) } }));
        assert.equal(failure, undefined, String(failure));
        const events = eventsOf(results, 300);
        for (const event of events) assert.equal(event.prediction!.label, expected[event.index]);
        // predictMany above (REFRESH) stored every answer: all hits.
        assert.ok(events.every((e) => e.prediction!.cached));
      } finally {
        client.dispose();
      }
    }
  });

  it('answers cache hits first, then the computed inputs', async () => {
    const rows = irisRows(40).map(([a, b, c, d]) => [a! + 0.001, b!, c!, d!]);
    await predictMany(rows.slice(20)); // the second half is cached
    const client = wsClient(server.url);
    try {
      const { results } = await collect<{ predictStream: Event }>(client.iterate({ query: PREDICT_STREAM, variables: { model: 'iris', inputs: rows.map((features) => ({ features })) } }));
      const events = eventsOf(results, 40);
      assert.deepEqual(
        events.slice(0, 20).map((e) => e.prediction!.cached),
        Array(20).fill(true),
      );
      assert.ok(events.slice(20).every((e) => !e.prediction!.cached && e.index < 20));
    } finally {
      await client.dispose();
    }
  });

  it('carries valid and invalid inputs in one stream: an error event for each bad one, answers for the rest', async () => {
    const inputs = [{ features: [5.1, 3.5, 1.4, 0.2] }, { features: [1, 2] }, { text: 'not a flower' }, { features: [6.7, 3.0, 5.2, 2.3] }];
    for (const client of [wsClient(server.url), sseClient(server.url)]) {
      try {
        const { results } = await collect<{ predictStream: Event }>(client.iterate({ query: PREDICT_STREAM, variables: { model: 'iris', inputs } }));
        const events = eventsOf(results, 4);
        const byIndex = new Map(events.map((e) => [e.index, e]));
        assert.equal(byIndex.get(0)!.prediction!.label, 'setosa');
        assert.equal(byIndex.get(3)!.prediction!.label, 'virginica');
        for (const bad of [1, 2]) {
          assert.equal(byIndex.get(bad)!.prediction, null);
          assert.equal(byIndex.get(bad)!.error!.code, 'BAD_USER_INPUT');
          assert.match(byIndex.get(bad)!.error!.message, new RegExp(`inputs\\[${bad}\\]`));
        }
      } finally {
        await client.dispose();
      }
    }
  });

  it('applies the limits of queries before any work is queued', async () => {
    const batches = await server.metric('predictql_batch_size_count', { model: 'iris' });
    const client = wsClient(server.url);
    try {
      const run = async (query: string, variables: Record<string, unknown>) => (await collect(client.iterate({ query, variables }))).failure as Array<{ message: string; extensions: { code: string } }>;
      // Too many inputs for one request (iris: 10000 by default).
      const tooMany = await run(PREDICT_STREAM, { model: 'iris', inputs: Array.from({ length: 10_001 }, () => ({ features: [1, 2, 3, 4] })) });
      assert.equal(tooMany[0]!.extensions.code, 'COST_LIMIT_EXCEEDED'); // 10001 inputs cost more than 5000 first
      // A stream of OCR lines over MAX_REQUEST_COST (25 per line).
      const costly = await run(PREDICT_STREAM, { model: 'ocr', inputs: Array.from({ length: 201 }, () => ({ image: 'aGVsbG8=' })) });
      assert.equal(costly[0]!.extensions.code, 'COST_LIMIT_EXCEEDED');
      // Depth, and an unknown model, and a query sent to the stream transport.
      const deep = await run(`subscription { predictStream(model: "iris", inputs: []) { prediction { model { versions { versions { versions { versions { versions { versions { versions { versions { versions { name } } } } } } } } } } } } }`, {});
      assert.equal(deep[0]!.extensions.code, 'QUERY_LIMIT_EXCEEDED');
      // The request limits of POST /graphql, before parsing: the query text, the variables' depth.
      const padded = await run(`${PREDICT_STREAM}\n#${'x'.repeat(4096)}`, { model: 'iris', inputs: [] });
      assert.equal(padded[0]!.extensions.code, 'QUERY_LIMIT_EXCEEDED');
      assert.match(padded[0]!.message, /MAX_QUERY_BYTES/);
      let nested: unknown = [1, 2, 3, 4];
      for (let i = 0; i < 25; i++) nested = [nested];
      const deepVariables = await collect(sseClient(server.url).iterate({ query: PREDICT_STREAM, variables: { model: 'iris', inputs: [{ features: nested }] } }));
      const deepErrors = deepVariables.results[0]?.errors ?? (deepVariables.failure as StreamResult['errors']);
      assert.equal(deepErrors![0]!.extensions!.code, 'VARIABLES_LIMIT_EXCEEDED', JSON.stringify(deepVariables));
      assert.equal(deepErrors![0]!.extensions!.setting, 'MAX_VARIABLES_DEPTH');
      // And the other way round: a subscription posted to /graphql is refused, and says where to go.
      const posted = await server.graphql(PREDICT_STREAM, { model: 'iris', inputs: [{ features: [1, 2, 3, 4] }] });
      assert.equal(posted.errors?.[0]?.extensions?.code, 'BAD_REQUEST', JSON.stringify(posted));
      assert.match(posted.errors![0]!.message, /graphql\/stream/);
      const query = await run('query { models { name } }', {});
      assert.equal(query[0]!.extensions.code, 'BAD_REQUEST');
      const unknown = await collect(client.iterate({ query: PREDICT_STREAM, variables: { model: 'nope', inputs: [] } }));
      const errors = unknown.results[0]?.errors ?? (unknown.failure as StreamResult['errors']);
      assert.equal(errors![0]!.extensions!.code, 'MODEL_NOT_FOUND');
    } finally {
      await client.dispose();
    }
    assert.equal(await server.metric('predictql_batch_size_count', { model: 'iris' }), batches, 'nothing was computed');
  });

  it('refuses past MAX_STREAMS with TOO_MANY_STREAMS, and over SSE refuses a body over MAX_BODY_BYTES', async () => {
    // Four streams that wait for their reader: each holds its slot.
    const clients = Array.from({ length: 4 }, () => wsClient(server.url));
    const iterators = clients.map((c) => c.iterate({ query: PREDICT_STREAM, variables: { model: 'slow', inputs: irisRows(200).map((features) => ({ features })) } }));
    try {
      await Promise.all(iterators.map((it) => it.next()));
      assert.equal(await server.metric('predictql_streams_open'), 4);
      const fifth = await collect(sseClient(server.url).iterate({ query: PREDICT_STREAM, variables: { model: 'iris', inputs: [{ features: [1, 2, 3, 4] }] } }));
      const errors = fifth.results[0]?.errors ?? (fifth.failure as StreamResult['errors']);
      assert.equal(errors![0]!.extensions!.code, 'TOO_MANY_STREAMS', JSON.stringify(fifth));
    } finally {
      await Promise.all(iterators.map((it) => it.return?.()));
      await Promise.all(clients.map((c) => c.dispose()));
    }
    const big = await fetch(`${server.url}/graphql/stream`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
      body: JSON.stringify({ query: PREDICT_STREAM, variables: { pad: 'x'.repeat(server.config.maxBodyBytes) } }),
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { errors: Array<{ extensions: { code: string } }> }).errors[0]!.extensions.code, 'PAYLOAD_TOO_LARGE');
  });

  it('sends timings in each event when the connection asks for them', async () => {
    const client = wsClient(server.url, { timings: true });
    try {
      const { results } = await collect(client.iterate({ query: PREDICT_STREAM, variables: { model: 'iris', inputs: [{ features: [5, 3, 1.5, 0.2] }] } }));
      assert.equal(results.length, 1);
      assert.equal(typeof results[0]!.extensions!.timings.totalMs, 'number');
      assert.equal(typeof results[0]!.extensions!.requestId, 'string');
    } finally {
      await client.dispose();
    }
    const res = await graphql(server.url, { query: '{ models { name } }' });
    assert.equal(res.status, 200, 'POST /graphql still answers beside the stream transports');
  });

  it('follows a prediction job over graphql-ws and graphql-sse: predictionJobProgress ends with the job', async () => {
    const rows = irisRows(40).map((r) => r.map((v) => v + 0.00003));
    const submitted = await server.graphql('mutation ($inputs: [PredictionInput!]!) { submitPredictionJob(model: "iris", inputs: $inputs) { id total } }', { inputs: rows.map((features) => ({ features })) });
    assert.equal(submitted.errors, undefined, JSON.stringify(submitted.errors));
    const { id } = submitted.data.submitPredictionJob as { id: string };
    const query = 'subscription ($id: ID!) { predictionJobProgress(id: $id) { id state total done failed } }';
    for (const client of [wsClient(server.url), sseClient(server.url)]) {
      const { results, failure } = await collect<{ predictionJobProgress: { id: string; state: string; total: number; done: number; failed: number } }>(client.iterate({ query, variables: { id } }));
      await client.dispose();
      assert.equal(failure, undefined);
      const last = results.at(-1)!.data!.predictionJobProgress;
      assert.deepEqual(last, { id, state: 'SUCCEEDED', total: 40, done: 40, failed: 0 });
      assert.ok(results.every((r) => r.errors === undefined));
    }
    // An unknown id is the subscription's own error, with its code.
    const client = wsClient(server.url);
    const unknown = await collect(client.iterate({ query, variables: { id: '0'.repeat(32) } }));
    await client.dispose();
    const errors = (unknown.failure ?? unknown.results[0]?.errors) as Array<{ extensions?: { code?: string } }>;
    assert.equal(errors[0]!.extensions!.code, 'JOB_NOT_FOUND', JSON.stringify(unknown));
  });

  it('scans a stream request as POST /graphql does: a body nested too deep is refused before it is parsed', async () => {
    // 30 levels of arrays in the variables (MAX_VARIABLES_DEPTH is 20).
    const deep = `{"query":"subscription { predictStream(model: \\"iris\\", inputs: []) { done } }","variables":{"x":${'['.repeat(30)}${']'.repeat(30)}}}`;
    // Over SSE: an event-stream request hears it as an event with the errors; a plain one as a 400.
    const events = await fetch(`${server.url}/graphql/stream`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' }, body: deep });
    assert.equal(events.status, 200);
    assert.match(await events.text(), /^event: next\ndata: \{"errors":\[\{"message":"the variables nest deeper than 20 levels \(MAX_VARIABLES_DEPTH\).*"code":"VARIABLES_LIMIT_EXCEEDED".*\n\nevent: complete\n/s);
    const sse = await fetch(`${server.url}/graphql/stream`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deep });
    assert.equal(sse.status, 400);
    const answer = (await sse.json()) as { errors: Array<{ message: string; extensions: { code: string; setting: string } }> };
    assert.equal(answer.errors[0]!.extensions.code, 'VARIABLES_LIMIT_EXCEEDED');
    assert.equal(answer.errors[0]!.extensions.setting, 'MAX_VARIABLES_DEPTH');
    assert.match(answer.errors[0]!.message, /MAX_VARIABLES_DEPTH/);
    // Over WebSocket: the subscribe message itself is refused, the connection closed with 4400 and the reason.
    const socket = new WebSocket(wsUrl(server.url), 'graphql-transport-ws');
    await once(socket, 'open');
    socket.send(JSON.stringify({ type: 'connection_init' }));
    await once(socket, 'message');
    socket.send(`{"id":"1","type":"subscribe","payload":{"query":"subscription { predictStream(model: \\"iris\\", inputs: []) { done } }","variables":{"x":${'['.repeat(30)}${']'.repeat(30)}}}}`);
    const [code, reason] = (await once(socket, 'close')) as [number, Buffer];
    assert.equal(code, 4400);
    assert.match(reason.toString(), /^VARIABLES_LIMIT_EXCEEDED: over MAX_VARIABLES_DEPTH/);
    // The server goes on.
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
  });
});
