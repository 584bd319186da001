/**
 * ModelBatcher with a real Dispatcher and a fake pool whose batches the test finishes by hand:
 * when a batch goes, what it holds, dedup, the queue bound, the deadline admission, dropped
 * inputs and failures. (The real pool is covered end to end by test/engine.test.ts.)
 */
import assert from 'node:assert/strict';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, it } from 'node:test';
import { CodedError } from '../../src/domain/errors.ts';
import type { BatchPolicy, ClassificationNeeds, ItemFailure, ItemResult, Payload } from '../../src/domain/types.ts';
import { ModelBatcher, type BatchRunner } from '../../src/engine/batcher.ts';
import { Dispatcher } from '../../src/engine/dispatcher.ts';
import { WorkerCrashedError } from '../../src/engine/pool.ts';
import type { RunResult } from '../../src/engine/tasks.ts';
import { Metrics } from '../../src/metrics.ts';
import type { ModelHandle } from '../../src/pipelines/handle.ts';

const HANDLE: ModelHandle = { id: 'm@1', filePath: '/nowhere.onnx', pipeline: 'tabular', inputTensor: 'x', outputs: {}, options: { featureCount: 1, labelCount: 10 } };

interface FakeBatch {
  payloads: Payload[];
  needs: ClassificationNeeds;
  /** Answers every input with its own value as the label, unless `results` says otherwise. */
  finish(results?: Array<ItemResult | ItemFailure>): void;
  fail(error: Error): void;
}

class FakePool implements BatchRunner {
  readonly batches: FakeBatch[] = [];

  run(_model: ModelHandle, payloads: Payload[], needs: ClassificationNeeds): Promise<RunResult> {
    return new Promise((resolve, reject) => {
      this.batches.push({
        payloads,
        needs,
        finish: (results = payloads.map(labelOf)) => resolve({ results, timings: { preprocessMs: 1, inferenceMs: 2, postprocessMs: 3 }, fetched: ['probabilities'] }),
        fail: reject,
      });
    });
  }
}

function labelOf(payload: Payload): ItemResult {
  return { kind: 'classification', labelIndex: payload.kind === 'features' ? payload.values[0]! : -1 };
}

const row = (value: number): Payload => ({ kind: 'features', values: Float32Array.of(value) });

function setup(policy: Partial<BatchPolicy> = {}, workers = 1) {
  const pool = new FakePool();
  const metrics = new Metrics();
  const dispatcher = new Dispatcher(workers);
  const batcher = new ModelBatcher('m', HANDLE, { maxBatchSize: 8, maxDelayMs: 0, maxQueue: 100, maxWorkers: workers, ...policy }, pool, dispatcher, metrics);
  const counter = async (metric: { get(): Promise<{ values: Array<{ labels: Record<string, unknown>; value: number }> }> }, labels: Record<string, string>) =>
    (await metric.get()).values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value ?? 0;
  return { pool, metrics, dispatcher, batcher, counter };
}

const codeOf = (error: unknown) => (error instanceof CodedError ? error.code : String(error));

