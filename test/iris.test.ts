/**
 * The iris model end to end through the HTTP API: real answers, batches, the persisted cache.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { loadIris, loadIrisSplit } from '../training/iris/data.ts';
import { IRIS_QUERY, startTestServer, tempDir, type TestServer } from './helpers/server.ts';

const MANY_QUERY = `query ($inputs: [PredictionInput!]!) {
  predictMany(model: "iris", inputs: $inputs) { cached ... on Classification { label score } }
}`;

/** Labels computed by ONNX Runtime directly on the committed model file: the oracle. */
async function labelsFromOnnxRuntime(rows: number[][]): Promise<string[]> {
  const session = await ort.InferenceSession.create('models/iris/model.onnx');
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 4]);
  const { probabilities } = await session.run({ features: input }, ['probabilities']);
  const labels = ['setosa', 'versicolor', 'virginica'];
  const p = probabilities!.data as Float32Array;
  return rows.map((_, i) => {
    const row = Array.from(p.subarray(i * 3, i * 3 + 3));
    return labels[row.indexOf(Math.max(...row))]!;
  });
}

describe('iris', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('answers the README query with setosa', async () => {
    const res = await server.graphql(`{ predict(model: "iris", input: {features: [5.1, 3.5, 1.4, 0.2]}) { ... on Classification { label score } } }`);
    assert.equal(res.errors, undefined);
    assert.equal(res.data.predict.label, 'setosa');
    assert.ok(res.data.predict.score > 0.9 && res.data.predict.score <= 1);
  });

  it('labels the held-out rows correctly (at least 90%, as the manifest states)', async () => {
    const { heldOut } = loadIrisSplit();
    assert.equal(heldOut.length, 30);
    const res = await server.graphql(MANY_QUERY, { inputs: heldOut.map((r) => ({ features: r.features })) });
    assert.equal(res.errors, undefined);
    const predicted: string[] = res.data.predictMany.map((p: { label: string }) => p.label);
    const correct = predicted.filter((label, i) => label === heldOut[i]!.label).length;
    assert.ok(correct / heldOut.length >= 0.9, `held-out accuracy ${correct}/${heldOut.length}`);
    // Setosa is linearly separable from the rest: every held-out setosa must be right.
    heldOut.forEach((row, i) => {
      if (row.label === 'setosa') assert.equal(predicted[i], 'setosa', `held-out row ${i}`);
    });
    assert.deepEqual(predicted, await labelsFromOnnxRuntime(heldOut.map((r) => r.features)));
  });

  it('returns classes as a probability distribution, most probable first', async () => {
    const res = await server.graphql(IRIS_QUERY, { features: [6.7, 3.0, 5.2, 2.3] });
    const { label, score, classes } = res.data.predict;
    assert.equal(classes.length, 3);
    assert.deepEqual(classes.map((c: { label: string }) => c.label).sort(), ['setosa', 'versicolor', 'virginica']);
    assert.equal(classes[0].label, label);
    assert.equal(classes[0].score, score);
    for (let i = 1; i < classes.length; i++) assert.ok(classes[i - 1].score >= classes[i].score);
    const sum = classes.reduce((s: number, c: { score: number }) => s + c.score, 0);
    assert.ok(Math.abs(sum - 1) < 1e-5, `probabilities sum to ${sum}`);
    const top1 = await server.graphql(`{ predict(model: "iris", input: {features: [6.7, 3.0, 5.2, 2.3]}) { ... on Classification { classes(top: 1) { label } } } }`);
    assert.deepEqual(top1.data.predict.classes, [{ label }]);
  });

  it('answers predictMany of 100 distinct rows in order, computed in batches of more than one', async () => {
    // Distinct rows (the iris data repeats a few), none of them seen by this server before.
    const rows = loadIris()
      .slice(0, 100)
      .map((r, i) => r.features.map((v, j) => (j === 0 ? v + 0.0001 * (i + 1) : v)));
    const batchesBefore = await server.metric('predictql_batch_size_count', { model: 'iris' });
    const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'iris' });
    const res = await server.graphql(MANY_QUERY, { inputs: rows.map((features) => ({ features })) });
    assert.equal(res.errors, undefined);
    assert.equal(res.data.predictMany.length, 100);
    assert.deepEqual(
      res.data.predictMany.map((p: { label: string }) => p.label),
      await labelsFromOnnxRuntime(rows),
    );
    assert.ok(res.data.predictMany.every((p: { cached: boolean }) => !p.cached));
    const batches = (await server.metric('predictql_batch_size_count', { model: 'iris' })) - batchesBefore;
    const batchedRows = (await server.metric('predictql_batch_size_sum', { model: 'iris' })) - rowsBefore;
    assert.equal(batchedRows, 100, 'every row went to the model exactly once');
    assert.ok(batches >= 2 && batches < 100, `100 rows ran in ${batches} batches (max batch size 64)`);
  });

  it('computes an input repeated within one request once', async () => {
    const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'iris' });
    const inputs = Array.from({ length: 10 }, () => ({ features: [7.7, 2.6, 6.9, 2.3] }));
    const res = await server.graphql(MANY_QUERY, { inputs });
    assert.equal(res.data.predictMany.length, 10);
    assert.ok(res.data.predictMany.every((p: { label: string }) => p.label === 'virginica'));
    assert.equal((await server.metric('predictql_batch_size_sum', { model: 'iris' })) - rowsBefore, 1);
  });

  it('serves a repeated input from the cache', async () => {
    const features = [5.9, 3.0, 4.2, 1.5];
    const first = await server.graphql(IRIS_QUERY, { features });
    assert.equal(first.data.predict.cached, false);
    const second = await server.graphql(IRIS_QUERY, { features });
    assert.equal(second.data.predict.cached, true);
    assert.deepEqual({ ...second.data.predict, cached: false }, first.data.predict);
  });

  it('lists the model with its content version', async () => {
    const res = await server.graphql(`{ models { name version versionName task labels loaded loadTimeMs input { kind features } } model(name: "iris") { name } missing: model(name: "nope") { name } }`);
    assert.equal(res.errors, undefined);
    const iris = res.data.models.find((m: { name: string }) => m.name === 'iris');
    const { createHash } = await import('node:crypto');
    const { readFileSync } = await import('node:fs');
    const sha = createHash('sha256').update(readFileSync('models/iris/model.onnx')).digest('hex');
    assert.equal(iris.name, 'iris');
    assert.equal(iris.version, sha.slice(0, 12));
    assert.equal(iris.task, 'CLASSIFICATION');
    assert.deepEqual(iris.labels, ['setosa', 'versicolor', 'virginica']);
    assert.equal(iris.loaded, true);
    assert.ok(iris.loadTimeMs > 0);
    assert.deepEqual(iris.input, { kind: 'FEATURES', features: ['sepal_length_cm', 'sepal_width_cm', 'petal_length_cm', 'petal_width_cm'] });
    assert.deepEqual(res.data.model, { name: 'iris' });
    assert.equal(res.data.missing, null);
  });
});

