/**
 * An inference worker thread. It keeps one ONNX Runtime session per model version and runs
 * batches through the model's pipeline, so session.run, which blocks its thread for the whole
 * native call, never runs on the main thread's event loop.
 */
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { workerData } from 'piscina';
import type { ModelHandle } from '../pipelines/handle.ts';
import { runBatch } from '../pipelines/index.ts';
import { withTransfer } from './transfer.ts';
import {
  resultTransferables,
  type LoadResult,
  type LoadTask,
  type RunResult,
  type RunTask,
  type UnloadTask,
  type WorkerOptions,
  type WorkerTask,
} from './tasks.ts';

const options = workerData as WorkerOptions;
const sessions = new Map<string, Promise<ort.InferenceSession>>();

function openSession(model: ModelHandle): Promise<ort.InferenceSession> {
  let session = sessions.get(model.id);
  if (!session) {
    session = ort.InferenceSession.create(model.filePath, {
      intraOpNumThreads: options.ortThreads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: options.ortSpinning ? '1' : '0' } } },
    });
    // A failed open must not stick: the next task retries (the file may have been fixed).
    session.catch(() => sessions.delete(model.id));
    sessions.set(model.id, session);
  }
  return session;
}

async function run(task: RunTask): Promise<RunResult> {
  const session = await openSession(task.model);
  const outcome = await runBatch(session, task.model, task.payloads, task.needs);
  return withTransfer(outcome, resultTransferables(outcome.results));
}

// Barrier cells: [0] whose turn it is to load, [1] next ticket, [2] workers done.
const TURN = 0;
const TICKET = 1;
const DONE = 2;

function waitUntil(barrier: Int32Array, cell: number, predicate: (value: number) => boolean, deadline: number, what: string): void {
  for (;;) {
    const value = Atomics.load(barrier, cell);
    if (predicate(value)) return;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`${what}: timed out waiting for the other workers`);
    Atomics.wait(barrier, cell, value, left);
  }
}

/**
 * Opens the model and warms it up, one worker at a time so that each one's growth in resident
 * memory is its own, then waits until every worker has done the same. A worker blocked here
 * cannot take a second task, so N concurrent broadcast tasks reach N different workers.
 */
async function load(task: LoadTask): Promise<LoadResult> {
  const deadline = Date.now() + task.barrierTimeoutMs;
  const ticket = Atomics.add(task.barrier, TICKET, 1);
  waitUntil(task.barrier, TURN, (turn) => turn === ticket, deadline, `loading ${task.model.id}`);
  let result: LoadResult;
  try {
    const rssBefore = process.memoryUsage.rss();
    const started = performance.now();
    const session = await openSession(task.model);
    await run({ type: 'run', model: task.model, payloads: [task.sample], needs: 'probabilities' });
    const loadTimeMs = performance.now() - started;
    const batchDim = session.inputMetadata.find((m) => m.name === task.model.inputTensor);
    const first = batchDim && 'shape' in batchDim ? batchDim.shape[0] : undefined;
    result = { threadId, loadTimeMs, rssDeltaBytes: Math.max(0, process.memoryUsage.rss() - rssBefore), fixedBatchSize: typeof first === 'number' ? first : null };
  } finally {
    Atomics.add(task.barrier, TURN, 1);
    Atomics.notify(task.barrier, TURN);
  }
  Atomics.add(task.barrier, DONE, 1);
  Atomics.notify(task.barrier, DONE);
  waitUntil(task.barrier, DONE, (done) => done >= task.parties, deadline, `loading ${task.model.id}`);
  return result;
}

async function unload(task: UnloadTask): Promise<void> {
  const session = sessions.get(task.modelId);
  sessions.delete(task.modelId);
  await (await session?.catch(() => undefined))?.release();
  Atomics.add(task.barrier, DONE, 1);
  Atomics.notify(task.barrier, DONE);
  waitUntil(task.barrier, DONE, (done) => done >= task.parties, Date.now() + task.barrierTimeoutMs, `unloading ${task.modelId}`);
}

export default async function handle(task: WorkerTask): Promise<RunResult | LoadResult | void> {
  switch (task.type) {
    case 'run':
      return run(task);
    case 'load':
      return load(task);
    case 'unload':
      return unload(task);
  }
}