describe('ModelBatcher', () => {
  it('sends the inputs queued in one turn of the event loop as one batch, at its end', async () => {
    const { pool, batcher } = setup();
    const answers = [1, 2, 3].map((v) => batcher.compute(`k${v}`, row(v), 'label'));
    assert.equal(pool.batches.length, 0, 'nothing goes before the turn ends');
    await nextTurn();
    assert.equal(pool.batches.length, 1);
    assert.deepEqual(pool.batches[0]!.payloads.map(labelOf).map((r) => (r as { labelIndex: number }).labelIndex), [1, 2, 3]);
    pool.batches[0]!.finish();
    const computed = await Promise.all(answers);
    assert.deepEqual(computed.map((c) => [(c.result as { labelIndex: number }).labelIndex, c.batchSize]), [[1, 3], [2, 3], [3, 3]]);
    assert.deepEqual(computed[0]!.timings, { preprocessMs: 1, inferenceMs: 2, postprocessMs: 3 });
  });

  it('computes an input pending for several requests once, and keeps label-only and full answers apart', async () => {
    const { pool, batcher } = setup();
    const same = [batcher.compute('x', row(7), 'label'), batcher.compute('x', row(7), 'label')];
    const full = batcher.compute('x', row(7), 'probabilities');
    await nextTurn();
    assert.equal(pool.batches[0]!.payloads.length, 2, 'one label-only job, one that needs the probabilities');
    assert.equal(pool.batches[0]!.needs, 'probabilities', 'the batch fetches what its most demanding input needs');
    pool.batches[0]!.finish();
    const [a, b] = await Promise.all(same);
    assert.equal(a, b, 'both requests got the one computed answer');
    assert.equal((await full).batchSize, 2);
  });

  it('sends a full batch at once, without waiting for the turn to end', () => {
    const { pool, batcher } = setup({ maxBatchSize: 2 });
    void batcher.compute('a', row(1), 'label');
    assert.equal(pool.batches.length, 0);
    void batcher.compute('b', row(2), 'label');
    assert.equal(pool.batches.length, 1);
    assert.equal(pool.batches[0]!.payloads.length, 2);
  });

  it('lets a batch that waits for a worker keep growing, and sends it when the worker frees up', async () => {
    const { pool, batcher } = setup({}, 1);
    const first = batcher.compute('a', row(1), 'label');
    await nextTurn();
    const later = [2, 3, 4].map((v) => batcher.compute(`k${v}`, row(v), 'label'));
    await nextTurn();
    const more = batcher.compute('k5', row(5), 'label');
    await nextTurn();
    assert.equal(pool.batches.length, 1, 'the second batch waits in the dispatcher');
    assert.equal(batcher.queueDepth, 4);
    pool.batches[0]!.finish();
    await first;
    assert.equal(pool.batches.length, 2);
    assert.equal(pool.batches[1]!.payloads.length, 4, 'it grew while it waited');
    pool.batches[1]!.finish();
    await Promise.all([...later, more]);
  });

  it('waits up to maxDelayMs for more inputs while another batch of the model runs', async () => {
    const { pool, batcher } = setup({ maxDelayMs: 200, maxWorkers: 2 }, 2);
    void batcher.compute('a', row(1), 'label');
    await nextTurn();
    assert.equal(pool.batches.length, 1, 'nothing else ran: the first batch went at once');
    void batcher.compute('b', row(2), 'label');
    await nextTurn();
    void batcher.compute('c', row(3), 'label');
    assert.equal(pool.batches.length, 1, 'the second batch is filling');
    while (pool.batches.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(pool.batches[1]!.payloads.length, 2);
  });

  it('refuses an input past maxQueue with OVERLOADED, and counts it', async () => {
    const { batcher, metrics, counter } = setup({ maxQueue: 2 });
    void batcher.compute('a', row(1), 'label');
    void batcher.compute('b', row(2), 'label');
    assert.throws(() => batcher.compute('c', row(3), 'label'), (error: unknown) => {
      assert.ok(error instanceof CodedError);
      assert.equal(error.code, 'OVERLOADED');
      assert.equal(error.message, 'model "m" has 2 inputs queued, its limit; retry in 1 s');
      assert.deepEqual(error.details, { retryAfterSeconds: 1 });
      return true;
    });
    assert.doesNotThrow(() => batcher.compute('a', row(1), 'label'), 'an input already queued is joined, not refused');
    assert.equal(await counter(metrics.rejected, { model: 'm', reason: 'OVERLOADED' }), 1);
  });

  it("admits a request's inputs as a unit: all of them on an idle model, none past the bound", async () => {
    const { pool, batcher, metrics, counter } = setup({ maxQueue: 4, maxBatchSize: 2 });
    const many = (from: number, count: number) => Array.from({ length: count }, (_, i) => ({ key: `k${from + i}`, payload: row(from + i) }));
    const big = batcher.computeMany(many(0, 6), 'label');
    assert.equal(big.length, 6, 'six inputs over a bound of four, taken since nothing was queued');
    assert.throws(
      () => batcher.computeMany(many(10, 2), 'label'),
      (error: unknown) => error instanceof CodedError && error.code === 'OVERLOADED' && /has \d+ inputs queued and \d+ running; this request's 2 more would pass its limit of 4 \(MAX_QUEUE\), so none was queued/.test(error.message),
    );
    assert.equal(await counter(metrics.rejected, { model: 'm', reason: 'OVERLOADED' }), 2, 'both refused inputs counted');
    assert.equal(batcher.computeMany(many(0, 3), 'label').length, 3, 'inputs already pending are joined, not counted against the bound');
    while (pool.batches.length < 3) {
      pool.batches.at(-1)?.finish();
      await nextTurn();
    }
    for (const batch of pool.batches.slice(-1)) batch.finish();
    assert.deepEqual(
      (await Promise.all(big)).map((c) => (c.result as { labelIndex: number }).labelIndex),
      [0, 1, 2, 3, 4, 5],
    );
    assert.equal(batcher.queueDepth, 0);
    assert.equal(batcher.computeMany(many(20, 6), 'label').length, 6, 'a request over the bound is taken again once the model is idle');
    assert.throws(() => batcher.computeMany(many(30, 5), 'label'), /taken only while the model is idle/, 'but not while another runs');
  });

  it('refuses at once an input whose deadline the queued work would outlast, once batch times are known', async () => {
    const { pool, batcher, metrics, counter } = setup({ maxBatchSize: 4 }, 1);
    const first = batcher.compute('a', row(1), 'label', undefined, performance.now() + 1);
    await nextTurn();
    await new Promise((resolve) => setTimeout(resolve, 30)); // the batch takes a while
    pool.batches[0]!.finish();
    await first;
    void batcher.compute('b', row(2), 'label'); // runs now: the worker is busy again
    await nextTurn();
    void batcher.compute('c', row(3), 'label'); // queued behind it
    assert.throws(
      () => batcher.compute('d', row(4), 'label', undefined, performance.now() + 1),
      (error: unknown) => error instanceof CodedError && error.code === 'OVERLOADED' && /ms of work, more than the \d+ ms left of this request's deadline/.test(error.message),
    );
    assert.equal(await counter(metrics.rejected, { model: 'm', reason: 'DEADLINE_UNREACHABLE' }), 1);
    assert.doesNotThrow(() => batcher.compute('e', row(5), 'label', undefined, performance.now() + 600_000), 'a deadline far enough is accepted');
  });

  it("counts a request's own inputs in the deadline estimate, even on an idle model", async () => {
    const { pool, batcher } = setup({ maxBatchSize: 4 }, 1);
    const first = batcher.compute('a', row(1), 'label');
    await nextTurn();
    await new Promise((resolve) => setTimeout(resolve, 30)); // one input took 30 ms or more
    pool.batches[0]!.finish();
    await first;
    await batcher.idle();
    const many = (count: number) => Array.from({ length: count }, (_, i) => ({ key: `r${count}-${i}`, payload: row(i) }));
    assert.equal(batcher.estimatedWaitMs(4), 0, 'one batch on an idle model waits for nothing ahead');
    assert.ok(batcher.estimatedWaitMs(40) > 1000, `forty inputs of about 30 ms, spread over one worker: ${batcher.estimatedWaitMs(40)} ms`);
    assert.throws(
      () => batcher.computeMany(many(40), 'label', undefined, performance.now() + 1000),
      (error: unknown) => error instanceof CodedError && error.code === 'OVERLOADED' && /and this request's 40, about \d+ ms of work, more than the \d+ ms left/.test(error.message),
    );
    assert.equal(batcher.queueDepth, 0, 'nothing of the refused request was queued');
    assert.equal(batcher.computeMany(many(4), 'label', undefined, performance.now() + 1000).length, 4, 'a request that fits in one batch is taken');
  });

  it('drops the inputs whose requests all left before their batch runs', async () => {
    const { pool, batcher, metrics, counter } = setup({}, 1);
    const busy = batcher.compute('a', row(1), 'label');
    await nextTurn();
    const controller = new AbortController();
    const gone = batcher.compute('b', row(2), 'label', controller.signal).catch((error: unknown) => error);
    await nextTurn();
    controller.abort();
    assert.equal(codeOf(await gone), 'CANCELLED');
    pool.batches[0]!.finish();
    await busy;
    await batcher.idle();
    assert.equal(pool.batches.length, 1, 'the abandoned input never reached the pool');
    assert.equal(await counter(metrics.dropped, { model: 'm', reason: 'CANCELLED' }), 1);
    assert.equal(batcher.queueDepth, 0);
  });

  it('fails a batch whose worker died with WORKER_CRASHED, any other failure with INFERENCE_FAILED', async () => {
    const { pool, batcher } = setup();
    const crashed = [batcher.compute('a', row(1), 'label'), batcher.compute('b', row(2), 'label')].map((p) => p.catch((error: unknown) => error));
    await nextTurn();
    pool.batches[0]!.fail(new WorkerCrashedError('the inference worker stopped while running this batch (worker exited)'));
    for (const error of await Promise.all(crashed)) {
      assert.equal(codeOf(error), 'WORKER_CRASHED');
      assert.equal((error as Error).message, 'model "m": the inference worker stopped while running this batch (worker exited); the worker was replaced, retry the request');
    }
    const failed = batcher.compute('a', row(1), 'label').catch((error: unknown) => error);
    await nextTurn();
    pool.batches[1]!.fail(new Error('Reshape: bad shape'));
    const error = await failed;
    assert.equal(codeOf(error), 'INFERENCE_FAILED');
    assert.equal((error as Error).message, 'model "m" failed to run: Reshape: bad shape');
  });

  it('fails only the input the worker could not process', async () => {
    const { pool, batcher } = setup();
    const good = batcher.compute('a', row(1), 'label');
    const bad = batcher.compute('b', row(2), 'label').catch((error: unknown) => error);
    await nextTurn();
    pool.batches[0]!.finish([labelOf(row(1)), { kind: 'failure', code: 'BAD_USER_INPUT', message: 'image looks like a PNG but could not be decoded' }]);
    assert.equal(((await good).result as { labelIndex: number }).labelIndex, 1);
    const error = await bad;
    assert.equal(codeOf(error), 'BAD_USER_INPUT');
    assert.equal((error as Error).message, 'image looks like a PNG but could not be decoded');
  });

  it('resolves idle() when nothing of the model is queued or running', async () => {
    const { pool, batcher } = setup();
    await batcher.idle();
    void batcher.compute('a', row(1), 'label');
    let idle = false;
    const waiting = batcher.idle().then(() => (idle = true));
    await nextTurn();
    assert.equal(idle, false);
    pool.batches[0]!.finish();
    await waiting;
    assert.equal(idle, true);
  });

  it('runs a background batcher\'s batches behind interactive ones, and reports each queue by priority', async () => {
    const pool = new FakePool();
    const metrics = new Metrics();
    const dispatcher = new Dispatcher(1, 1);
    const policy = { maxBatchSize: 8, maxDelayMs: 0, maxQueue: 100, maxWorkers: 1 };
    const interactive = new ModelBatcher('m', HANDLE, policy, pool, dispatcher, metrics);
    const background = new ModelBatcher('m', HANDLE, policy, pool, dispatcher, metrics, 'background');
    const first = interactive.compute('i1', row(1), 'label');
    await nextTurn();
    const job = background.compute('b1', row(2), 'label');
    await nextTurn();
    const second = interactive.compute('i2', row(3), 'label');
    await nextTurn();
    const depth = async (priority: string) => (await metrics.queueDepth.get()).values.find((v) => v.labels.priority === priority)?.value;
    assert.equal(await depth('background'), 1);
    assert.equal(await depth('interactive'), 1);
    pool.batches[0]!.finish();
    await first;
    assert.equal(pool.batches.length, 2);
    assert.deepEqual(pool.batches[1]!.payloads.map((p) => labelOf(p)), [{ kind: 'classification', labelIndex: 3 }], 'the interactive input went first');
    pool.batches[1]!.finish();
    await second;
    assert.equal(pool.batches.length, 3);
    pool.batches[2]!.finish();
    assert.equal(((await job).result as { labelIndex: number }).labelIndex, 2);
    assert.equal(dispatcher.busy, 0);
  });
});
