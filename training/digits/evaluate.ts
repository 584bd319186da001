// Measures the staged digit model through the path the server takes: image bytes -> decodeImage ->
// toMnistTensor -> onnxruntime-node.
//
//   node --import tsx training/digits/evaluate.ts [path/to/model.onnx]
//
// Reports held-out MNIST accuracy on the raw tensors and on the same digits sent as PNGs (as they
// are, and inverted and enlarged 4x), then on digits printed in this machine's fonts and drawn
// with a pen (suite.ts), with every miss listed.

import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { decodeDigit } from '../../src/pipelines/mnist.ts';
import { IMAGE_SIZE, LABELS, PIXELS, loadHeldOutDigits } from './data.ts';
import { mnistDigitPng } from './render.ts';
import { renderedSuite } from './suite.ts';

const LIMITS = { maxBytes: 5_000_000, maxPixels: 25_000_000 };

async function predict(session: ort.InferenceSession, images: readonly Float32Array[]): Promise<number[]> {
  const out: number[] = [];
  for (let start = 0; start < images.length; start += 256) {
    const chunk = images.slice(start, start + 256);
    const batch = new Float32Array(chunk.length * PIXELS);
    chunk.forEach((x, i) => batch.set(x, i * PIXELS));
    const result = await session.run({ image: new ort.Tensor('float32', batch, [chunk.length, 1, IMAGE_SIZE, IMAGE_SIZE]) });
    const probs = result['probabilities']!.data as Float32Array;
    for (let i = 0; i < chunk.length; i++) {
      const row = probs.subarray(i * LABELS.length, (i + 1) * LABELS.length);
      let best = 0;
      for (let k = 1; k < row.length; k++) if (row[k]! > row[best]!) best = k;
      out.push(best);
    }
  }
  return out;
}

async function viaImage(bytes: Uint8Array): Promise<Float32Array> {
  return decodeDigit(bytes, LIMITS);
}

function pct(correct: number, total: number): string {
  return `${correct}/${total} (${((100 * correct) / total).toFixed(1)}%)`;
}

async function main(): Promise<void> {
  const modelPath = process.argv[2] ?? fileURLToPath(new URL('../../models/digits/model.onnx', import.meta.url));
  const session = await ort.InferenceSession.create(modelPath);
  const heldOut = loadHeldOutDigits();
  const count = (predicted: readonly number[], truth: readonly number[]): number => predicted.filter((p, i) => p === truth[i]).length;
  const truth = heldOut.map((d) => d.digit);

  const raw = await predict(session, heldOut.map((d) => d.pixels));
  console.log(`held-out MNIST, raw tensors:                  ${pct(count(raw, truth), truth.length)}`);

  const started = performance.now();
  const png = await Promise.all(heldOut.map(async (d) => viaImage(await mnistDigitPng(d.pixels))));
  const ms = (performance.now() - started) / heldOut.length;
  const viaPng = await predict(session, png);
  console.log(`held-out MNIST as 28x28 PNGs, toMnistTensor:  ${pct(count(viaPng, truth), truth.length)} (${ms.toFixed(2)} ms per image to encode + decode + normalise)`);
  const big = await Promise.all(heldOut.map(async (d) => viaImage(await mnistDigitPng(d.pixels, { scale: 4, invert: true }))));
  const viaBig = await predict(session, big);
  console.log(`held-out MNIST as 112x112 black-on-white PNGs: ${pct(count(viaBig, truth), truth.length)}`);

  const suite = await renderedSuite();
  const tensors = await Promise.all(suite.map((s) => viaImage(s.bytes)));
  const predicted = await predict(session, tensors);
  const misses: string[] = [];
  for (const kind of ['font', 'pen'] as const) {
    const idx = suite.map((_, i) => i).filter((i) => suite[i]!.kind === kind);
    const ok = idx.filter((i) => predicted[i] === suite[i]!.digit).length;
    console.log(`rendered digits, ${kind === 'font' ? 'printed in fonts' : 'drawn with a pen'}: ${' '.repeat(kind === 'font' ? 6 : 5)}${pct(ok, idx.length)}`);
  }
  const byGroup = new Map<string, [number, number]>();
  suite.forEach((s, i) => {
    const group = s.description;
    const [ok, n] = byGroup.get(group) ?? [0, 0];
    const hit = predicted[i] === s.digit;
    byGroup.set(group, [ok + (hit ? 1 : 0), n + 1]);
    if (!hit) misses.push(`${s.digit} read as ${predicted[i]}: ${s.description}`);
  });
  for (const [group, [ok, n]] of byGroup) if (ok < n) console.log(`  ${ok}/${n}  ${group}`);
  console.log(`misses:\n  ${misses.join('\n  ')}`);
  await session.release();
}

main().catch((err: unknown) => {
  console.error(`evaluate-digits failed: ${err instanceof Error ? err.stack : String(err)}`);
  process.exitCode = 1;
});
