/**
 * A worker that dies while running a batch fails that batch only: here an input blows up the
 * worker's JS heap during tokenisation (a text model that accepts millions of characters, on a
 * server with a small WORKER_HEAP_MB). Node stops that worker, Piscina starts another, and the
 * next request is served.
 *
 * (Stopping a worker from outside with worker.terminate() is not a usable test: if it lands
 * inside session.run, onnxruntime-node throws a C++ exception into the dying thread and the
 * whole process aborts.)
 */
import assert from 'node:assert/strict';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

describe('worker crash', () => {
  let server: TestServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = tempDir('predictql-models-');
    cpSync('models/spam', join(modelsDir, 'bigtext'), { recursive: true });
    const manifestPath = join(modelsDir, 'bigtext', 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, name: 'bigtext', input: { ...manifest.input, maxLength: 9_000_000 } }));
    server = await startTestServer({ MODELS_DIR: modelsDir, WORKERS: '1', WORKER_HEAP_MB: '64', CACHE_URL: 'off' });
  });
  after(async () => {
    await server.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('fails the batch of a worker that runs out of memory, and serves the next request', async () => {
    const query = 'query ($text: String!) { predict(model: "bigtext", input: { text: $text }) { ... on Classification { label } } }';
    const huge = await server.graphql(query, { text: 'ab '.repeat(3_000_000) });
    assert.equal(huge.errors?.[0]?.extensions?.code, 'WORKER_CRASHED', JSON.stringify(huge.errors));
    assert.match(huge.errors![0]!.message, /the inference worker stopped while running this batch .*memory limit/);
    const next = await server.graphql(query, { text: 'Win a free prize now, click here!' });
    assert.equal(next.errors, undefined);
    assert.equal(next.data.predict.label, 'spam');
  });
});
