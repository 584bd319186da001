/**
 * An inference worker thread. It keeps one ONNX Runtime session per model version and runs
 * batches on it, so session.run, which blocks its thread for the whole native call, never runs
 * on the main thread's event loop.
 */
import { performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import * as ort from 'onnxruntime-node';
import { workerData } from 'piscina';
import { ownBuffer, withTransfer } from './transfer.ts';
import type { LoadResult, LoadTask, ModelHandle, RunResult, RunTask, WorkerOptions, WorkerTask } from './tasks.ts';

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
    });
    // A failed open must not stick: the next task retries (the file may have been fixed).
    session.catch(() => sessions.delete(model.id));
    sessions.set(model.id, session);
  }
  return session;
}

async function run(task: RunTask): Promise<RunResult> {
  const { model, rows, features } = task;
  const session = await openSession(model);
  const input = new ort.Tensor('float32', features, [rows, model.featureCount]);
  const started = performance.now();
  const outputs = await session.run({ [model.inputTensor]: input }, [model.probabilitiesOutput]);
  const inferenceMs = performance.now() - started;
  const output = outputs[model.probabilitiesOutput];
  if (!output || output.type !== 'float32' || output.data.length !== rows * model.labelCount) {
    throw new Error(
      `model ${model.id}: output "${model.probabilitiesOutput}" should be float32 [${rows}, ${model.labelCount}], ` +
        `got ${output ? `${output.type} [${output.dims.join(', ')}]` : 'nothing'}`,
    );
  }
  const probabilities = ownBuffer(output.data as Float32Array);
  clampProbabilities(probabilities);
  return withTransfer({ probabilities, inferenceMs }, [probabilities.buffer]);
}

/**
 * Sums of float32 leaf weights can land a hair outside [0, 1] (1.0000001 for a sure setosa);
 * the API promises probabilities in 0..1, so the last bit of rounding is clamped away.
 */
function clampProbabilities(values: Float32Array): void {
  for (let i = 0; i < values.length; i++) values[i] = Math.min(1, Math.max(0, values[i]!));
}

async function load(task: LoadTask): Promise<LoadResult> {
  const started = performance.now();
  await run({ type: 'run', model: task.model, rows: 1, features: task.sample });
  const loadTimeMs = performance.now() - started;
  // Wait until every worker has taken one load task. A worker blocked here cannot take a second
  // one, so N concurrent load tasks reach N different workers: a broadcast over Piscina's queue.
  Atomics.add(task.barrier, 0, 1);
  Atomics.notify(task.barrier, 0);
  const deadline = Date.now() + task.barrierTimeoutMs;
  for (;;) {
    const arrived = Atomics.load(task.barrier, 0);
    if (arrived >= task.parties) break;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`loading ${task.model.id}: only ${arrived} of ${task.parties} workers answered`);
    Atomics.wait(task.barrier, 0, arrived, left);
  }
  return { threadId, loadTimeMs };
}

export default async function handle(task: WorkerTask): Promise<RunResult | LoadResult> {
  return task.type === 'run' ? run(task) : load(task);
}
