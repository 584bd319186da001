/**
 * Every bad input gets a GraphQL error with a stable code and a message naming the problem,
 * and the server keeps answering afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IRIS_QUERY, startTestServer, type GraphQLResponse, type TestServer } from './helpers/server.ts';

function assertError(res: GraphQLResponse, code: string, message: RegExp): void {
  assert.ok(res.errors && res.errors.length > 0, `expected an error, got ${JSON.stringify(res)}`);
  const [error] = res.errors;
  assert.equal(error!.extensions?.code, code, JSON.stringify(error));
  assert.match(error!.message, message);
}

describe('bad input', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('rejects a wrong feature count, naming the expected features', async () => {
    const res = await server.graphql(IRIS_QUERY, { features: [5.1, 3.5, 1.4] });
    assertError(res, 'BAD_USER_INPUT', /features has 3 values; model "iris" needs 4 .*sepal_length_cm, sepal_width_cm, petal_length_cm, petal_width_cm/);
    const tooMany = await server.graphql(IRIS_QUERY, { features: [1, 2, 3, 4, 5] });
    assertError(tooMany, 'BAD_USER_INPUT', /has 5 values/);
  });

  it('rejects NaN written in the query', async () => {
    const res = await server.graphql(`{ predict(model: "iris", input: {features: [NaN, 3.5, 1.4, 0.2]}) { cached } }`);
    assertError(res, 'BAD_USER_INPUT', /Float cannot represent .*NaN/);
  });

  it('rejects a number beyond float32 range', async () => {
    const res = await server.graphql(IRIS_QUERY, { features: [1e39, 3.5, 1.4, 0.2] });
    assertError(res, 'BAD_USER_INPUT', /features\[0\] \(sepal_length_cm\) is 1e\+39; every value must be a finite number/);
  });

  it('rejects a non-number passed as a variable', async () => {
    const res = await server.graphql(IRIS_QUERY, { features: ['five', 3.5, 1.4, 0.2] });
    assertError(res, 'BAD_USER_INPUT', /Float cannot represent/);
  });

  it('rejects an unknown model, listing the served ones', async () => {
    const res = await server.graphql(`{ predict(model: "irsi", input: {features: [5.1, 3.5, 1.4, 0.2]}) { cached } }`);
    assertError(res, 'MODEL_NOT_FOUND', /no model named "irsi"; the models served are: digits, iris, ocr, ocr-page, prompt-injection, spam, symbols, vad/);
  });

  it('rejects an input that sets no field', async () => {
    const res = await server.graphql(`{ predict(model: "iris", input: {}) { cached } }`);
    assertError(res, 'BAD_USER_INPUT', /input sets no field; model "iris" reads 4 finite numbers in `features`/);
  });

  it('rejects an input that sets two fields', async () => {
    const res = await server.graphql(`{ predict(model: "iris", input: {features: [5.1, 3.5, 1.4, 0.2], text: "a flower"}) { cached } }`);
    assertError(res, 'BAD_USER_INPUT', /input sets features and text; set exactly one field/);
  });

  it('rejects the wrong input kind for the model', async () => {
    const res = await server.graphql(`{ predict(model: "iris", input: {text: "a flower"}) { cached } }`);
    assertError(res, 'BAD_USER_INPUT', /input sets `text`, but model "iris" reads 4 finite numbers in `features`/);
  });

  it('names the position of a bad row in predictMany and queues none of the request', async () => {
    const rowsBefore = await server.metric('predictql_batch_size_sum', { model: 'iris' });
    const res = await server.graphql(`query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { cached } }`, {
      inputs: [{ features: [4.4, 2.9, 1.4, 0.2] }, { features: [1, 2] }],
    });
    assertError(res, 'BAD_USER_INPUT', /^inputs\[1\]\.features has 2 values/);
    assert.equal(await server.metric('predictql_batch_size_sum', { model: 'iris' }), rowsBefore);
  });

  it('rejects classes(top: 0)', async () => {
    const res = await server.graphql(`{ predict(model: "iris", input: {features: [5.1, 3.5, 1.4, 0.2]}) { ... on Classification { classes(top: 0) { label } } } }`);
    assertError(res, 'BAD_USER_INPUT', /top must be at least 1/);
  });

  it('keeps no stack traces in responses and keeps serving after bad input', async () => {
    const bad = await server.graphql(IRIS_QUERY, { features: [1] });
    assert.equal(JSON.stringify(bad).includes('stacktrace'), false);
    const good = await server.graphql(IRIS_QUERY, { features: [5.1, 3.5, 1.4, 0.2] });
    assert.equal(good.data.predict.label, 'setosa');
  });
});