describe('persisted cache', () => {
  it('serves a result computed before a restart from the cache after it', async () => {
    const dir = tempDir('predictql-restart-');
    const features = [6.3, 2.9, 5.6, 1.8];
    const first = await startTestServer({ CACHE_URL: `lmdb://${dir}` });
    const before = await first.graphql(IRIS_QUERY, { features });
    await first.close();
    assert.equal(before.data.predict.cached, false);

    const second = await startTestServer({ CACHE_URL: `lmdb://${dir}` });
    try {
      const rowsBefore = await second.metric('predictql_batch_size_sum', { model: 'iris' });
      const afterRestart = await second.graphql(IRIS_QUERY, { features });
      assert.equal(afterRestart.data.predict.cached, true);
      assert.deepEqual({ ...afterRestart.data.predict, cached: false }, before.data.predict);
      assert.equal(await second.metric('predictql_batch_size_sum', { model: 'iris' }), rowsBefore, 'the model did not run');
    } finally {
      await second.close();
    }
  });

  it('computes every time with CACHE_URL=off', async () => {
    const server = await startTestServer({ CACHE_URL: 'off' });
    try {
      const features = [6.3, 2.9, 5.6, 1.8];
      await server.graphql(IRIS_QUERY, { features });
      const again = await server.graphql(IRIS_QUERY, { features });
      assert.equal(again.data.predict.cached, false);
    } finally {
      await server.close();
    }
  });
});
