/** Job alone: shared by the requests that join it, left by each on its own signal. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CodedError, deadlineExceeded } from '../../src/domain/errors.ts';
import { abortReason, Job, type ComputedItem } from '../../src/engine/job.ts';

const PAYLOAD = { kind: 'features', values: Float32Array.of(1, 2) } as const;
const ANSWER: ComputedItem = { result: { kind: 'classification', labelIndex: 1 }, queueMs: 0, dispatchedAt: 0, batchSize: 1, timings: { preprocessMs: 0, inferenceMs: 0, postprocessMs: 0 } };

describe('Job', () => {
  it('gives its answer to every request that joined', async () => {
    const job = new Job('k', PAYLOAD, 'label');
    const a = job.join();
    const b = job.join(new AbortController().signal);
    assert.equal(job.abandoned, false);
    job.succeed(ANSWER);
    assert.deepEqual(await Promise.all([a, b]), [ANSWER, ANSWER]);
    assert.equal(job.abandoned, true, 'both left once answered');
  });

  it('fails every request that joined with the same error', async () => {
    const job = new Job('k', PAYLOAD, 'label');
    const a = job.join();
    const b = job.join();
    const failure = new Error('worker stopped');
    job.fail(failure);
    await assert.rejects(a, (error) => error === failure);
    await assert.rejects(b, (error) => error === failure);
  });

  it('lets one request leave on its signal while the others keep waiting', async () => {
    const job = new Job('k', PAYLOAD, 'label');
    const controller = new AbortController();
    const leaving = job.join(controller.signal);
    const staying = job.join();
    controller.abort(deadlineExceeded(30));
    await assert.rejects(leaving, (error) => error instanceof CodedError && error.code === 'DEADLINE_EXCEEDED');
    assert.equal(job.abandoned, false);
    job.succeed(ANSWER);
    assert.deepEqual(await staying, ANSWER);
  });

  it('is abandoned when every request left, and remembers why the last one did', async () => {
    const job = new Job('k', PAYLOAD, 'label');
    const first = new AbortController();
    const second = new AbortController();
    const a = job.join(first.signal).catch((error: unknown) => error);
    const b = job.join(second.signal).catch((error: unknown) => error);
    first.abort(deadlineExceeded(10));
    second.abort();
    await Promise.all([a, b]);
    assert.equal(job.abandoned, true);
    assert.ok(job.lastLeaveReason instanceof CodedError);
    assert.equal((job.lastLeaveReason as CodedError).code, 'CANCELLED', 'an abort without a coded reason is the client leaving');
    // Failing an abandoned job rejects nobody (and is no unhandled rejection).
    job.fail(job.lastLeaveReason);
  });

  it('refuses a request whose signal has already aborted, without counting it', async () => {
    const job = new Job('k', PAYLOAD, 'label');
    await assert.rejects(job.join(AbortSignal.abort(deadlineExceeded(5))), (error) => error instanceof CodedError && error.code === 'DEADLINE_EXCEEDED');
    assert.equal(job.abandoned, true);
  });

  it('takes a coded abort reason as it is, anything else as CANCELLED', () => {
    assert.equal((abortReason(AbortSignal.abort(deadlineExceeded(1))) as CodedError).code, 'DEADLINE_EXCEEDED');
    assert.equal((abortReason(AbortSignal.abort(new Error('socket closed'))) as CodedError).code, 'CANCELLED');
  });
});
