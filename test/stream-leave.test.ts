/**
 * Leaving a stream early, reading one too slowly, and shutting down with streams open: what the
 * server stops computing, what it keeps in memory, and how it ends, over real sockets.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startCli } from './helpers/cli.ts';
import { modelsDirWithSlowModel } from './helpers/fixture-models.ts';
import { metricTotal } from './helpers/metrics.ts';
import { renderTextLine } from './helpers/render.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { collect, irisRows, openedSockets, PREDICT_STREAM, sseClient, wsClient, type StreamResult } from './helpers/streams.ts';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

describe('leaving a stream', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ CACHE_URL: 'memory://', STREAM_BUFFER_EVENTS: '16', STREAM_STALL_MS: '500' });
  });
  after(() => server.close());

  it('unsubscribing from a 400-line OCR stream after 3 events leaves fewer than 50 more lines computed', async () => {
    const images = await Promise.all(Array.from({ length: 400 }, (_, i) => renderTextLine(`Line ${i + 1} of the stream`)));
    const inputs = images.map((png) => ({ image: b64(png) }));
    const computed = () => server.metric('predictql_predictions_total', { model: 'ocr', outcome: 'ok', cached: 'false' });
    const before = await computed();
    const client = wsClient(server.url);
    try {
      const { results } = await collect<{ predictStream: { index: number; prediction: { text: string } } }>(client.iterate({ query: PREDICT_STREAM, variables: { model: 'ocr', inputs } }), (_r, n) => n === 3);
      assert.equal(results.length, 3);
      const first = results[0]!.data!.predictStream;
      assert.equal(first.prediction.text, `Line ${first.index + 1} of the stream`);
      const atLeave = (await computed()) - before;
      // The stream ends on the server; what was running finishes, the rest is dropped.
      await until(async () => (await server.metric('predictql_streams_open')) === 0, 10_000, 'the stream to end');
      await until(async () => (await server.metric('predictql_queue_depth', { model: 'ocr' })) === 0, 10_000, 'the queue to empty');
      await sleep(300);
      const after = (await computed()) - before;
      assert.ok(after - 3 < 50, `${after} lines computed in all (${atLeave} when the client left)`);
      assert.ok((await server.metric('predictql_stream_inputs_dropped_total', { reason: 'left' })) >= 350);
    } finally {
      await client.dispose();
    }
  });

  it('cuts off a graphql-ws client that stops reading, without computing its stream ahead', async () => {
    const symbol = b64(readFileSync('models/symbols/sample.png'));
    const total = 1000;
    // Big events (4 x 411 probabilities, ~30 kB each), so the sockets' buffers fill quickly.
    const query = `subscription ($inputs: [PredictionInput!]!) {
      predictStream(model: "symbols", inputs: $inputs) {
        index done
        prediction { ... on Classification { a: probabilities b: probabilities c: probabilities d: probabilities } }
      }
    }`;
    const answered = () => metricTotal(server.url, 'predictql_predictions_total', { model: 'symbols' });
    const answeredBefore = await answered();
    const client = wsClient(server.url);
    const iterator = client.iterate({ query, variables: { inputs: Array.from({ length: total }, () => ({ image: symbol })) } });
    try {
      const first = await iterator.next();
      assert.equal(first.done, false);
      // Stop reading: the TCP window closes, the server's writes stop completing.
      const socket = openedSockets.at(-1)!;
      (socket as unknown as { _socket: { pause(): void } })._socket.pause();
      await until(async () => (await server.metric('predictql_streams_total', { outcome: 'too_slow' })) === 1, 30_000, 'the stream to be cut off');
      assert.equal(await server.metric('predictql_streams_open'), 0);
      const sent = await server.metric('predictql_stream_events_total');
      const inputsAnswered = (await answered()) - answeredBefore;
      // What was sent filled the sockets' buffers; beyond it the server held at most 16 answers.
      assert.ok(inputsAnswered < total / 2, `${inputsAnswered} of ${total} inputs answered`);
      assert.ok((await server.metric('predictql_stream_inputs_dropped_total', { reason: 'too_slow' })) >= total / 2);
      assert.ok(sent < total / 2, `${sent} events sent`);
      // Reading again, the client finds the connection closed by the server.
      (socket as unknown as { _socket: { resume(): void } })._socket.resume();
      await until(async () => socket.readyState === socket.CLOSED, 10_000, 'the server to close the socket');
    } finally {
      void iterator.return?.();
      await client.dispose();
    }
  });

  it('cuts off a graphql-sse client that stops reading', async () => {
    const symbol = b64(readFileSync('models/symbols/sample.png'));
    const query = `subscription ($inputs: [PredictionInput!]!) {
      predictStream(model: "symbols", inputs: $inputs) { index prediction { ... on Classification { a: probabilities b: probabilities c: probabilities d: probabilities } } }
    }`;
    const cutBefore = await server.metric('predictql_streams_total', { outcome: 'too_slow' });
    const body = JSON.stringify({ query, variables: { inputs: Array.from({ length: 1000 }, () => ({ image: symbol })) } });
    const response = new Promise<IncomingMessage>((resolve, reject) => {
      const req = httpRequest(`${server.url}/graphql/stream`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'text/event-stream' } }, (res) => {
        res.once('data', () => res.pause()); // and no more reading
        resolve(res);
      });
      req.on('error', reject);
      req.end(body);
    });
    const res = await response;
    assert.equal(res.statusCode, 200);
    await until(async () => (await server.metric('predictql_streams_total', { outcome: 'too_slow' })) === cutBefore + 1, 30_000, 'the stream to be cut off');
    assert.equal(await server.metric('predictql_streams_open'), 0);
    assert.ok((await server.metric('predictql_stream_inputs_dropped_total', { reason: 'too_slow' })) >= 1000);
    // Reading again, the client finds the response cut short.
    const closed = new Promise<string>((resolve) => {
      res.once('error', (error) => resolve(error.message));
      res.once('close', () => resolve('closed'));
    });
    res.resume();
    assert.match(await closed, /aborted|closed/);
    assert.equal(res.complete, false);
  });
});

describe('shutting down with streams open', () => {
  const modelsDir = modelsDirWithSlowModel(40, { batching: { maxBatchSize: 1, maxDelayMs: 0 } });
  after(() => rmSync(modelsDir, { recursive: true, force: true }));

  it('ends graphql-ws and graphql-sse streams with SHUTTING_DOWN and exits 0 on SIGTERM', async () => {
    const server = await startCli(['--models-dir', modelsDir, '--cache-url', 'memory://', '--workers', '2', '--watch-models', 'false']);
    try {
      const inputs = irisRows(300).map((features) => ({ features }));
      const ws = wsClient(server.url);
      const sse = sseClient(server.url);
      let wsEvents = 0;
      let sseEvents = 0;
      const wsDone = collect(ws.iterate({ query: PREDICT_STREAM, variables: { model: 'slow', inputs } }), () => void wsEvents++);
      const sseDone = collect(sse.iterate({ query: PREDICT_STREAM, variables: { model: 'slow', inputs } }), () => void sseEvents++);
      await until(async () => wsEvents > 0 && sseEvents > 0, 20_000, 'both streams to start');
      server.child.kill('SIGTERM');
      const [code] = await once(server.child, 'exit');
      assert.equal(code, 0);
      assert.ok(server.logs.some((l) => l.msg === 'stopped'));

      const overWs = await wsDone;
      assert.ok(overWs.results.length < 300);
      const wsError = overWs.failure as Array<{ extensions?: { code?: string } }>;
      assert.equal(wsError[0]!.extensions!.code, 'SHUTTING_DOWN', JSON.stringify(overWs.failure));
      const overSse = await sseDone;
      const last = overSse.results.at(-1) as StreamResult;
      assert.equal(last.errors?.[0]?.extensions?.code, 'SHUTTING_DOWN', JSON.stringify(last));
      await ws.dispose();
      sse.dispose();
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
