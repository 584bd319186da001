// A one-hidden-layer perceptron (784 -> hidden ReLU -> 10 softmax) in plain TypeScript, trained
// with mini-batch SGD and momentum, and its export to ONNX.
//
// Weights live in Float32Array in ONNX's Gemm layout (W1 [784, hidden], W2 [hidden, 10], both
// "input-major"), so the file holds exactly the numbers the trainer used. Sums run in float64;
// ORT sums in float32, which moves probabilities by ~1e-7, far inside the parity tolerance.
//
// MNIST images are ~80% zeros, so the first layer loops over the non-zero pixels only, forward
// and backward: about 5x less work than a dense product.

import { DataType, attr, floatTensor, graph, int64Tensor, model, node, serialize, tensorValueInfo } from '../onnx/builder.ts';
import { IMAGE_SIZE, LABELS, PIXELS } from './data.ts';

const N_CLASSES = LABELS.length;

export interface MlpWeights {
  hidden: number;
  w1: Float32Array; // [PIXELS, hidden]
  b1: Float32Array; // [hidden]
  w2: Float32Array; // [hidden, 10]
  b2: Float32Array; // [10]
}

/** Normal deviates from a uniform PRNG (Box-Muller); deterministic for a given PRNG. */
function gaussian(rand: () => number): () => number {
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const u = 1 - rand(); // (0, 1]: log(0) is -Infinity
    const v = rand();
    const r = Math.sqrt(-2 * Math.log(u));
    spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  };
}

/** He initialisation for the ReLU layer, Glorot-like for the output layer; biases 0. */
export function initMlp(hidden: number, rand: () => number): MlpWeights {
  const g = gaussian(rand);
  const w1 = new Float32Array(PIXELS * hidden);
  const s1 = Math.sqrt(2 / PIXELS);
  for (let i = 0; i < w1.length; i++) w1[i] = g() * s1;
  const w2 = new Float32Array(hidden * N_CLASSES);
  const s2 = Math.sqrt(1 / hidden);
  for (let i = 0; i < w2.length; i++) w2[i] = g() * s2;
  return { hidden, w1, b1: new Float32Array(hidden), w2, b2: new Float32Array(N_CLASSES) };
}

/** Activations of one forward pass, kept for the backward pass. */
interface Pass {
  nz: Int32Array; // indices of non-zero pixels
  nzCount: number;
  pre: Float64Array; // hidden pre-activations
  act: Float64Array; // hidden activations (ReLU)
  probs: Float64Array; // softmax output
}

function newPass(hidden: number): Pass {
  return {
    nz: new Int32Array(PIXELS),
    nzCount: 0,
    pre: new Float64Array(hidden),
    act: new Float64Array(hidden),
    probs: new Float64Array(N_CLASSES),
  };
}

function forwardInto(m: MlpWeights, x: Float32Array, p: Pass): void {
  const H = m.hidden;
  let nzCount = 0;
  for (let i = 0; i < PIXELS; i++) if (x[i] !== 0) p.nz[nzCount++] = i;
  p.nzCount = nzCount;
  const pre = p.pre;
  for (let j = 0; j < H; j++) pre[j] = m.b1[j]!;
  for (let n = 0; n < nzCount; n++) {
    const i = p.nz[n]!;
    const xi = x[i]!;
    const row = i * H;
    for (let j = 0; j < H; j++) pre[j] = pre[j]! + xi * m.w1[row + j]!;
  }
  for (let j = 0; j < H; j++) p.act[j] = pre[j]! > 0 ? pre[j]! : 0;
  const z = p.probs;
  for (let k = 0; k < N_CLASSES; k++) z[k] = m.b2[k]!;
  for (let j = 0; j < H; j++) {
    const a = p.act[j]!;
    if (a === 0) continue;
    const row = j * N_CLASSES;
    for (let k = 0; k < N_CLASSES; k++) z[k] = z[k]! + a * m.w2[row + k]!;
  }
  // Softmax as ORT computes it: subtract the max, exponentiate, divide by the sum.
  let max = -Infinity;
  for (let k = 0; k < N_CLASSES; k++) if (z[k]! > max) max = z[k]!;
  let sum = 0;
  for (let k = 0; k < N_CLASSES; k++) {
    z[k] = Math.exp(z[k]! - max);
    sum += z[k]!;
  }
  for (let k = 0; k < N_CLASSES; k++) z[k] = z[k]! / sum;
}

/** Class probabilities for one 784-pixel image. */
export function predictMlp(m: MlpWeights, x: Float32Array): number[] {
  const p = newPass(m.hidden);
  forwardInto(m, x, p);
  return Array.from(p.probs);
}

export interface SgdOptions {
  learningRate: number;
  momentum: number;
  weightDecay: number;
}

/** Mini-batch SGD with momentum on softmax cross-entropy. */
export class MlpTrainer {
  readonly m: MlpWeights;
  private readonly pass: Pass;
  private readonly g: MlpWeights;
  private readonly vel: MlpWeights;
  private readonly dHidden: Float64Array;
  private readonly dLogits = new Float64Array(N_CLASSES);
  private batch = 0;
  /** Sum of the cross-entropy of the examples seen since the last resetLoss(). */
  lossSum = 0;
  seen = 0;

