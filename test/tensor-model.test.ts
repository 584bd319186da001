/**
 * README "Add your own model", followed step by step: the example's folder is dropped into a
 * running server's models directory and answers through the generic `tensor` input.
 */
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

const QUERY = `query ($tensor: [TensorInput!]!) {
  predict(model: "temperature", input: { tensor: $tensor }) {
    ... on TensorPrediction { outputs { name dims data } }
  }
}`;

describe('a user-added raw-tensor model', () => {
  let server: TestServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = tempDir('predictql-models-');
    cpSync('models/iris', join(modelsDir, 'iris'), { recursive: true });
    server = await startTestServer({ MODELS_DIR: modelsDir });
  });
  after(async () => {
    await server.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('is picked up when its folder is copied in, and converts temperatures', async () => {
    cpSync('examples/tensor-model/temperature', join(modelsDir, 'temperature'), { recursive: true });
    for (let i = 0; i < 200; i++) {
      const res = await server.graphql('{ model(name: "temperature") { state } }');
      if (res.data.model?.state === 'READY') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const res = await server.graphql(QUERY, { tensor: [{ name: 'celsius', dims: [3, 1], data: [0, 100, -40] }] });
    assert.equal(res.errors, undefined, JSON.stringify(res.errors));
    const [fahrenheit, kelvin] = res.data.predict.outputs;
    assert.deepEqual(fahrenheit, { name: 'fahrenheit', dims: [3, 1], data: [32, 212, -40] });
    assert.equal(kelvin.name, 'kelvin');
    assert.deepEqual(kelvin.data.map((v: number) => Math.round(v * 100) / 100), [273.15, 373.15, 233.15]);
  });

  it('stacks the rows of concurrent requests into one run and splits the answers back', async () => {
    const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'temperature' });
    const results = await Promise.all(
      [10, 20, 30, 40].map((c) => server.graphql(QUERY, { tensor: [{ name: 'celsius', dims: [2, 1], data: [c, c + 1] }] })),
    );
    results.forEach((res, i) => {
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      const c = 10 * (i + 1);
      const round = (v: number) => Math.round(v * 10) / 10;
      assert.deepEqual(res.data.predict.outputs[0].data.map(round), [round(c * 1.8 + 32), round((c + 1) * 1.8 + 32)]);
    });
    assert.equal((await server.metric('predictql_batch_size_sum', { model: 'temperature' })) - rowsBefore, 4);
  });

  it('checks tensor names, shapes and sizes', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [[{ name: 'celcius', dims: [1, 1], data: [1] }], /has tensors celcius; the model needs exactly: celsius \[N, 1\]/],
      [[{ name: 'celsius', dims: [1, 2], data: [1, 2] }], /\["celsius"\].dims\[1\] is 2; celsius is \[N, 1\]/],
      [[{ name: 'celsius', dims: [2, 1], data: [1] }], /\["celsius"\].data has 1 values; dims \[2, 1\] need 2/],
      [[{ name: 'celsius', dims: [20000, 1], data: [] }], /holds more than 10000 values, the model's limit/],
    ];
    for (const [tensor, message] of cases) {
      const res = await server.graphql(QUERY, { tensor });
      assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
      assert.match(res.errors![0]!.message, message);
    }
  });
});
