/**
 * Batch jobs over a real server: a predictMany up to MAX_INPUTS_PER_REQUEST (10,000) on an idle
 * server is answered, however it compares with MAX_QUEUE (1,024); its inputs are admitted as one
 * unit, so a second big request while the first is queued is refused whole with a message that
 * says why; and the per-request limit still holds.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { loadIris } from '../training/iris/data.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const MANY_QUERY = `query ($inputs: [PredictionInput!]!, $cache: CachePolicy) {
  predictMany(model: "iris", inputs: $inputs, options: { cache: $cache }) { cached ... on Classification { label } }
}`;
const LABELS = ['setosa', 'versicolor', 'virginica'];

/** `count` distinct rows: the iris rows, each copy shifted by a few hundredths of a millimetre. */
function distinctRows(count: number, offset = 0): number[][] {
  const iris = loadIris();
  return Array.from({ length: count }, (_, i) => {
    const row = iris[i % iris.length]!.features;
    const copy = Math.floor(i / iris.length) + offset;
    return [row[0]! + copy * 1e-4, row[1]!, row[2]!, row[3]!];
  });
}

/** Labels computed by ONNX Runtime directly on the committed model file: the oracle. */
async function labelsFromOnnxRuntime(rows: number[][]): Promise<string[]> {
  const session = await ort.InferenceSession.create('models/iris/model.onnx');
  const input = new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, 4]);
  const { probabilities } = await session.run({ features: input }, ['probabilities']);
  const p = probabilities!.data as Float32Array;
  return rows.map((_, i) => {
    const row = Array.from(p.subarray(i * 3, i * 3 + 3));
    return LABELS[row.indexOf(Math.max(...row))]!;
  });
}

describe('big batches', () => {
  let server: TestServer;
  before(async () => {
    // The defaults under test: MAX_QUEUE 1024, MAX_INPUTS_PER_REQUEST 10000, MAX_REQUEST_COST 60000.
    server = await startTestServer({ CACHE_URL: 'memory://' });
  });
  after(() => server.close());

  for (const count of [1500, 10_000]) {
    it(`answers ${count} distinct iris rows on an idle server, each with ONNX Runtime's label`, async () => {
      assert.ok(count > server.config.maxQueue, 'the request is larger than the queue bound');
      const rows = distinctRows(count, count);
      const res = await server.graphql(MANY_QUERY, { inputs: rows.map((features) => ({ features })), cache: 'BYPASS' });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors?.[0]));
      assert.equal(res.data.predictMany.length, count);
      assert.deepEqual(
        res.data.predictMany.map((p: { label: string }) => p.label),
        await labelsFromOnnxRuntime(rows),
      );
    });
  }

  it('refuses a second big request whole, with OVERLOADED that says why, while the first is queued', async () => {
    const first = server.graphql(MANY_QUERY, { inputs: distinctRows(10_000, 100).map((features) => ({ features })), cache: 'BYPASS' });
    const second = server.graphql(MANY_QUERY, { inputs: distinctRows(10_000, 200).map((features) => ({ features })), cache: 'BYPASS' });
    const [a, b] = await Promise.all([first, second]);
    const answered = [a, b].filter((r) => r.errors === undefined);
    const refused = [a, b].filter((r) => r.errors !== undefined);
    assert.equal(answered.length, 1, 'one of the two is answered');
    assert.equal(answered[0]!.data.predictMany.length, 10_000);
    assert.equal(refused.length, 1, 'the other is refused');
    const error = refused[0]!.errors![0]!;
    assert.equal(error.extensions?.code, 'OVERLOADED');
    assert.equal(refused[0]!.status, 503);
    assert.match(error.message, /^model "iris" has \d+ inputs queued and \d+ running; this request's \d+ more would pass its limit of 1024 \(MAX_QUEUE\), so none was queued\. A request of more inputs than that is taken only while the model is idle \(nothing queued or running\)\. Retry in 1 s$/);
    assert.equal(refused[0]!.data?.predictMany ?? null, null, 'no partial answer');
    // Nothing of the refused request was queued: the server is idle again once the first is done.
    const after = await server.graphql(MANY_QUERY, { inputs: distinctRows(1500, 300).map((features) => ({ features })), cache: 'BYPASS' });
    assert.equal(after.errors, undefined, JSON.stringify(after.errors?.[0]));
  });

  it('still refuses MAX_INPUTS_PER_REQUEST + 1 inputs with BAD_USER_INPUT', async () => {
    const limit = server.config.maxInputsPerRequest;
    const res = await server.graphql(MANY_QUERY, { inputs: distinctRows(limit + 1).map((features) => ({ features })) });
    assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(res.errors![0]!.message, new RegExp(`predictMany got ${limit + 1} inputs; model "iris" takes at most ${limit} per request`));
  });
});
