/**
 * The result cache against its real stores: versions, collisions, policies, a store that is
 * down, persisted queries, a crash in the middle of writes, and clearing.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { cacheKey } from '../src/cache/prediction-cache.ts';
import { encodeEntry } from '../src/cache/result-codec.ts';
import { featuresDigest, writeLmdbEntry } from './helpers/cache-store.ts';
import { startCli } from './helpers/cli.ts';
import { graphql, post } from './helpers/client.ts';
import { TOY_WEIGHTS, toyClassifierOnnx, writeFeaturesModel } from './helpers/fixture-models.ts';
import { freePort, IRIS_QUERY, startTestServer, tempDir } from './helpers/server.ts';

const WITH_OPTIONS = 'query ($f: [Float!]!, $cache: CachePolicy) { predict(model: "iris", input: { features: $f }, options: { cache: $cache }) { cached cacheSource model { version } ... on Classification { label score } } }';

describe('result cache', () => {
  it('tells where an answer came from: the model, then the store after a restart, then memory', async () => {
    const dir = tempDir();
    const features = [6.1, 2.8, 4.7, 1.2];
    const first = await startTestServer({ CACHE_URL: `lmdb://${dir}` });
    assert.equal((await first.graphql(WITH_OPTIONS, { f: features })).data.predict.cacheSource, 'NONE');
    assert.equal((await first.graphql(WITH_OPTIONS, { f: features })).data.predict.cacheSource, 'L1');
    await first.close();
    const second = await startTestServer({ CACHE_URL: `lmdb://${dir}` });
    try {
      const fromStore = await second.graphql(WITH_OPTIONS, { f: features });
      assert.equal(fromStore.data.predict.cacheSource, 'STORE');
      assert.equal(fromStore.data.predict.cached, true);
      assert.equal((await second.graphql(WITH_OPTIONS, { f: features })).data.predict.cacheSource, 'L1');
      assert.equal(await second.metric('predictql_cache_lookups_total', { model: 'iris', result: 'hit_store' }), 1);
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never serves a new model version the old version\'s answers', async () => {
    const cacheDir = tempDir();
    const modelsDir = tempDir('predictql-models-');
    const query = '{ predict(model: "toy", input: { features: [1, 1, 1, 1] }) { cached model { version } ... on Classification { label } } }';
    writeFeaturesModel(join(modelsDir, 'toy'), 'toy', toyClassifierOnnx(TOY_WEIGHTS.x));
    const env = { CACHE_URL: `lmdb://${cacheDir}`, MODELS_DIR: modelsDir, WATCH_MODELS: 'false' };
    const before = await startTestServer(env);
    await before.graphql(query);
    assert.equal((await before.graphql(query)).data.predict.cached, true);
    await before.close();
    writeFileSync(join(modelsDir, 'toy', 'model.onnx'), toyClassifierOnnx(TOY_WEIGHTS.y));
    const after = await startTestServer(env);
    try {
      const res = await after.graphql(query);
      assert.equal(res.data.predict.cached, false);
      assert.equal(res.data.predict.label, 'y');
    } finally {
      await after.close();
      rmSync(cacheDir, { recursive: true, force: true });
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });

  it('detects a collision of the short key and recomputes', async () => {
    const dir = tempDir();
    const a = [5.0, 3.4, 1.5, 0.2];
    const b = [7.7, 3.0, 6.1, 2.3];
    const server = await startTestServer({ CACHE_URL: `lmdb://${dir}` });
    const version = (await server.graphql(WITH_OPTIONS, { f: b })).data.predict.model.version;
    await server.close();
    // Forge the collision: under A's key, an entry that carries B's digest and a wrong answer
    // (all probability on "virginica"), as if B's short key had been the same as A's.
    const key = cacheKey(`iris@${version}`, featuresDigest(a));
    const forged = encodeEntry(cacheKey(`iris@${version}`, featuresDigest(b)).digest, { kind: 'classification', labelIndex: 2, probabilities: Float32Array.of(0, 0, 1) });
    await writeLmdbEntry(dir, key.key, forged);

    const again = await startTestServer({ CACHE_URL: `lmdb://${dir}` });
    try {
      const res = await again.graphql(WITH_OPTIONS, { f: a });
      assert.equal(res.data.predict.cached, false, 'the forged entry was not served');
      assert.equal(res.data.predict.label, 'setosa');
      assert.equal(await again.metric('predictql_cache_lookups_total', { model: 'iris', result: 'collision' }), 1);
      // The recomputed answer replaced the forged one.
      const next = await again.graphql(WITH_OPTIONS, { f: a });
      assert.equal(next.data.predict.cached, true);
      assert.equal(next.data.predict.label, 'setosa');
    } finally {
      await again.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('BYPASS neither reads nor writes the cache; REFRESH computes and writes', async () => {
    const server = await startTestServer();
    try {
      const f = [6.4, 3.2, 4.5, 1.5];
      assert.equal((await server.graphql(WITH_OPTIONS, { f, cache: 'BYPASS' })).data.predict.cached, false);
      assert.equal((await server.graphql(WITH_OPTIONS, { f })).data.predict.cached, false, 'BYPASS stored nothing');
      assert.equal((await server.graphql(WITH_OPTIONS, { f })).data.predict.cached, true);
      assert.equal((await server.graphql(WITH_OPTIONS, { f, cache: 'BYPASS' })).data.predict.cached, false, 'BYPASS read nothing');
      const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'iris' });
      assert.equal((await server.graphql(WITH_OPTIONS, { f, cache: 'REFRESH' })).data.predict.cached, false);
      assert.equal((await server.metric('predictql_batch_size_sum', { model: 'iris' })) - rowsBefore, 1, 'REFRESH ran the model');
      assert.equal((await server.graphql(WITH_OPTIONS, { f })).data.predict.cached, true);
    } finally {
      await server.close();
    }
  });

  it('serves predictions when the cache store is unreachable, counting the failures', async () => {
    const port = await freePort();
    const server = await startTestServer({ CACHE_URL: `redis://127.0.0.1:${port}`, CACHE_TIMEOUT_MS: '50' });
    try {
      for (let i = 0; i < 3; i++) {
        const res = await server.graphql(WITH_OPTIONS, { f: [5.1, 3.5, 1.4, 0.2] });
        assert.equal(res.errors, undefined);
        assert.equal(res.data.predict.label, 'setosa');
        // The answer is still kept in memory (L1) while the store is down.
        assert.equal(res.data.predict.cacheSource, i === 0 ? 'NONE' : 'L1');
      }
      const res = await server.graphql(WITH_OPTIONS, { f: [6.0, 3.0, 4.8, 1.8] });
      assert.equal(res.errors, undefined);
      assert.ok((await server.metric('predictql_cache_errors_total', { operation: 'read' })) >= 1);
    } finally {
      await server.close();
    }
  });

  it('answers automatic persisted queries from the store, across a restart', async () => {
    const dir = tempDir();
    const query = '{ predict(model: "iris", input: { features: [5.1, 3.5, 1.4, 0.2] }) { ... on Classification { label } } }';
    const sha256Hash = createHash('sha256').update(query).digest('hex');
    const ask = (url: string, body: { query?: string; extensions: Record<string, unknown> }) => graphql(url, body);
    const extensions = { persistedQuery: { version: 1, sha256Hash } };
    const first = await startTestServer({ CACHE_URL: `lmdb://${dir}` });
    const unknown = await ask(first.url, { extensions });
    assert.equal(unknown.errors![0]!.extensions!.code, 'PERSISTED_QUERY_NOT_FOUND');
    const registered = await ask(first.url, { query, extensions });
    assert.equal(registered.data.predict.label, 'setosa');
    const byHash = await ask(first.url, { extensions });
    assert.equal(byHash.data.predict.label, 'setosa');
    await first.close();
    const second = await startTestServer({ CACHE_URL: `lmdb://${dir}` });
    try {
      const afterRestart = await ask(second.url, { extensions });
      assert.equal(afterRestart.data.predict.label, 'setosa');
    } finally {
      await second.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('clears one model or every model, for an admin only', async () => {
    const server = await startTestServer({ ADMIN_TOKEN: 'cache-admin' });
    const admin = (query: string) => server.graphql(query, undefined, { headers: { authorization: 'Bearer cache-admin' } });
    try {
      await server.graphql(IRIS_QUERY, { features: [5.5, 2.4, 3.8, 1.1] });
      await server.graphql('{ predict(model: "spam", input: { text: "lunch at noon?" }) { cached } }');
      const denied = await server.graphql('mutation { clearCache(model: "iris") { removed } }');
      assert.equal(denied.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
      assert.deepEqual((await admin('mutation { clearCache(model: "iris") { removed } }')).data.clearCache, { removed: 1 });
      assert.equal((await server.graphql(IRIS_QUERY, { features: [5.5, 2.4, 3.8, 1.1] })).data.predict.cached, false);
      assert.equal((await server.graphql('{ predict(model: "spam", input: { text: "lunch at noon?" }) { cached } }')).data.predict.cached, true, 'spam kept');
      assert.ok((await admin('mutation { clearCache { removed } }')).data.clearCache.removed >= 2);
      assert.equal((await server.graphql('{ predict(model: "spam", input: { text: "lunch at noon?" }) { cached } }')).data.predict.cached, false);
      const unknown = await admin('mutation { clearCache(model: "nope") { removed } }');
      assert.equal(unknown.errors?.[0]?.extensions?.code, 'MODEL_NOT_FOUND');
    } finally {
      await server.close();
    }
  });

  it('is shared by two server processes on one machine through the LMDB file', async () => {
    const dir = tempDir();
    const [a, b] = await Promise.all([startCli(['--cache-url', `lmdb://${dir}`, '--workers', '1']), startCli(['--cache-url', `lmdb://${dir}`, '--workers', '1'])]);
    const ask = async (url: string) => {
      const res = await graphql<{ predict: { cacheSource: string; label: string } }>(url, { query: WITH_OPTIONS, variables: { f: [6.9, 3.1, 5.4, 2.1] } });
      return res.data!.predict;
    };
    try {
      assert.equal((await ask(a.url)).cacheSource, 'NONE');
      let other = await ask(b.url);
      for (let i = 0; i < 20 && other.cacheSource !== 'STORE'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 25));
        other = await ask(b.url);
      }
      assert.equal(other.cacheSource, 'STORE', 'the second process read the first one\'s answer');
      assert.equal(other.label, 'virginica');
    } finally {
      for (const s of [a, b]) s.child.kill('SIGTERM');
      await Promise.all([once(a.child, 'exit'), once(b.child, 'exit')]);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('leaves a store that opens and serves after the server is killed in the middle of writes', async () => {
    const dir = tempDir();
    const server = await startCli(['--cache-url', `lmdb://${dir}`, '--log-level', 'info']);
    const query = 'query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { cached } }';
    const send = (n: number) => post(server.url, { query, variables: { inputs: Array.from({ length: 200 }, (_, i) => ({ features: [n, i, 1, 1] })) } }).catch(() => null);
    // One batch of answers first, given a moment to be committed (writes are not awaited by
    // the response; LMDB commits them within milliseconds), then a stream cut by SIGKILL.
    assert.ok(await send(0));
    await new Promise((resolve) => setTimeout(resolve, 300));
    const stream = Array.from({ length: 20 }, (_, n) => send(n + 1));
    await stream[3];
    server.child.kill('SIGKILL');
    await once(server.child, 'exit');
    await Promise.all(stream);
    const again = await startTestServer({ CACHE_URL: `lmdb://${dir}` });
    try {
      const res = await again.graphql(query, { inputs: Array.from({ length: 200 }, (_, i) => ({ features: [0, i, 1, 1] })) });
      assert.equal(res.errors, undefined);
      assert.equal(res.data.predictMany.length, 200);
      assert.ok(res.data.predictMany.every((p: { cached: boolean }) => p.cached), 'answers committed before the kill are served');
    } finally {
      await again.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
