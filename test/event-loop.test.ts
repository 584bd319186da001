/**
 * Inference runs on worker threads: while a worker spends hundreds of milliseconds in ONNX
 * Runtime, the server's own event loop keeps turning. The server runs in this process, so a
 * timer here shares its event loop.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { modelsDirWithSlowModel } from './helpers/fixture-models.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

describe('event loop', () => {
  let server: TestServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = modelsDirWithSlowModel(400);
    server = await startTestServer({ MODELS_DIR: modelsDir, WORKERS: '1', CACHE_URL: 'off' });
  });
  after(async () => {
    await server.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('keeps a timer ticking while a worker runs a long batch', async () => {
    const inferenceBefore = await server.metric('predictql_batch_phase_seconds_sum', { model: 'slow', phase: 'inference' });
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const inputs = Array.from({ length: 64 }, (_, i) => ({ features: [i, 1, 2, 3] }));
    const res = await server.graphql(`query ($inputs: [PredictionInput!]!) { predictMany(model: "slow", inputs: $inputs) { ... on Classification { label } } }`, { inputs });
    clearInterval(timer);
    assert.equal(res.errors, undefined);
    assert.equal(res.data.predictMany.length, 64);
    const inferenceMs = ((await server.metric('predictql_batch_phase_seconds_sum', { model: 'slow', phase: 'inference' })) - inferenceBefore) * 1000;
    // The worker was busy for inferenceMs; a 5 ms timer on a free loop fires about
    // inferenceMs / 5 times meanwhile, and at most once or twice if the run blocked the loop.
    assert.ok(inferenceMs > 100, `the slow model ran for ${inferenceMs.toFixed(0)} ms`);
    assert.ok(ticks >= inferenceMs / 5 / 4, `${ticks} ticks while the worker ran ${inferenceMs.toFixed(0)} ms`);
  });
});
