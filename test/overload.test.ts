/**
 * Overload: twice the sustainable rate for OVERLOAD_SECONDS (30 by default), open loop, against a
 * real server process, with the workers as the bottleneck: the excess must be refused fast with
 * 503 OVERLOADED and Retry-After, the accepted requests answered within their deadline, memory
 * must stay bounded, and no request may go unanswered. Then the main thread as the bottleneck
 * (HTTP_OVERLOAD_SECONDS, a third of that): every request answered, memory bounded. The figures are printed as test diagnostics and written to
 * test-artifacts/hardening/overload.json.
 */
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCli, type CliServer } from './helpers/cli.ts';
import { modelsDirWithSlowModel } from './helpers/fixture-models.ts';
import { closedLoop, MB, openLoop, sampleMemory } from './helpers/load.ts';

const OVERLOAD_SECONDS = Number(process.env.OVERLOAD_SECONDS ?? 30);
const DEADLINE_MS = 1000;
const ARTIFACTS = join(import.meta.dirname, '..', 'test-artifacts', 'hardening');

/** A distinct row per request, so neither the cache nor in-flight dedup absorbs the load. */
const request = (i: number) => ({
  query: `query ($f: [Float!]!) { predict(model: "slow", input: { features: $f }, options: { deadlineMs: ${DEADLINE_MS}, cache: BYPASS }) { ... on Classification { label } } }`,
  variables: { f: [i % 97, (i * 0.37) % 11, Math.sin(i), 1 + (i % 13)] },
});

