/**
 * Connection limits (issue 15): what a client holding connections open can cost the server. The
 * server runs as its own process (its file descriptors and memory apart from the test's), reached
 * over raw `net` sockets that send exactly what an attacker would: nothing, headers or a body one
 * byte at a time, a request whose answer is never read, bodies that together pass the budget.
 * Short timeouts keep the test quick; nothing asserts how fast the server was, only what it did.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startCli, type CliServer } from './helpers/cli.ts';
import { request } from './helpers/client.ts';
import { metricTotal } from './helpers/metrics.ts';

const HEADERS_TIMEOUT_MS = 1500;
const REQUEST_TIMEOUT_MS = 5000;
const SEND_TIMEOUT_MS = 1500;
const MAX_BODY_BYTES = 1_000_000;
const BODY_BUDGET = 2_500_000;
/** The longest the test waits for something the server should do after a timeout, so a failure fails instead of hanging. */
const PATIENCE_MS = 60_000;

/** A raw connection and what happened to it: bytes received, and whether the server closed it. */
interface Probe {
  socket: Socket;
  received: Buffer[];
  closed: Promise<void>;
  closedByServer: boolean;
}

function openProbe(port: number, { read = true } = {}): Promise<Probe> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const probe: Probe = { socket, received: [], closed: once(socket, 'close').then(() => undefined), closedByServer: false };
    // The server's FIN is seen only by a socket that reads; the end of the stream means the server closed it.
    socket.on('end', () => (probe.closedByServer = true));
    socket.on('error', () => (probe.closedByServer = true));
    if (read) socket.on('data', (chunk: Buffer) => probe.received.push(chunk));
    else socket.pause();
    socket.once('connect', () => resolve(probe));
    socket.once('error', reject);
  });
}

function text(probe: Probe): string {
  return Buffer.concat(probe.received).toString('latin1');
}

/** Resolves when `check` holds, polling; fails the test after PATIENCE_MS. */
async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`waited ${PATIENCE_MS} ms for ${what}`);
    await sleep(100);
  }
}

/** GET /healthz on a new connection (no keep-alive pool): proves the server accepts and answers. */
async function healthz(url: string): Promise<number | string> {
  try {
    return (await request(`${url}/healthz`, { agent: false, socketTimeoutMs: 5000 })).status;
  } catch (error) {
    return String((error as Error).message);
  }
}

function portOf(server: CliServer): number {
  return Number(new URL(server.url).port);
}

const irisRows = (n: number) => Array.from({ length: n }, (_, i) => ({ features: [4.5 + (i % 300) / 100, 3.4, 1.5, 0.2] }));
/** Five aliases of the same 10,000 rows: cost 50,000, under MAX_REQUEST_COST, and about 9 MB of answer from a 450 kB body. */
const BIG_ANSWER_QUERY = `query ($inputs: [PredictionInput!]!) { ${['a', 'b', 'c', 'd', 'e'].map((alias) => `${alias}: predictMany(model: "iris", inputs: $inputs) { cached ... on Classification { label score classes { label score } } }`).join(' ')} }`;

