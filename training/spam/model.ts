// TF-IDF vectoriser and L2-regularised logistic regression, written to compute exactly what the
// ONNX graph of training/text/onnx.ts computes (TfIdfVectorizer TFIDF -> Normalizer L2 ->
// LinearClassifier LOGISTIC), in float64.
//
// No randomness anywhere: full-batch L-BFGS from zero weights, every loop in a fixed order, every
// tie broken by comparing strings. The same data gives the same weights, bit for bit.

import { tokenize } from '../../src/processing/text.ts';

// ---------------------------------------------------------------------------------------------
// Vocabulary and TF-IDF

export interface VocabularyOptions {
  /** Keep at most this many terms, the most frequent by document frequency. */
  maxFeatures: number;
  /** Drop terms seen in fewer documents than this. */
  minDf: number;
}

export interface Vocabulary {
  /** Unigrams (sorted), then bigrams (sorted): the feature columns. */
  terms: string[];
  idf: Float64Array;
  index: Map<string, number>;
}

/** Unigrams and bigrams of one token list, in order, with repeats (a bigram is 'a b'). */
export function ngrams(tokens: readonly string[]): string[] {
  const out = [...tokens];
  for (let i = 0; i + 1 < tokens.length; i++) out.push(`${tokens[i]} ${tokens[i + 1]}`);
  return out;
}

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * scikit-learn's TfidfVectorizer(ngram_range=(1, 2), min_df, max_features) with smooth idf:
 * idf = ln((1 + n) / (1 + df)) + 1. Ties at the max_features cut are broken by the term.
 */
export function buildVocabulary(docs: readonly (readonly string[])[], options: VocabularyOptions): Vocabulary {
  const df = new Map<string, number>();
  for (const tokens of docs) {
    for (const term of new Set(ngrams(tokens))) df.set(term, (df.get(term) ?? 0) + 1);
  }
  const kept = [...df.entries()]
    .filter(([, d]) => d >= options.minDf)
    .sort((a, b) => b[1] - a[1] || byString(a[0], b[0]))
    .slice(0, options.maxFeatures)
    .map(([t]) => t);
  const terms = [...kept.filter((t) => !t.includes(' ')).sort(byString), ...kept.filter((t) => t.includes(' ')).sort(byString)];
  const n = docs.length;
  const idf = Float64Array.from(terms, (t) => Math.log((1 + n) / (1 + df.get(t)!)) + 1);
  return { terms, idf, index: new Map(terms.map((t, i) => [t, i])) };
}

/** A sparse, L2-normalised TF-IDF row: column indices ascending, with their values. */
export interface SparseRow {
  indices: Int32Array;
  values: Float64Array;
}

export function vectorize(vocab: Vocabulary, tokens: readonly string[]): SparseRow {
  const counts = new Map<number, number>();
  for (const term of ngrams(tokens)) {
    const j = vocab.index.get(term);
    if (j !== undefined) counts.set(j, (counts.get(j) ?? 0) + 1);
  }
  const indices = Int32Array.from([...counts.keys()].sort((a, b) => a - b));
  const values = Float64Array.from(indices, (j) => counts.get(j)! * vocab.idf[j]!);
  let norm = 0;
  for (const v of values) norm += v * v;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let k = 0; k < values.length; k++) values[k]! /= norm;
  return { indices, values };
}

export function vectorizeText(vocab: Vocabulary, text: string): SparseRow {
  return vectorize(vocab, tokenize(text));
}

// ---------------------------------------------------------------------------------------------
// Logistic regression

export interface LogReg {
  weights: Float64Array;
  intercept: number;
}

function dot(w: Float64Array, row: SparseRow): number {
  let z = 0;
  for (let k = 0; k < row.indices.length; k++) z += w[row.indices[k]!]! * row.values[k]!;
  return z;
}

function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** log(1 + e^z), without overflow. */
function softplus(z: number): number {
  return z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z));
}

/** p(positive) for one row. */
export function predictProba(model: LogReg, row: SparseRow): number {
  return sigmoid(dot(model.weights, row) + model.intercept);
}

export interface TrainOptions {
  /** L2 penalty on the weights (not the intercept), per example: loss = mean log-loss + l2/2 |w|^2. */
  l2: number;
  maxIterations: number;
  /** Stop when the largest gradient component is below this. */
  gradientTolerance: number;
  /** L-BFGS history length. */
  memory: number;
}

export interface TrainResult {
  model: LogReg;
  iterations: number;
  loss: number;
  gradientMax: number;
}

/**
 * Minimises the mean log-loss plus l2/2 |w|^2 with L-BFGS and a backtracking (Armijo) line search.
 * Parameters are [w_0 .. w_{F-1}, b]; labels are 0/1.
 */