describe('overload', () => {
  let server: CliServer;
  let url: string;
  before(async () => {
    // About 10 ms of one core per input: the workers, not HTTP, are the bottleneck.
    const modelsDir = modelsDirWithSlowModel(Number(process.env.OVERLOAD_LAYERS ?? 160), { batching: { maxBatchSize: 2, maxDelayMs: 0 } });
    server = await startCli(['--models-dir', modelsDir, '--cache-url', 'memory://', '--workers', '2', '--model-max-workers', '2', '--max-queue', '512', '--watch-models', 'false']);
    url = `${server.url}/graphql`;
  });
  after(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
  });

  it(`refuses the excess of twice the sustainable rate for ${OVERLOAD_SECONDS} s fast, serves the rest in time, loses nothing`, async (t) => {
    // The sustainable rate: as many answers a second as 16 clients waiting on each other get.
    const warm = await closedLoop(url, 16, 4000, request);
    const sustainable = warm.count('ok') / 4;
    assert.ok(sustainable > 5, `the model answers (${JSON.stringify(warm.byCode())})`);
    const rate = Math.round(2 * sustainable);

    const memory = sampleMemory(server.child.pid!);
    const tally = await openLoop(url, rate, OVERLOAD_SECONDS * 1000, (i) => request(1_000_000 + i), DEADLINE_MS + 5000);
    const { peakBytes, firstBytes } = await memory.stop();

    const served = tally.count('ok');
    const refused = tally.outcomes.filter((o) => o.code === 'OVERLOADED');
    const figures = {
      sustainableRequestsPerSecond: sustainable,
      offeredRequestsPerSecond: rate,
      seconds: OVERLOAD_SECONDS,
      requestsSent: tally.total,
      byCode: tally.byCode(),
      byStatus: tally.byStatus(),
      servedPerSecond: Math.round(served / OVERLOAD_SECONDS),
      servedMs: { p50: Math.round(tally.percentile('ok', 50)), p99: Math.round(tally.percentile('ok', 99)), max: Math.round(tally.percentile('ok', 100)) },
      refusedMs: { p50: Math.round(tally.percentile('OVERLOADED', 50)), p99: Math.round(tally.percentile('OVERLOADED', 99)) },
      serverRssMb: { atStart: Math.round(firstBytes / MB), peak: Math.round(peakBytes / MB) },
      lost: tally.lost().length,
    };
    t.diagnostic(`overload figures: ${JSON.stringify(figures)}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'overload.json'), JSON.stringify(figures, null, 2));

    // Every request got a well-formed answer: none lost, no 5xx but 503.
    assert.deepEqual(tally.lost().map((o) => o.code), []);
    for (const o of tally.outcomes) assert.ok(o.status === 200 || o.status === 503, `status ${o.status}: ${JSON.stringify(o.body).slice(0, 200)}`);
    // The load did overload, and the excess was refused with OVERLOADED, 503 and Retry-After.
    assert.ok(refused.length > 0, 'some requests were refused');
    for (const o of refused) {
      assert.equal(o.status, 503);
      assert.ok(Number(o.retryAfter) >= 1, 'Retry-After is set');
    }
    // What was accepted was served: the only other outcomes are answers, and (rarely, when the
    // wait estimate was short) a DEADLINE_EXCEEDED.
    assert.deepEqual(Object.keys(tally.byCode()).filter((c) => !['ok', 'OVERLOADED', 'DEADLINE_EXCEEDED'].includes(c)), []);
    const late = tally.count('DEADLINE_EXCEEDED');
    // (Without deadline-aware admission 20% missed; with it 0 to 0.9% in runs on this machine.)
    assert.ok(late <= 0.05 * (served + late), `at most 5% of accepted requests missed their deadline (${late} of ${served + late})`);
    assert.ok(served > 0);
    // Memory stayed bounded: the queue is, and refused requests hold nothing.
    assert.ok(peakBytes - firstBytes < 512 * MB, `RSS grew by ${Math.round((peakBytes - firstBytes) / MB)} MB`);

    // And the server serves normally right after.
    const after = await closedLoop(url, 1, 300, request);
    assert.ok(after.count('ok') > 0, JSON.stringify(after.byCode()));
  });
});

describe('overload of the main thread', () => {
  // A microsecond model: here HTTP and GraphQL on the event loop are the bottleneck, not the workers.
  const irisRequest = (i: number) => ({
    query: 'query ($f: [Float!]!) { predict(model: "iris", input: { features: $f }, options: { cache: BYPASS }) { ... on Classification { label } } }',
    variables: { f: [4 + (i % 40) / 10, 2 + (i % 23) / 10, 1 + (i % 61) / 10, (i % 25) / 10] },
  });
  const seconds = Number(process.env.HTTP_OVERLOAD_SECONDS ?? Math.max(5, Math.round(OVERLOAD_SECONDS / 3)));
  let server: CliServer;
  before(async () => {
    server = await startCli(['--cache-url', 'memory://', '--watch-models', 'false'], process.env.MAX_EVENT_LOOP_DELAY_MS ? { MAX_EVENT_LOOP_DELAY_MS: process.env.MAX_EVENT_LOOP_DELAY_MS } : {});
  });
  after(async () => {
    if (server.child.exitCode === null) {
      server.child.kill('SIGTERM');
      await once(server.child, 'exit');
    }
  });

  it(`answers every request offered at twice its sustainable rate for ${seconds} s through a connection pool`, async (t) => {
    const url = `${server.url}/graphql`;
    const agent = new Agent({ keepAlive: true, maxSockets: 128 });
    const warm = await closedLoop(url, 64, 3000, irisRequest, 30_000, agent);
    const sustainable = warm.count('ok') / 3;
    const rate = Math.round(2 * sustainable);
    const memory = sampleMemory(server.child.pid!);
    // Through a pool of 128 keep-alive connections, as behind a proxy: a client opening a new
    // connection for every request it cannot send at once ends up waiting in the kernel's accept
    // queue of a saturated event loop, where connects time out (seen here: 3078 of 20794).
    // A client that waited 20 s for an answer has given up: count that request as lost.
    const started = Date.now();
    const tally = await openLoop(url, rate, seconds * 1000, (i) => irisRequest(1_000_000 + i), 20_000, agent);
    const drainedSeconds = (Date.now() - started) / 1000;
    agent.destroy();
    const { peakBytes, firstBytes } = await memory.stop();
    const figures = {
      sustainableRequestsPerSecond: Math.round(sustainable),
      offeredRequestsPerSecond: rate,
      seconds,
      requestsSent: tally.total,
      byCode: tally.byCode(),
      // Until the last answer: the excess waited in the client's connection pool.
      secondsUntilLastAnswer: Math.round(drainedSeconds * 10) / 10,
      servedPerSecond: Math.round(tally.count('ok') / drainedSeconds),
      servedMs: { p50: Math.round(tally.percentile('ok', 50)), p99: Math.round(tally.percentile('ok', 99)) },
      refusedMs: { p50: Math.round(tally.percentile('OVERLOADED', 50)), p99: Math.round(tally.percentile('OVERLOADED', 99)) },
      serverRssMb: { atStart: Math.round(firstBytes / MB), peak: Math.round(peakBytes / MB) },
      lost: tally.lost().length,
    };
    t.diagnostic(`main-thread overload figures: ${JSON.stringify(figures)}`);
    mkdirSync(ARTIFACTS, { recursive: true });
    writeFileSync(join(ARTIFACTS, 'overload-main-thread.json'), JSON.stringify(figures, null, 2));

    assert.deepEqual([...new Set(tally.lost().map((o) => o.code))], []);
    assert.deepEqual(Object.keys(tally.byCode()).filter((c) => c !== 'ok' && c !== 'OVERLOADED'), []);
    for (const o of tally.outcomes) assert.ok(o.status === 200 || (o.status === 503 && o.retryAfter === '1'), `status ${o.status}`);
    assert.ok(tally.count('ok') > 0);
    assert.ok(peakBytes - firstBytes < 512 * MB, `RSS grew by ${Math.round((peakBytes - firstBytes) / MB)} MB`);
  });
});
