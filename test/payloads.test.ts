/**
 * Field-selective predictions and compact payloads: what a query does not select is not
 * computed, and float arrays travel as base64 float32 when asked.
 */
import assert from 'node:assert/strict';
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderSymbolPng } from './helpers/render.ts';
import { startTestServer, tempDir, type TestServer } from './helpers/server.ts';

/** What a plain client does with a BASE64_F32 field: no library, just the bytes. */
function decodeBase64Float32(text: string): number[] {
  const bytes = Buffer.from(text, 'base64');
  return Array.from({ length: bytes.length / 4 }, (_, i) => bytes.readFloatLE(i * 4));
}

describe('field-selective predictions', () => {
  let server: TestServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = tempDir('predictql-models-');
    for (const name of ['iris', 'symbols']) cpSync(join('models', name), join(modelsDir, name), { recursive: true });
    cpSync('examples/tensor-model/temperature', join(modelsDir, 'temperature'), { recursive: true });
    server = await startTestServer({ MODELS_DIR: modelsDir, MAX_INPUTS_PER_REQUEST: '50' });
  });
  after(async () => {
    await server.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  const fetched = (output: string) => server.metric('predictql_outputs_fetched_total', { model: 'iris', output });

  it('a query for the label alone does not fetch the probabilities', async () => {
    const [labelBefore, probabilitiesBefore] = [await fetched('label'), await fetched('probabilities')];
    const res = await server.graphql('{ predict(model: "iris", input: { features: [5.0, 2.0, 3.5, 1.0] }) { ... on Classification { label } } }');
    assert.equal(res.data.predict.label, 'versicolor');
    assert.equal((await fetched('label')) - labelBefore, 1);
    assert.equal((await fetched('probabilities')) - probabilitiesBefore, 0);
  });

  it('completes a cached label-only answer when a later query wants the scores', async () => {
    const query = (fields: string) => `{ predict(model: "iris", input: { features: [6.0, 2.2, 4.0, 1.0] }) { cacheSource ... on Classification { ${fields} } } }`;
    assert.equal((await server.graphql(query('label'))).data.predict.cacheSource, 'NONE');
    assert.equal((await server.graphql(query('label'))).data.predict.cacheSource, 'L1');
    const probabilitiesBefore = await fetched('probabilities');
    const scored = await server.graphql(query('label score'));
    assert.equal(scored.data.predict.cacheSource, 'NONE', 'the label-only entry could not answer a score');
    assert.equal((await fetched('probabilities')) - probabilitiesBefore, 1);
    assert.ok(scored.data.predict.score > 0.5);
    const again = await server.graphql(query('label score'));
    assert.equal(again.data.predict.cacheSource, 'L1');
    assert.equal(again.data.predict.score, scored.data.predict.score);
    // The full answer serves label-only queries too.
    assert.equal((await server.graphql(query('label'))).data.predict.cacheSource, 'L1');
  });

  it('returns exactly the top classes asked for', async () => {
    const png = Buffer.from(await renderSymbolPng('∞')).toString('base64');
    const res = await server.graphql('query ($png: String!) { predict(model: "symbols", input: { image: $png }) { ... on Classification { label classes(top: 3) { label score } } } }', { png });
    const { label, classes } = res.data.predict;
    assert.equal(classes.length, 3);
    assert.equal(classes[0].label, label);
    assert.ok(classes[0].score >= classes[1].score && classes[1].score >= classes[2].score);
  });

  it('returns probabilities as base64 float32 that a plain client decodes exactly', async () => {
    const res = await server.graphql(`{ predict(model: "iris", input: { features: [6.3, 2.8, 5.1, 1.5] }) {
      ... on Classification { json: probabilities b64: probabilities(encoding: BASE64_F32) } } }`);
    const { json, b64 } = res.data.predict;
    assert.equal(typeof b64, 'string');
    const decoded = decodeBase64Float32(b64);
    assert.equal(decoded.length, 3);
    assert.deepEqual(decoded, json.map((v: number) => Math.fround(v)));
  });

  it('takes tensor inputs as base64 float32 and answers the same as with JSON numbers', async () => {
    const celsius = Float32Array.of(-40, 0, 36.6, 100);
    const query = `query ($tensor: [TensorInput!]!) { predict(model: "temperature", input: { tensor: $tensor }, options: { cache: BYPASS }) {
      ... on TensorPrediction { outputs(names: ["fahrenheit"]) { name dims data(encoding: BASE64_F32) } } } }`;
    const viaJson = await server.graphql(query, { tensor: [{ name: 'celsius', dims: [4, 1], data: Array.from(celsius) }] });
    const viaBase64 = await server.graphql(query, { tensor: [{ name: 'celsius', dims: [4, 1], dataBase64: Buffer.from(celsius.buffer).toString('base64') }] });
    assert.equal(viaBase64.errors, undefined, JSON.stringify(viaBase64.errors));
    assert.deepEqual(viaBase64.data, viaJson.data);
    const fahrenheit = decodeBase64Float32(viaBase64.data.predict.outputs[0].data);
    assert.deepEqual(fahrenheit, Array.from(celsius, (c) => Math.fround(Math.fround(c * Math.fround(1.8)) + 32)));
    const both = await server.graphql(query, { tensor: [{ name: 'celsius', dims: [1, 1], data: [1], dataBase64: 'AACAPw==' }] });
    assert.match(both.errors![0]!.message, /must set exactly one of data \(JSON numbers\) and dataBase64/);
    const bad = await server.graphql(query, { tensor: [{ name: 'celsius', dims: [1, 1], dataBase64: 'AACA' }] });
    assert.equal(bad.errors![0]!.extensions!.code, 'BAD_USER_INPUT');
  });

  it('refuses more inputs than the limit before queueing any', async () => {
    const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'iris' });
    const inputs = Array.from({ length: 51 }, (_, i) => ({ features: [i, 1, 1, 1] }));
    const res = await server.graphql('query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { cached } }', { inputs });
    assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(res.errors![0]!.message, /predictMany got 51 inputs; model "iris" takes at most 50 per request/);
    assert.equal(await server.metric('predictql_batch_size_sum', { model: 'iris' }), rowsBefore);
  });
});