function rawPost(body: string, headers: Record<string, string> = {}): string {
  const lines = Object.entries({ host: 'x', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers }).map(([k, v]) => `${k}: ${v}`);
  return `POST /graphql HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

describe('connection timeouts and the body budget', () => {
  let server: CliServer;
  let port: number;
  before(async () => {
    server = await startCli([], {
      CACHE_URL: 'memory://',
      WORKERS: '1',
      WATCH_MODELS: 'false',
      LOG_LEVEL: 'info',
      HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      SEND_TIMEOUT_MS: String(SEND_TIMEOUT_MS),
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      MAX_BODY_BYTES_IN_FLIGHT: String(BODY_BUDGET),
    });
    port = portOf(server);
  });
  after(() => {
    server?.child.kill('SIGKILL');
  });

  it('closes 5,000 connections that send nothing, and /healthz answers throughout', async () => {
    const probes: Probe[] = [];
    const health: Array<number | string> = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        health.push(await healthz(server.url));
        await sleep(250);
      }
    })();
    try {
      // Opened 250 at a time: each batch is accepted before the next one's connects queue up.
      for (let i = 0; i < 5000; i += 250) {
        probes.push(...(await Promise.all(Array.from({ length: 250 }, () => openProbe(port)))));
      }
      const opened = Date.now();
      await until('the server to close the silent connections', () => probes.every((p) => p.closedByServer));
      await Promise.all(probes.map((p) => p.closed));
      assert.deepEqual(probes.map(text).filter((answer) => !/^HTTP\/1\.1 408 /.test(answer)), [], 'each got a 408 Request Timeout, then the end');
      // Figures for the log, not assertions: the timer may fire late on a loaded machine.
      console.log(`# 5000 silent connections closed by the server ${Date.now() - opened} ms after the last one opened (HEADERS_TIMEOUT_MS ${HEADERS_TIMEOUT_MS})`);
    } finally {
      polling = false;
      await poller;
      for (const p of probes) p.socket.destroy();
    }
    assert.ok(health.length >= 3, `polled /healthz ${health.length} times`);
    assert.deepEqual(health.filter((status) => status !== 200), [], '/healthz answered every poll');
  });

  it('closes a connection that sends its headers slowly (slowloris) with a 408', async () => {
    const probe = await openProbe(port);
    const headers = 'POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Slow: ';
    let sent = 0;
    // One byte every 100 ms: never silent, never complete.
    while (!probe.closedByServer && sent < PATIENCE_MS / 100) {
      probe.socket.write(headers[sent] ?? 'a');
      sent++;
      await sleep(100);
    }
    await probe.closed;
    assert.match(text(probe), /^HTTP\/1\.1 408 /);
  });

  it('cuts off a body sent too slowly (REQUEST_TIMEOUT_MS) with a 408, and frees its budget', async () => {
    const probe = await openProbe(port);
    probe.socket.write(rawPost('', { 'content-length': '100000' }));
    let sent = 0;
    while (!probe.closedByServer && sent < PATIENCE_MS / 100) {
      probe.socket.write('{');
      sent++;
      await sleep(100);
    }
    await probe.closed;
    assert.match(text(probe), /^HTTP\/1\.1 408 /);
    assert.ok(sent < 100000);
    await until('the body budget to be free', async () => (await metricTotal(server.url, 'predictql_http_body_bytes_in_flight')) === 0);
  });

  it('closes a connection whose big answer the client does not read (SEND_TIMEOUT_MS)', async () => {
    // About 9 MB of answer each, more than the kernel's socket buffers take in on a connection nobody reads.
    const body = JSON.stringify({ query: BIG_ANSWER_QUERY, variables: { inputs: irisRows(10_000) } });
    const clients = 2;
    const probes = await Promise.all(Array.from({ length: clients }, () => openProbe(port, { read: false })));
    for (const p of probes) p.socket.write(rawPost(body));
    // Each connection is counted by the server until its send timeout ends it (the scrape's own stays).
    await until('the server to answer and then drop the unread connections', async () => (await metricTotal(server.url, 'predictql_http_connections')) <= 1);
    const rss = await metricTotal(server.url, 'predictql_process_resident_memory_bytes');
    // Now read what the server had sent before it closed: part of each answer, then the end.
    for (const p of probes) p.socket.on('data', (chunk: Buffer) => p.received.push(chunk)).resume();
    await Promise.all(probes.map((p) => p.closed));
    for (const p of probes) {
      assert.ok(p.closedByServer);
      const all = Buffer.concat(p.received);
      const head = all.subarray(0, all.indexOf('\r\n\r\n')).toString('latin1');
      assert.match(head, /^HTTP\/1\.1 200 /);
      const answerBytes = Number(/content-length: (\d+)/i.exec(head)![1]);
      const got = all.length - head.length - 4;
      assert.ok(answerBytes > 5_000_000, `the answer is ${answerBytes} bytes`);
      assert.ok(got < answerBytes, `an unread answer was cut off: ${got} of ${answerBytes} bytes arrived`);
      console.log(`# unread answer cut off after ${got} of ${answerBytes} bytes; server RSS ${(rss / 1e6).toFixed(0)} MB once the connections were closed`);
    }
    assert.equal(await healthz(server.url), 200);
  });

  it('refuses bodies past MAX_BODY_BYTES_IN_FLIGHT with 503 OVERLOADED, and recovers when they end', async () => {
    // Two bodies of 1 MB declared and barely sent hold 2 MB of the 2.5 MB budget.
    const holders = await Promise.all([openProbe(port), openProbe(port)]);
    for (const h of holders) h.socket.write(rawPost('', { 'content-length': String(MAX_BODY_BYTES) }) + '{"query":');
    await until('both bodies to be counted', async () => (await metricTotal(server.url, 'predictql_http_body_bytes_in_flight')) === 2 * MAX_BODY_BYTES);

    const padded = (bytes: number) => {
      const head = '{"query":"{ __typename }","variables":{"pad":"';
      return `${head}${'x'.repeat(bytes - head.length - 3)}"}}`;
    };
    const large = padded(900_000);
    // Over a raw socket: the server answers before reading the body and closes, so a client
    // still writing it may get EPIPE (node's http client then reports the error, not the answer).
    const refused = await openProbe(port);
    refused.socket.write(rawPost(large));
    await until('the large body to be refused', () => /^HTTP\/1\.1 503 [^]*\r\n\r\n[^]*\}$/.test(text(refused)));
    const [head, payload] = text(refused).split('\r\n\r\n') as [string, string];
    assert.match(head, /\r\nretry-after: 1\r\n/i);
    refused.socket.destroy();
    const answer = JSON.parse(payload) as { errors: Array<{ message: string; extensions: { code: string; retryAfterSeconds: number } }> };
    assert.equal(answer.errors[0]!.extensions.code, 'OVERLOADED');
    assert.equal(answer.errors[0]!.extensions.retryAfterSeconds, 1);
    assert.match(answer.errors[0]!.message, /MAX_BODY_BYTES_IN_FLIGHT/);

    // The same budget covers subscription bodies sent to /graphql/stream (graphql-sse).
    const streamed = await openProbe(port);
    streamed.socket.write(rawPost(large, { accept: 'text/event-stream' }).replace('POST /graphql ', 'POST /graphql/stream '));
    await until('the stream body to be refused', () => /^HTTP\/1\.1 503 [^]*\r\n\r\n[^]*\}$/.test(text(streamed)));
    assert.match(text(streamed), /\r\nretry-after: 1\r\n/i);
    assert.equal(JSON.parse(text(streamed).split('\r\n\r\n')[1]!).errors[0].extensions.code, 'OVERLOADED');
    streamed.socket.destroy();

    // A chunked body (no declared length) is counted as it is read, and refused past the budget.
    const chunked = await openProbe(port);
    chunked.socket.write('POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n');
    const part = 'x'.repeat(100_000);
    for (let i = 0; i < 8 && !chunked.closedByServer; i++) chunked.socket.write(`${part.length.toString(16)}\r\n${part}\r\n`);
    await until('the chunked body to be refused', () => /^HTTP\/1\.1 503 /.test(text(chunked)));
    assert.match(text(chunked), /"code":"OVERLOADED"/);
    chunked.socket.destroy();

    // Small requests still fit beside the held bodies.
    const small = await request(`${server.url}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"query":"{ __typename }"}' });
    assert.equal(small.status, 200);

    // One holder leaves (an abort), the other is cut off by REQUEST_TIMEOUT_MS: both free their bytes.
    holders[0]!.socket.destroy();
    await holders[1]!.closed;
    await until('the budget to be free', async () => (await metricTotal(server.url, 'predictql_http_body_bytes_in_flight')) === 0);
    const accepted = await request(`${server.url}/graphql`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' }, body: large });
    assert.equal(accepted.status, 200);
    assert.deepEqual(await accepted.json(), { data: { __typename: 'Query' } });
    assert.ok((await metricTotal(server.url, 'predictql_queries_refused_total', { limit: 'MAX_BODY_BYTES_IN_FLIGHT' })) >= 2);
  });

  it('keeps keep-alive connections working across requests', async () => {
    const probe = await openProbe(port);
    for (let i = 0; i < 3; i++) {
      probe.received.length = 0;
      probe.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
      await until('an answer', () => text(probe).includes('{"status":"ok"}'));
      // Longer than the silence timeout between requests: only KEEP_ALIVE_TIMEOUT_MS applies now.
      await sleep(HEADERS_TIMEOUT_MS + 500);
    }
    assert.equal(probe.closedByServer, false);
    probe.socket.destroy();
  });
});

describe('MAX_CONNECTIONS', () => {
  let server: CliServer;
  before(async () => {
    // The default HEADERS_TIMEOUT_MS (10 s) ends the silent connections.
    server = await startCli([], { CACHE_URL: 'memory://', WORKERS: '1', WATCH_MODELS: 'false', LOG_LEVEL: 'info', MAX_CONNECTIONS: '50' });
  });
  after(() => {
    server?.child.kill('SIGKILL');
  });

  it('closes connections past the cap at once, keeps the open ones working, and accepts again when they go', async () => {
    const port = portOf(server);
    // One working keep-alive connection, then 49 silent ones: the cap is reached.
    const worker = await openProbe(port);
    worker.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('the first answer', () => text(worker).includes('{"status":"ok"}'));
    const silent = await Promise.all(Array.from({ length: 49 }, () => openProbe(port)));
    await sleep(200);

    // Past the cap: accepted by the kernel, closed by the server without a byte.
    const extra = await Promise.all(Array.from({ length: 5 }, () => openProbe(port)));
    await Promise.all(extra.map((p) => p.closed));
    assert.deepEqual(extra.map((p) => [p.closedByServer, text(p)]), extra.map(() => [true, '']));
    assert.notEqual(await healthz(server.url), 200, 'a new connection is refused while the cap is reached');

    // The open connection keeps working.
    worker.received.length = 0;
    worker.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await until('an answer on the open connection', () => text(worker).includes('{"status":"ok"}'));
    worker.socket.destroy();

    // The silent ones are closed by the headers timeout; then new connections are served again.
    await Promise.all(silent.map((p) => p.closed));
    assert.ok(silent.every((p) => p.closedByServer));
    await until('/healthz to answer again', async () => (await healthz(server.url)) === 200);
    assert.ok((await metricTotal(server.url, 'predictql_http_connections_dropped_total')) >= 5);
  });
});