  constructor(m: MlpWeights) {
    this.m = m;
    this.pass = newPass(m.hidden);
    const zeros = (): MlpWeights => ({
      hidden: m.hidden,
      w1: new Float32Array(m.w1.length),
      b1: new Float32Array(m.b1.length),
      w2: new Float32Array(m.w2.length),
      b2: new Float32Array(m.b2.length),
    });
    this.g = zeros();
    this.vel = zeros();
    this.dHidden = new Float64Array(m.hidden);
  }

  /** Adds one example's gradient to the current batch. */
  accumulate(x: Float32Array, label: number): void {
    const { m, g, pass: p } = this;
    const H = m.hidden;
    forwardInto(m, x, p);
    this.lossSum += -Math.log(Math.max(p.probs[label]!, 1e-12));
    this.seen++;
    // d(cross-entropy)/d(logits) of a softmax: probabilities minus the one-hot target.
    const dz = this.dLogits;
    for (let k = 0; k < N_CLASSES; k++) dz[k] = p.probs[k]! - (k === label ? 1 : 0);
    for (let k = 0; k < N_CLASSES; k++) g.b2[k] = g.b2[k]! + dz[k]!;
    const dh = this.dHidden;
    for (let j = 0; j < H; j++) {
      const a = p.act[j]!;
      if (a === 0) {
        dh[j] = 0;
        continue;
      }
      const row = j * N_CLASSES;
      let s = 0;
      for (let k = 0; k < N_CLASSES; k++) {
        g.w2[row + k] = g.w2[row + k]! + a * dz[k]!;
        s += m.w2[row + k]! * dz[k]!;
      }
      dh[j] = s;
    }
    for (let j = 0; j < H; j++) g.b1[j] = g.b1[j]! + dh[j]!;
    for (let n = 0; n < p.nzCount; n++) {
      const i = p.nz[n]!;
      const xi = x[i]!;
      const row = i * H;
      for (let j = 0; j < H; j++) g.w1[row + j] = g.w1[row + j]! + xi * dh[j]!;
    }
    this.batch++;
  }

  /** Applies the batch's mean gradient and starts a new batch. */
  step(o: SgdOptions): void {
    if (this.batch === 0) return;
    const scale = 1 / this.batch;
    const upd = (w: Float32Array, g: Float32Array, v: Float32Array, decay: number): void => {
      for (let i = 0; i < w.length; i++) {
        const grad = g[i]! * scale + decay * w[i]!;
        v[i] = o.momentum * v[i]! - o.learningRate * grad;
        w[i] = w[i]! + v[i]!;
        g[i] = 0;
      }
    };
    upd(this.m.w1, this.g.w1, this.vel.w1, o.weightDecay);
    upd(this.m.b1, this.g.b1, this.vel.b1, 0);
    upd(this.m.w2, this.g.w2, this.vel.w2, o.weightDecay);
    upd(this.m.b2, this.g.b2, this.vel.b2, 0);
    this.batch = 0;
  }
}

// ---------------------------------------------------------------------------------------------
// ONNX

export interface ExportOptions {
  docString: string;
  metadata?: Readonly<Record<string, string>>;
}

/**
 * image float32 [N,1,28,28] -> Reshape [N,784] -> Gemm -> Relu -> Gemm -> Softmax -> probabilities
 * float32 [N,10].
 */
export function mlpToOnnx(m: MlpWeights, options: ExportOptions): Uint8Array {
  const H = m.hidden;
  const nodes = [
    // Reshape to [-1, 784] rather than Flatten: it also rejects images that are not 28x28 with a
    // shape error instead of a Gemm error further on.
    node('Reshape', ['image', 'flat_shape'], ['flat'], { name: 'flatten' }),
    node('Gemm', ['flat', 'w1', 'b1'], ['hidden_pre'], { name: 'dense1' }),
    node('Relu', ['hidden_pre'], ['hidden'], { name: 'relu1' }),
    node('Gemm', ['hidden', 'w2', 'b2'], ['logits'], { name: 'dense2' }),
    node('Softmax', ['logits'], ['probabilities'], { name: 'softmax', attributes: { axis: attr.int(1) } }),
  ];
  return serialize(
    model({
      docString: options.docString,
      ...(options.metadata !== undefined ? { metadata: options.metadata } : {}),
      opsets: { '': 15 },
      graph: graph({
        name: 'digits_mlp',
        nodes,
        inputs: [
          tensorValueInfo(
            'image',
            DataType.FLOAT,
            ['N', 1, IMAGE_SIZE, IMAGE_SIZE],
            'float32 [N,1,28,28]: grey levels 0..1, white digit on black, MNIST-normalised (20 px box, centred by mass)',
          ),
        ],
        outputs: [
          tensorValueInfo('probabilities', DataType.FLOAT, ['N', N_CLASSES], `softmax over the digits ${LABELS.join(', ')}`),
        ],
        initializers: [
          int64Tensor('flat_shape', [2], [-1, PIXELS]),
          floatTensor('w1', [PIXELS, H], m.w1),
          floatTensor('b1', [H], m.b1),
          floatTensor('w2', [H, N_CLASSES], m.w2),
          floatTensor('b2', [N_CLASSES], m.b2),
        ],
      }),
    }),
  );
}
