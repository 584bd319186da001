/**
 * An inference worker thread. It keeps one ONNX Runtime session per model version (per model
 * stage of a multi-stage model) and runs batches through the model's pipeline (or its stages),
 * so session.run, which blocks its thread for the whole native call, never runs on the main
 * thread's event loop.
 */
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { workerData } from 'piscina';
import type { ModelHandle, WorkerModel } from '../pipelines/handle.ts';
import { runBatch } from '../pipelines/index.ts';
import { runStagedBatch, stageSessionKey, type StageSessions } from '../pipelines/stages.ts';
import { openWithFallback, type OpenedWith } from './providers.ts';
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
const sessions = new Map<string, Promise<OpenedWith<ort.InferenceSession>>>();
/** Providers that could not be used in this worker, with ONNX Runtime's reason: not tried again. */
const unavailableProviders = new Map<string, string>();

/** The session of `filePath`, opened once per `key` (a model version, or a stage of one). */
function openSession(key: string, filePath: string): Promise<OpenedWith<ort.InferenceSession>> {
  let session = sessions.get(key);
  if (!session) {
    session = openWithFallback(
      options.executionProviders,
      (executionProviders) =>
        ort.InferenceSession.create(filePath, {
          executionProviders,
          intraOpNumThreads: options.ortThreads,
          interOpNumThreads: 1,
          executionMode: 'sequential',
          graphOptimizationLevel: 'all',
          extra: { session: { intra_op: { allow_spinning: options.ortSpinning ? '1' : '0' } } },
        }),
      unavailableProviders,
    );
    // A failed open must not stick: the next task retries (the file may have been fixed).
    session.catch(() => sessions.delete(key));
    sessions.set(key, session);
  }
  return session;
}

const modelSession = async (model: ModelHandle) => (await openSession(model.id, model.filePath)).session;
const stageSession: StageSessions = async (model, stage) => (await openSession(stageSessionKey(model, stage), stage.filePath)).session;

async function run(task: RunTask): Promise<RunResult> {
  const model = task.model;
  const outcome = model.pipeline === 'stages' ? await runStagedBatch(model, task.payloads, stageSession) : await runBatch(await modelSession(model), model, task.payloads, task.needs);
  return withTransfer(outcome, resultTransferables(outcome.results));
}

/** Opens every session of a model version; returns the one whose input fixes a batch size, if any. */
async function openAll(model: WorkerModel): Promise<{ session: ort.InferenceSession; inputTensor: string } | null> {
  if (model.pipeline !== 'stages') return { session: await modelSession(model), inputTensor: model.inputTensor };
  for (const stage of model.stages) if (stage.kind === 'MODEL') await stageSession(model, stage);
  // Each stage runs its inputs one at a time: no batch size to report.
  return null;
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
    const opened = await openAll(task.model);
    await run({ type: 'run', model: task.model, payloads: [task.sample], needs: 'probabilities' });
    const loadTimeMs = performance.now() - started;
    const batchDim = opened?.session.inputMetadata.find((m) => m.name === opened.inputTensor);
    const first = batchDim && 'shape' in batchDim ? batchDim.shape[0] : undefined;
    result = {
      threadId,
      loadTimeMs,
      rssDeltaBytes: Math.max(0, process.memoryUsage.rss() - rssBefore),
      fixedBatchSize: typeof first === 'number' ? first : null,
      sessions: await sessionsOf(task.model.id),
    };
  } finally {
    Atomics.add(task.barrier, TURN, 1);
    Atomics.notify(task.barrier, TURN);
  }
  Atomics.add(task.barrier, DONE, 1);
  Atomics.notify(task.barrier, DONE);
  waitUntil(task.barrier, DONE, (done) => done >= task.parties, deadline, `loading ${task.model.id}`);
  return result;
}

/** The providers each session of a model version got (its own key, or `<id>/<stage>`). */
async function sessionsOf(modelId: string): Promise<LoadResult['sessions']> {
  const keys = [...sessions.keys()].filter((key) => key === modelId || key.startsWith(`${modelId}/`));
  return Promise.all(
    keys.map(async (key) => {
      const { provider, fallbacks } = await sessions.get(key)!;
      return { session: key, provider, fallbacks };
    }),
  );
}

async function unload(task: UnloadTask): Promise<void> {
  // The version's session, or its stages' (`<id>/<stage>`).
  const keys = [...sessions.keys()].filter((key) => key === task.modelId || key.startsWith(`${task.modelId}/`));
  for (const key of keys) {
    const session = sessions.get(key);
    sessions.delete(key);
    await (await session?.catch(() => undefined))?.session.release();
  }
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
