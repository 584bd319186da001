/**
 * Reference (a) of GUIDE section 3, the limit: the model run in-process by onnxruntime-node with
 * ONNX Runtime's default threads (all cores), no HTTP and no pre-processing, at the batch size
 * that gives the most inputs per second.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';
import type { Workload } from './workloads.ts';

export interface LimitResult {
  bestBatchSize: number;
  rowsPerSecond: number;
  byBatchSize: Record<number, number>;
}

export async function rawLimit(workload: Workload, batchSizes: readonly number[], msPerSize: number): Promise<LimitResult> {
  const { file, input, row, dims } = workload.limit;
  const session = await ort.InferenceSession.create(file);
  const byBatchSize: Record<number, number> = {};
  for (const batch of batchSizes) {
    const data = new Float32Array(batch * row.length);
    for (let i = 0; i < batch; i++) data.set(row, i * row.length);
    const tensor = new ort.Tensor('float32', data, dims(batch));
    await session.run({ [input]: tensor });
    let done = 0;
    const started = performance.now();
    while (performance.now() - started < msPerSize) {
      await session.run({ [input]: tensor });
      done += batch;
    }
    byBatchSize[batch] = done / ((performance.now() - started) / 1000);
  }
  const [best] = Object.entries(byBatchSize).sort((a, b) => b[1] - a[1]);
  await session.release();
  return { bestBatchSize: Number(best![0]), rowsPerSecond: best![1], byBatchSize };
}
