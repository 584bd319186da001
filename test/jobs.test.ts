/**
 * Prediction jobs through a real server (in this process, on the default LMDB store): results in
 * input order that match predictMany's, progress through graphql-js subscribe(), cached inputs not
 * computed again, bad inputs refused before the job exists, JOB_NOT_FOUND, cancel, expiry and
 * JOBS_MAX_ACTIVE. Restarts and SIGKILL: test/jobs-restart.test.ts; Redis: test/redis/jobs.test.ts.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { buildSchema, parse, subscribe, type ExecutionResult } from 'graphql';
import { addResolversToSchema } from '@graphql-tools/schema';
import { loadTypeDefs } from '../src/graphql/type-defs.ts';
import { resolvers } from '../src/graphql/resolvers.ts';
import type { LmdbJobStore } from '../src/jobs/lmdb-job-store.ts';
import { modelsDirWithSlowModel } from './helpers/fixture-models.ts';
import { metricTotal } from './helpers/metrics.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const SUBMIT = `mutation ($model: String!, $inputs: [PredictionInput!]!, $options: PredictOptions) {
  submitPredictionJob(model: $model, inputs: $inputs, options: $options) { id state total done failed createdAt finishedAt model { name version } }
}`;
const JOB = `query ($id: ID!, $offset: Int, $limit: Int) {
  predictionJob(id: $id) {
    id state total done failed createdAt finishedAt
    results(offset: $offset, limit: $limit) { index error { code message } prediction { cached cacheSource ... on Classification { label score } } }
  }
}`;
const CANCEL = 'mutation ($id: ID!) { cancelPredictionJob(id: $id) { id state total done } }';
const MANY = 'query ($inputs: [PredictionInput!]!) { predictMany(model: "iris", inputs: $inputs) { cached ... on Classification { label score } } }';

const irisRows = (n: number, seed = 0) => Array.from({ length: n }, (_, i) => ({ features: [4.5 + ((i * 7 + seed) % 30) / 10, 2 + (i % 15) / 10, 1 + ((i * 3) % 50) / 10, 0.1 + (i % 25) / 10] }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function submit(server: TestServer, model: string, inputs: unknown[], options?: unknown) {
  const res = await server.graphql(SUBMIT, { model, inputs, options });
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.submitPredictionJob as { id: string; state: string; total: number };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

async function job(server: TestServer, id: string, offset = 0, limit = 1000) {
  const res = await server.graphql(JOB, { id, offset, limit });
  assert.equal(res.errors, undefined, JSON.stringify(res.errors));
  return res.data.predictionJob;
}

describe('prediction jobs', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('answers every input once, in input order, as predictMany does; and reports progress until it ends', async () => {
    const inputs = irisRows(300);
    const created = await submit(server, 'iris', inputs, { cache: 'BYPASS' });
    assert.match(created.id, /^[0-9a-f]{32}$/, '128 random bits');
    assert.equal(created.total, 300);

    // The subscription, through graphql-js itself, on the server's own schema and resolvers.
    const schema = addResolversToSchema({ schema: buildSchema(loadTypeDefs()), resolvers: resolvers as never });
    const stream = (await subscribe({ schema, document: parse('subscription ($id: ID!) { predictionJobProgress(id: $id) { state done failed total finishedAt } }'), variableValues: { id: created.id }, contextValue: { jobs: server.jobs } })) as AsyncIterable<ExecutionResult>;
    const events: Array<{ state: string; done: number; finishedAt: string | null }> = [];
    for await (const event of stream) {
      assert.equal(event.errors, undefined);
      events.push(event.data!.predictionJobProgress as never);
    }
    assert.ok(events.length >= 2, `${events.length} events`);
    assert.equal(events.at(-1)!.state, 'SUCCEEDED', 'the stream ends with the job');
    assert.ok(events.at(-1)!.finishedAt);
    for (let i = 1; i < events.length; i++) assert.ok(events[i]!.done >= events[i - 1]!.done, 'done never goes back');
    assert.equal(events.at(-1)!.done, 300);

    const done = await job(server, created.id, 0, 1000);
    assert.equal(done.state, 'SUCCEEDED');
    assert.equal(done.failed, 0);
    assert.deepEqual(done.results.map((r: { index: number }) => r.index), Array.from({ length: 300 }, (_, i) => i));
    const expected = (await server.graphql(MANY, { inputs })).data.predictMany;
    assert.deepEqual(done.results.map((r: { prediction: { label: string } }) => r.prediction.label), expected.map((p: { label: string }) => p.label));
    const page = await job(server, created.id, 290, 100);
    assert.deepEqual(page.results.map((r: { index: number }) => r.index), [290, 291, 292, 293, 294, 295, 296, 297, 298, 299]);
  });

  it('answers inputs known to the cache from it, computing nothing', async () => {
    const inputs = irisRows(40, 3);
    await server.graphql(MANY, { inputs });
    const batchesBefore = await server.metric('predictql_batch_size_count', { model: 'iris' });
    const created = await submit(server, 'iris', inputs);
    const done = await waitFor('the job', async () => ((await job(server, created.id)).state === 'SUCCEEDED' ? job(server, created.id) : undefined));
    assert.ok(done.results.every((r: { prediction: { cached: boolean } }) => r.prediction.cached));
    assert.equal(await server.metric('predictql_batch_size_count', { model: 'iris' }), batchesBefore, 'no batch ran');
  });

  it('refuses a job with one bad input before it exists, naming the input', async () => {
    const jobsBefore = await metricTotal(server.url, 'predictql_jobs');
    const inputs: unknown[] = irisRows(10);
    inputs[7] = { features: [1, 2, 3] };
    const res = await server.graphql(SUBMIT, { model: 'iris', inputs });
    assert.equal(res.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    assert.match(res.errors![0]!.message, /inputs\[7\]/);
    const empty = await server.graphql(SUBMIT, { model: 'iris', inputs: [] });
    assert.equal(empty.errors?.[0]?.extensions?.code, 'BAD_USER_INPUT');
    const unknown = await server.graphql(SUBMIT, { model: 'irsi', inputs: irisRows(1) });
    assert.equal(unknown.errors?.[0]?.extensions?.code, 'MODEL_NOT_FOUND');
    assert.equal(await metricTotal(server.url, 'predictql_jobs'), jobsBefore, 'no job was stored');
  });

  it('answers JOB_NOT_FOUND for an unknown id, in a query, a cancel and a subscription', async () => {
    for (const id of ['0123456789abcdef0123456789abcdef', 'not-an-id']) {
      const res = await server.graphql(JOB, { id });
      assert.equal(res.errors?.[0]?.extensions?.code, 'JOB_NOT_FOUND');
      assert.equal(res.data.predictionJob, null);
      const cancel = await server.graphql(CANCEL, { id });
      assert.equal(cancel.errors?.[0]?.extensions?.code, 'JOB_NOT_FOUND');
    }
    const schema = addResolversToSchema({ schema: buildSchema(loadTypeDefs()), resolvers: resolvers as never });
    const result = (await subscribe({ schema, document: parse('subscription { predictionJobProgress(id: "0123456789abcdef0123456789abcdef") { state } }'), contextValue: { jobs: server.jobs } })) as ExecutionResult;
    assert.equal(result.errors?.[0]?.extensions?.code, 'JOB_NOT_FOUND');
  });

  it("runs the README's curl walk-through and gets its answers", async () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('\n## Prediction jobs\n'), readme.indexOf('\n## Errors\n'));
    const steps = [...section.matchAll(/```sh\n([\s\S]*?)```\n\n```json\n([\s\S]*?)```/g)].map((m) => ({ command: m[1]!.replace('http://127.0.0.1:4000', server.url), expected: JSON.parse(m[2]!) }));
    assert.equal(steps.length, 3, 'submit, read, cancel');
    // Not execFileSync: the server answering curl runs in this process's event loop.
    const run = async (command: string, job = '') => JSON.parse((await promisify(execFile)('bash', ['-c', command], { env: { ...process.env, JOB: job }, encoding: 'utf8' })).stdout);
    const submitted = await run(steps[0]!.command);
    const id = submitted.data.submitPredictionJob.id;
    assert.match(id, /^[0-9a-f]{32}$/);
    assert.deepEqual(submitted, { data: { submitPredictionJob: { ...steps[0]!.expected.data.submitPredictionJob, id } } });
    await waitFor('the job', async () => ((await job(server, id)).state === 'SUCCEEDED' ? true : undefined));
    assert.deepEqual(await run(steps[1]!.command, id), steps[1]!.expected);
    assert.deepEqual(await run(steps[2]!.command, id), steps[2]!.expected);
  });

  it('removes a finished job with its inputs and results after JOBS_TTL_SECONDS', async () => {
    // A server of its own: the others' jobs must not expire while their tests read them.
    const server = await startTestServer({ JOBS_TTL_SECONDS: '5' });
    try {
      const created = await submit(server, 'iris', irisRows(20, 5));
      const done = await waitFor('the job', async () => {
        const state = await job(server, created.id);
        return state.state === 'SUCCEEDED' ? state : undefined;
      });
      const store = server.jobs.store as LmdbJobStore;
      assert.equal(store.rowCount(created.id), 40, '20 inputs and 20 results on disk');
      const expiresAt = Date.parse(done.finishedAt) + 5000;
      await sleep(Math.max(0, expiresAt - Date.now()) + 10);
      const res = await server.graphql(JOB, { id: created.id });
      assert.equal(res.errors?.[0]?.extensions?.code, 'JOB_NOT_FOUND', 'gone once expired');
      await waitFor('the sweep', async () => (store.rowCount(created.id) === 0 ? true : undefined), 5000);
    } finally {
      await server.close();
    }
  });
});

describe('prediction jobs on a slow model: cancel, JOBS_MAX_ACTIVE', () => {
  let server: TestServer;
  let modelsDir: string;
  before(async () => {
    modelsDir = modelsDirWithSlowModel(60, { batching: { maxBatchSize: 1, maxDelayMs: 0 } });
    server = await startTestServer({ MODELS_DIR: modelsDir, JOBS_MAX_ACTIVE: '1', WATCH_MODELS: 'false' });
  });
  after(async () => {
    await server.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  const slowRows = (n: number) => Array.from({ length: n }, (_, i) => ({ features: [i, 1, 2, 3] }));

  it('refuses a job past JOBS_MAX_ACTIVE with OVERLOADED; cancel drops what has not run and keeps what has', async () => {
    const first = await submit(server, 'slow', slowRows(200));
    const refused = await server.graphql(SUBMIT, { model: 'iris', inputs: irisRows(1) });
    assert.equal(refused.status, 503);
    assert.equal(refused.errors?.[0]?.extensions?.code, 'OVERLOADED');
    assert.match(refused.errors![0]!.message, /JOBS_MAX_ACTIVE/);

    await waitFor('some answers', async () => ((await job(server, first.id)).done >= 20 ? true : undefined));
    const cancelled = await server.graphql(CANCEL, { id: first.id });
    assert.equal(cancelled.errors, undefined);
    assert.equal(cancelled.data.cancelPredictionJob.state, 'CANCELLED');
    // What ran in the chunk being computed when the cancel came may still be stored; nothing after.
    await sleep(1000);
    const settled = await job(server, first.id);
    const batches = await server.metric('predictql_batch_size_count', { model: 'slow' });
    await sleep(1000);
    const later = await job(server, first.id);
    assert.equal(later.state, 'CANCELLED');
    assert.equal(later.done, settled.done, 'nothing more was answered');
    assert.equal(await server.metric('predictql_batch_size_count', { model: 'slow' }), batches, 'nothing more was computed');
    assert.ok(later.done >= 20 && later.done < 200, `${later.done} answers kept`);
    assert.equal(later.results.length, later.done, 'the answers computed before the cancel can be read');
    assert.ok(later.finishedAt);

    // The cancelled job no longer counts against JOBS_MAX_ACTIVE.
    const next = await submit(server, 'iris', irisRows(3));
    assert.equal(next.total, 3);
  });
});
