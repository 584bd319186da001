/** SIGTERM: stop accepting, let in-flight requests finish, flush the cache, exit 0. */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { describe, it } from 'node:test';
import { startCli } from './helpers/cli.ts';
import { post } from './helpers/client.ts';
import { modelsDirWithSlowModel } from './helpers/fixture-models.ts';
import { tempDir } from './helpers/server.ts';
import { MB, sampleMemory, send, Tally } from './helpers/load.ts';

describe('graceful shutdown', () => {
  it('finishes an in-flight request, persists its result, and exits 0', async () => {
    const modelsDir = modelsDirWithSlowModel(400);
    const cacheDir = tempDir();
    const server = await startCli(['--models-dir', modelsDir, '--cache-url', `lmdb://${cacheDir}`, '--workers', '1']);
    try {
      const inputs = Array.from({ length: 64 }, (_, i) => ({ features: [i, 2, 3, 4] }));
      const query = 'query ($inputs: [PredictionInput!]!) { predictMany(model: "slow", inputs: $inputs) { cached ... on Classification { label } } }';
      const inFlight = post(server.url, { query, variables: { inputs } });
      // Signal while the slow batch runs in the worker.
      await new Promise((resolve) => setTimeout(resolve, 150));
      server.child.kill('SIGTERM');
      const res = await inFlight;
      assert.equal(res.status, 200);
      const body = (await res.json()) as { data: { predictMany: unknown[] } };
      assert.equal(body.data.predictMany.length, 64);
      const [code] = await once(server.child, 'exit');
      assert.equal(code, 0);
      assert.ok(server.logs.some((l) => l.msg === 'stopped'));

      // The results written while shutting down were flushed: a new server reads them.
      const again = await startCli(['--models-dir', modelsDir, '--cache-url', `lmdb://${cacheDir}`, '--workers', '1']);
      try {
        const res2 = await post(again.url, { query, variables: { inputs } });
        const body2 = (await res2.json()) as { data: { predictMany: Array<{ cached: boolean }> } };
        assert.ok(body2.data.predictMany.every((p) => p.cached));
      } finally {
        again.child.kill('SIGTERM');
        await once(again.child, 'exit');
      }
    } finally {
      server.child.kill('SIGKILL');
      rmSync(modelsDir, { recursive: true, force: true });
      rmSync(cacheDir, { recursive: true, force: true });
    }
  });

  it('under a stream of requests, answers every request it accepted and exits 0', async (t) => {
    const modelsDir = modelsDirWithSlowModel(40, { batching: { maxBatchSize: 8, maxDelayMs: 0 } });
    const server = await startCli(['--models-dir', modelsDir, '--cache-url', 'memory://', '--workers', '2', '--log-level', 'debug', '--watch-models', 'false']);
    const url = `${server.url}/graphql`;
    const tally = new Tally();
    const ids = new Map<string, { sentAt: 'before' | 'after'; answeredAfterSignal: boolean; code: string; status: number }>();
    let signalled = false;
    let exited = false;
    server.child.once('exit', () => (exited = true));
    const memory = sampleMemory(server.child.pid!);
    try {
      // 16 clients in a closed loop; each keeps sending until the server refuses connections.
      const clients = Array.from({ length: 16 }, async (_, c) => {
        for (let n = 0; !exited; n++) {
          const id = `c${c}-${n}`;
          const sentAt = signalled ? 'after' : 'before';
          const body = { query: `query ($f: [Float!]!) { predict(model: "slow", input: { features: $f }, options: { cache: BYPASS }) { ... on Classification { label } } }`, variables: { f: [c, n, 1, 2] } };
          // The x-request-id is logged by the server, so client and server records can be matched.
          const outcome = await send(url, body, 15_000, { 'x-request-id': id });
          tally.add(outcome);
          ids.set(id, { sentAt, answeredAfterSignal: signalled, code: outcome.code, status: outcome.status });
          if (outcome.code.startsWith('LOST') && signalled) await new Promise((resolve) => setTimeout(resolve, 20));
        }
      });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      signalled = true;
      server.child.kill('SIGTERM');
      const [code] = await once(server.child, 'exit');
      await Promise.all(clients);
      const { peakBytes } = await memory.stop();
      assert.equal(code, 0);
      assert.ok(server.logs.some((l) => l.msg === 'stopped'));

      // Every request the server answered (its debug log line per request) reached its client
      // whole, as an answer without errors.
      const answered = server.logs.filter((l) => l.msg === 'request').map((l) => String(l.requestId));
      const lostAfterAnswer = answered.filter((id) => ids.get(id)?.code !== 'ok');
      // Requests that got no answer were never read by the server: the connection was refused
      // or closed before the request was accepted.
      const unanswered = [...ids].filter(([, o]) => o.code !== 'ok');
      const acceptedButFailed = unanswered.filter(([id]) => answered.includes(id));
      // Sent before SIGTERM, answered after it: in flight when the signal came.
      const inFlightAtSignal = [...ids].filter(([, o]) => o.sentAt === 'before' && o.answeredAfterSignal && o.code === 'ok').length;
      const figures = {
        requestsSent: tally.total,
        answeredByServer: answered.length,
        byCode: tally.byCode(),
        inFlightAtSignalAndAnswered: inFlightAtSignal,
        sentAfterSignalAndAnswered: [...ids].filter(([, o]) => o.sentAt === 'after' && o.code === 'ok').length,
        unansweredAfterSignal: unanswered.length,
        serverPeakRssMb: Math.round(peakBytes / MB),
        lost: lostAfterAnswer.length + acceptedButFailed.length,
      };
      t.diagnostic(`shutdown figures: ${JSON.stringify(figures)}`);
      assert.ok(answered.length > 50, 'the stream was under way');
      assert.ok(inFlightAtSignal > 0);
      assert.deepEqual(lostAfterAnswer, [], 'answers that did not reach their client');
      assert.deepEqual(acceptedButFailed, []);
      for (const [, o] of unanswered) assert.match(o.code, /^LOST: .*\((ECONNREFUSED|ECONNRESET|UND_ERR_SOCKET|EPIPE)\)$/, o.code);
    } finally {
      await memory.stop();
      if (!exited) server.child.kill('SIGKILL');
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });
});
