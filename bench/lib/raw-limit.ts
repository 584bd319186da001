/**
 * Reference (a) of GUIDE section 3, the limit: the model run in-process by onnxruntime-node with
 * ONNX Runtime's default threads (all cores), no HTTP, at the batch size that gives the most
 * rows per second.
 */
import { performance } from 'node:perf_hooks';
import * as ort from 'onnxruntime-node';

export interface LimitResult {
  bestBatchSize: number;
  rowsPerSecond: number;
  byBatchSize: Record<number, number>;
}

export async function rawLimit(
  filePath: string,
  inputName: string,
  rowFloats: number,
  dims: (batch: number) => number[],
  rows: readonly Float32Array[],
  batchSizes: readonly number[],
  msPerSize: number,
): Promise<LimitResult> {
  const session = await ort.InferenceSession.create(filePath);
  const byBatchSize: Record<number, number> = {};
  for (const batch of batchSizes) {
    const data = new Float32Array(batch * rowFloats);
    for (let i = 0; i < batch; i++) data.set(rows[i % rows.length]!, i * rowFloats);
    const tensor = new ort.Tensor('float32', data, dims(batch));
    await session.run({ [inputName]: tensor });
    let done = 0;
    const started = performance.now();
    while (performance.now() - started < msPerSize) {
      await session.run({ [inputName]: tensor });
      done += batch;
    }
    byBatchSize[batch] = done / ((performance.now() - started) / 1000);
  }
  const [best] = Object.entries(byBatchSize).sort((a, b) => b[1] - a[1]);
  await session.release();
  return { bestBatchSize: Number(best![0]), rowsPerSecond: best![1], byBatchSize };
}