export function trainLogReg(rows: readonly SparseRow[], labels: readonly number[], features: number, options: TrainOptions): TrainResult {
  const n = rows.length;
  const P = features + 1;
  const z = new Float64Array(n);

  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    const b = theta[features]!;
    for (let i = 0; i < n; i++) {
      const row = rows[i]!;
      let zi = b;
      for (let k = 0; k < row.indices.length; k++) zi += theta[row.indices[k]!]! * row.values[k]!;
      z[i] = zi;
      const y = labels[i]!;
      loss += softplus(zi) - y * zi;
      const r = (sigmoid(zi) - y) / n;
      for (let k = 0; k < row.indices.length; k++) grad[row.indices[k]!]! += r * row.values[k]!;
      grad[features]! += r;
    }
    loss /= n;
    let reg = 0;
    for (let j = 0; j < features; j++) {
      reg += theta[j]! * theta[j]!;
      grad[j]! += options.l2 * theta[j]!;
    }
    return loss + (options.l2 / 2) * reg;
  };

  const dotDense = (a: Float64Array, b: Float64Array): number => {
    let s = 0;
    for (let j = 0; j < P; j++) s += a[j]! * b[j]!;
    return s;
  };
  const maxAbs = (a: Float64Array): number => {
    let m = 0;
    for (let j = 0; j < P; j++) m = Math.max(m, Math.abs(a[j]!));
    return m;
  };

  let theta = new Float64Array(P);
  let grad = new Float64Array(P);
  let f = evaluate(theta, grad);
  const sHist: Float64Array[] = [];
  const yHist: Float64Array[] = [];
  const rhoHist: number[] = [];
  const direction = new Float64Array(P);
  const alpha = new Float64Array(options.memory);
  let iterations = 0;

  while (iterations < options.maxIterations && maxAbs(grad) >= options.gradientTolerance) {
    iterations++;
    // Two-loop recursion: direction = -H grad.
    for (let j = 0; j < P; j++) direction[j] = -grad[j]!;
    for (let h = sHist.length - 1; h >= 0; h--) {
      const a = rhoHist[h]! * dotDense(sHist[h]!, direction);
      alpha[h] = a;
      const y = yHist[h]!;
      for (let j = 0; j < P; j++) direction[j]! -= a * y[j]!;
    }
    if (sHist.length > 0) {
      const last = sHist.length - 1;
      const gamma = dotDense(sHist[last]!, yHist[last]!) / dotDense(yHist[last]!, yHist[last]!);
      for (let j = 0; j < P; j++) direction[j]! *= gamma;
    } else {
      const scale = 1 / Math.sqrt(dotDense(grad, grad));
      for (let j = 0; j < P; j++) direction[j]! *= scale;
    }
    for (let h = 0; h < sHist.length; h++) {
      const y = yHist[h]!;
      const beta = rhoHist[h]! * dotDense(y, direction);
      const s = sHist[h]!;
      for (let j = 0; j < P; j++) direction[j]! += (alpha[h]! - beta) * s[j]!;
    }

    const slope = dotDense(grad, direction);
    if (!(slope < 0)) break; // not a descent direction: converged as far as float64 allows
    let step = 1;
    const next = new Float64Array(P);
    const nextGrad = new Float64Array(P);
    let fNext = Infinity;
    for (let tries = 0; tries < 40; tries++) {
      for (let j = 0; j < P; j++) next[j] = theta[j]! + step * direction[j]!;
      fNext = evaluate(next, nextGrad);
      if (fNext <= f + 1e-4 * step * slope) break;
      step /= 2;
    }
    if (!(fNext < f)) break;

    const s = new Float64Array(P);
    const y = new Float64Array(P);
    for (let j = 0; j < P; j++) {
      s[j] = next[j]! - theta[j]!;
      y[j] = nextGrad[j]! - grad[j]!;
    }
    const sy = dotDense(s, y);
    if (sy > 1e-12) {
      if (sHist.length === options.memory) {
        sHist.shift();
        yHist.shift();
        rhoHist.shift();
      }
      sHist.push(s);
      yHist.push(y);
      rhoHist.push(1 / sy);
    }
    theta = next;
    grad = nextGrad;
    f = fNext;
  }

  return {
    model: { weights: theta.slice(0, features), intercept: theta[features]! },
    iterations,
    loss: f,
    gradientMax: maxAbs(grad),
  };
}

// ---------------------------------------------------------------------------------------------
// Metrics

export interface Metrics {
  n: number;
  accuracy: number;
  /** Of the messages called spam, the share that are spam. */
  precision: number;
  /** Of the spam, the share called spam. */
  recall: number;
  confusion: { tp: number; fp: number; tn: number; fn: number };
}

export function metrics(labels: readonly number[], probabilities: readonly number[], threshold = 0.5): Metrics {
  let tp = 0;
  let fp = 0;
  let tn = 0;
  let fn = 0;
  labels.forEach((y, i) => {
    const spam = probabilities[i]! >= threshold;
    if (spam && y === 1) tp++;
    else if (spam) fp++;
    else if (y === 1) fn++;
    else tn++;
  });
  const n = labels.length;
  return { n, accuracy: (tp + tn) / n, precision: tp / Math.max(1, tp + fp), recall: tp / Math.max(1, tp + fn), confusion: { tp, fp, tn, fn } };
}
